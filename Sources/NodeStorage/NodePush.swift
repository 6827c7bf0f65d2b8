import SyncModel
import SyncProtocol

/// One push as the node's store applies it: states already validated one by one (`push`
/// validates them before it asks the store, so that work runs while another batch commits).
public struct NodePush: Sendable {
    /// The pushing device, with its user as of this request (the role decides the scope).
    public let account: DeviceAccount
    /// The pushed states in the batch's order, each with its bytes when they arrived canonical.
    public let states: [ReceivedState]
    /// Milliseconds since the Unix epoch: the stamp of any write the node adds, and the
    /// audit entry's time.
    public let time: Int64
    /// Set while the node takes back lost writes after a restore.
    public let restoreWindow: RestoreWindow?

    /// A push to hand to `NodeStore.applyPush`.
    public init(account: DeviceAccount, states: [ReceivedState], time: Int64, restoreWindow: RestoreWindow?) {
        self.account = account
        self.states = states
        self.time = time
        self.restoreWindow = restoreWindow
    }
}

/// One pushed record's answer: its merged version vector and whether it holds a conflict.
public struct PushResult: Sendable, Hashable {
    /// The pushed record's id.
    public let id: RecordID
    /// The record's version vector after the merge, as the node stores it (`vv` on the wire).
    public let version: VersionVector
    /// Whether the merged record holds a conflict.
    public let conflict: Bool

    /// One record's answer.
    public init(id: RecordID, version: VersionVector, conflict: Bool) {
        self.id = id
        self.version = version
        self.conflict = conflict
    }
}

/// What applying a push did.
public struct PushOutcome: Sendable {
    /// One answer per pushed state, in the batch's order.
    public let results: [PushResult]
    /// The highest change sequence number after the push.
    public let seq: Int
    /// Records whose stored state changed.
    public let changed: Int
    /// Records that hold a conflict after the merge.
    public let conflicts: Int

    /// What a store reports after committing a push.
    public init(results: [PushResult], seq: Int, changed: Int, conflicts: Int) {
        self.results = results
        self.seq = seq
        self.changed = changed
        self.conflicts = conflicts
    }
}

/// Records a device may pull, in delivery order (see `NodeStore.pullPage`).
public struct PulledRecords: Sendable {
    /// One record served: its delivery sequence, change sequence and canonical state.
    public struct Record: Sendable {
        /// The delivery sequence it is served at: its change sequence, or for a mediator the later
        /// sequence at which they were granted its case.
        public let delivery: Int
        /// Its change sequence (a page that ends inside a delivery gives it as `after`).
        public let seq: Int
        /// The record's id.
        public let id: RecordID
        /// The stored state's canonical JSON, sent as it is.
        public let state: [UInt8]
        /// Set for a restricted case the user may not hold: only its metadata is served
        /// (`CaseMetadata`, projected by the server), never the state.
        public let metadataOnly: Bool

        /// One record as a store serves it.
        public init(delivery: Int, seq: Int, id: RecordID, state: [UInt8], metadataOnly: Bool = false) {
            self.delivery = delivery
            self.seq = seq
            self.id = id
            self.state = state
            self.metadataOnly = metadataOnly
        }
    }

    /// The page, in (delivery, change sequence) order: at most the `limit` asked for.
    public let records: [Record]
    /// Whether more records follow the page.
    public let more: Bool
    /// When the page is empty: the highest delivery sequence the node has given (a cursor
    /// beyond it comes from before the node was restored from an older backup).
    public let highestSequence: Int?
    /// What the user's devices must drop, in sequence order: the drops after the cursor, up
    /// to the page's last delivery sequence (or all of them, on the last page).
    public let drops: [DropNotice]
    /// The highest sequence at or below the cursor's `since` at which this user lost a right:
    /// a device asking from there has been told of it (see `NodeStore.markTold`).
    public let toldDrop: Int?
    /// The break-glass grants the user is told of, in sequence order, up to the page's last
    /// delivery sequence like `drops`: of the cases they mediate, and their own.
    public var grants: [AccessGrant] = []
    /// The directory's version number as the page was read (`NodeStore.directory`): a device
    /// that holds another fetches the directory again.
    public var directoryVersion = 0

    /// A page as a store reads it.
    public init(records: [Record], more: Bool, highestSequence: Int?, drops: [DropNotice] = [], toldDrop: Int? = nil) {
        self.records = records
        self.more = more
        self.highestSequence = highestSequence
        self.drops = drops
        self.toldDrop = toldDrop
    }
}
