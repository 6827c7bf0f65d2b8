import Synchronization

/// The node's directory as last encoded, by its version: after a change to users, devices
/// or sites every device fetches it once (PROTOCOL.md §15), so a node with hundreds of
/// devices would otherwise read and encode the same answer hundreds of times in a minute.
/// Keyed by the version the store gives, so several nodes on one database stay right: a
/// version this node has not encoded is read afresh.
final class DirectoryCache: Sendable {
    struct Entry {
        let version: Int
        /// For mediator and supervisor devices.
        let full: [UInt8]
        /// For reporter and admin devices: the sites only.
        let sitesOnly: [UInt8]
    }

    private let entry = Mutex<Entry?>(nil)

    /// The encoded answer for `version`, if it is the one held.
    func answer(version: Int, people: Bool) -> [UInt8]? {
        entry.withLock { held in
            guard let held, held.version == version else { return nil }
            return people ? held.full : held.sitesOnly
        }
    }

    /// Holds `new` unless a later version is held already.
    func keep(_ new: Entry) {
        entry.withLock { held in
            if (held?.version ?? Int.min) <= new.version { held = new }
        }
    }
}
