import SyncModel

/// One push as the node's store applies it: states already validated one by one (`push`
/// validates them before it asks the store, so that work runs while another batch commits).
public struct NodePush: Sendable {
    public let account: DeviceAccount
    public let states: [ReceivedState]
    /// Milliseconds since the Unix epoch: the stamp of any write the node adds, and the
    /// audit entry's time.
    public let time: Int64
    /// Set while the node takes back lost writes after a restore.
    public let restoreWindow: RestoreWindow?

    public init(account: DeviceAccount, states: [ReceivedState], time: Int64, restoreWindow: RestoreWindow?) {
        self.account = account
        self.states = states
        self.time = time
        self.restoreWindow = restoreWindow
    }
}

/// One pushed record's answer: its merged version vector and whether it holds a conflict.
public struct PushResult: Sendable, Hashable {
    public let id: RecordID
    public let version: VersionVector
    public let conflict: Bool

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
        public let delivery: Int
        public let seq: Int
        public let id: RecordID
        public let state: [UInt8]

        public init(delivery: Int, seq: Int, id: RecordID, state: [UInt8]) {
            self.delivery = delivery
            self.seq = seq
            self.id = id
            self.state = state
        }
    }

    public let records: [Record]
    /// Whether more records follow the page.
    public let more: Bool
    /// When the page is empty: the highest delivery sequence the node has given (a cursor
    /// beyond it comes from before the node was restored from an older backup).
    public let highestSequence: Int?

    public init(records: [Record], more: Bool, highestSequence: Int?) {
        self.records = records
        self.more = more
        self.highestSequence = highestSequence
    }
}
