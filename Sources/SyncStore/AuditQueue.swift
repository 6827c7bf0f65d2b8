import GRDB
import NodeStorage
import SyncModel

/// Appends audit entries that need no transaction of their own (pulls, exports, summaries)
/// in group commits (`GroupCommitter`): two hundred devices pulling at once cost a few
/// transactions, not two hundred. Every `append` returns only once its entry is durable.
struct AuditQueue: Sendable {
    private let committer: GroupCommitter<AuditEvent, Void>

    init(writer: any DatabaseWriter) {
        committer = GroupCommitter(writer: writer, maxBatch: 256) { db, entry in
            try SQLiteNodeStore.audit(entry.action, user: entry.user, device: entry.device, records: entry.records, detail: entry.detail, at: entry.at, in: db)
        }
    }

    /// Writes `entry` to the audit log; returns when it is committed.
    func append(_ entry: AuditEvent) async throws {
        try await committer.submit(entry)
    }
}
