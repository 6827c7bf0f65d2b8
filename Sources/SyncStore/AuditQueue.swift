import GRDB
import SyncModel

/// Appends audit entries that need no transaction of their own (pulls, exports, summaries)
/// in group commits (`GroupCommitter`): two hundred devices pulling at once cost a few
/// transactions, not two hundred. Every `append` returns only once its entry is durable.
public struct AuditQueue: Sendable {
    /// One entry: who, which device, what, and which record ids — never contents.
    public struct Entry: Sendable {
        public var action: String
        public var user: String?
        public var device: DeviceID?
        public var records: [RecordID]
        public var at: Int64

        public init(_ action: String, user: String?, device: DeviceID?, records: [RecordID], at: Int64) {
            self.action = action
            self.user = user
            self.device = device
            self.records = records
            self.at = at
        }
    }

    private let committer: GroupCommitter<Entry, Void>

    init(writer: any DatabaseWriter) {
        committer = GroupCommitter(writer: writer, maxBatch: 256) { db, entry in
            try ReplicaStore.audit(entry.action, user: entry.user, device: entry.device, records: entry.records, at: entry.at, in: db)
        }
    }

    /// Writes `entry` to the audit log; returns when it is committed.
    public func append(_ entry: Entry) async throws {
        try await committer.submit(entry)
    }
}
