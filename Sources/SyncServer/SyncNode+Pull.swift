import Foundation
import GRDB
import SyncModel
import SyncStore

/// One page of a pull: canonical record states in sequence order, the cursor to pass as
/// `since` next time, and whether more are waiting.
public struct PullPage: Sendable {
    public let states: [[UInt8]]
    public let next: Int
    public let more: Bool
}

extension SyncNode {
    /// The records changed after `since` that `account` may see, at most about `limit`.
    ///
    /// A record's delivery sequence is its change sequence, or for a mediator the sequence at
    /// which they gained access to its case if that is later: a mediator added to a case gets
    /// its whole history on the next pull although the records are older than their cursor.
    /// Records sharing the page's last delivery sequence all go in the same page, so the cursor
    /// stays a plain number. Only the page is read into memory.
    public func pull(since: Int, limit: Int, for account: DeviceAccount) async throws -> PullPage {
        try Self.requireSyncRole(account)
        let time = now()
        let page = try await store.writer.read { db -> (rows: [(Int, Int, Data, String)], more: Bool) in
            let (select, arguments): (String, StatementArguments)
            if account.user.role == .supervisor {
                select = "SELECT r.seq AS delivery, r.seq, r.state, r.id FROM record r WHERE r.seq IS NOT NULL"
                arguments = []
            } else {
                select = """
                    SELECT MAX(r.seq, a.grantedSeq) AS delivery, r.seq, r.state, r.id
                    FROM caseAccess a JOIN record r ON r.caseID = a.caseID
                    WHERE a.user = ? AND r.seq IS NOT NULL
                    """
                arguments = [account.user.name]
            }
            func fetch(_ condition: String, _ extra: StatementArguments, limit: Int?) throws -> [(Int, Int, Data, String)] {
                let sql = "SELECT * FROM (\(select)) WHERE \(condition) ORDER BY delivery, seq" + (limit.map { " LIMIT \($0)" } ?? "")
                return try GRDB.Row.fetchAll(db, sql: sql, arguments: arguments + extra).map { ($0[0], $0[1], $0[2], $0[3]) }
            }
            var rows = try fetch("delivery > ?", [since], limit: limit + 1)
            guard rows.count > limit else { return (rows, false) }
            let overflow = rows.removeLast()
            guard let last = rows.last else { return (rows, true) }
            if overflow.0 == last.0 {
                rows += try fetch("delivery = ? AND seq > ?", [last.0, last.1], limit: nil)
                let more = try fetch("delivery > ?", [last.0], limit: 1)
                return (rows, !more.isEmpty)
            }
            return (rows, true)
        }
        let ids = page.rows.compactMap { try? RecordID($0.3) }
        try await store.writer.write { db in
            try ReplicaStore.audit("pull", user: account.user.name, device: account.id, records: ids, at: time, in: db)
        }
        return PullPage(states: page.rows.map { [UInt8]($0.2) }, next: page.rows.last?.0 ?? since, more: page.more)
    }
}
