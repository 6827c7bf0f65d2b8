import Foundation
import SyncStore

/// The offline lease (PROTOCOL.md §19): a device that has not reached its node for longer
/// than the lease its node gave it at enrollment locks its case data until a `casesync sync`
/// succeeds. The node's wipe needs contact; the lease covers the laptop that never comes back.
///
/// Both values are sealed settings of the replica. The rule is kept by `casesync` itself,
/// offline: it stops a holder of the passphrase from reading on, not one who rebuilds the
/// program; a clock set back before the last contact locks too, so it is not extended that way.
struct OfflineLease: Equatable {
    static let leaseKey = "leaseSeconds"
    static let contactKey = "lastContact"
    /// A clock this far behind the last contact is treated as set back (a trip across time
    /// zones does not move a UTC clock; a laptop's small drift stays well within a day).
    static let clockTolerance: Int64 = 86_400_000

    /// The lease, in seconds.
    let seconds: Int64
    /// When the device last synced with its node (milliseconds, its own clock).
    let lastContact: Int64

    /// Until when the case data stays open.
    var until: Int64 { lastContact + seconds * 1000 }

    /// Whether the case data is locked at `now`.
    func isExpired(at now: Int64) -> Bool {
        now > until || now < lastContact - Self.clockTolerance
    }

    /// The lease of an enrolled replica; nil for one never enrolled (no node, no lease). An
    /// enrolled replica made before leases existed counts from now, with the default lease.
    static func read(_ store: ReplicaStore, now: Int64) throws -> OfflineLease? {
        guard try store.setting("secret") != nil else { return nil }
        let seconds = try store.setting(leaseKey).flatMap(Int64.init) ?? defaultSeconds
        guard let contact = try store.setting(contactKey).flatMap(Int64.init) else {
            try store.setSetting(contactKey, String(now))
            return OfflineLease(seconds: seconds, lastContact: now)
        }
        return OfflineLease(seconds: seconds, lastContact: contact)
    }

    /// Records a successful contact with the node at `now` (and the lease it gave, at enrollment).
    static func recordContact(_ store: ReplicaStore, at now: Int64, lease: Int64? = nil) throws {
        if let lease { try store.setSetting(leaseKey, String(lease)) }
        try store.setSetting(contactKey, String(now))
    }

    /// The lease a node older than leases implies: 30 days, as `casesyncd enroll` gives.
    static let defaultSeconds: Int64 = 30 * 86_400

    /// Throws `lockedError` when the lease of the replica in `store` is over at `now`.
    static func enforce(_ store: ReplicaStore, now: Int64) throws {
        if let lease = try read(store, now: now), lease.isExpired(at: now) { throw lease.lockedError(at: now) }
    }

    /// The error a command that reads or writes case data stops with once the lease is over.
    func lockedError(at now: Int64) -> CLIError {
        let days = seconds % 86_400 == 0 ? "\(seconds / 86_400) days" : "\(seconds / 3600) hours"
        if now < lastContact - Self.clockTolerance {
            return CLIError(.unauthorised, "this device's clock is behind its last sync (\(WallClock.human(lastContact))): its case data is locked until the clock is right and `casesync sync` succeeds")
        }
        return CLIError(.unauthorised, "this device has not reached its node since \(WallClock.human(lastContact)), longer than its offline lease of \(days): its case data is locked until `casesync sync` succeeds")
    }
}
