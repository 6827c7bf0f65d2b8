import Foundation
import GRDB
import SyncModel
import SyncStore

/// One page of a pull: canonical record states in delivery order, the cursor to pass next
/// time, and whether more are waiting.
public struct PullPage: Sendable {
    public let states: [[UInt8]]
    /// The delivery sequence of the last record served (or the request's `since`).
    public let next: Int
    /// Set when the page ended inside a delivery sequence that holds more records (a case
    /// granted with its whole history shares one): the change sequence of the last record
    /// served, to pass as `after` with `since=next`.
    public let after: Int?
    public let more: Bool
}

extension SyncNode {
    /// The records that `account` may see after the cursor (`since`, and `after` within it),
    /// at most `limit` of them.
    ///
    /// A record's delivery sequence is its change sequence, or for a mediator the sequence at
    /// which they gained access to its case if that is later: a mediator added to a case gets
    /// its whole history on the next pull although the records are older than their cursor.
    /// Records are served in (delivery, change sequence) order, so a page may end inside a
    /// delivery sequence and the next one carries on after the last record served: pages stay
    /// at most `limit` records however large a granted case is. A cursor of `since` alone (as
    /// every cursor was before) means "after all of delivery `since`". Only the page is read
    /// into memory.
    public func pull(since: Int, after: Int? = nil, limit: Int, for account: DeviceAccount) async throws -> PullPage {
        try Self.requireSyncRole(account)
        let time = now()
        let page = try await store.writer.read { db -> (rows: [(delivery: Int, seq: Int, state: Data, id: String)], more: Bool) in
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
            let (condition, extra): (String, StatementArguments) = after.map { ("delivery > ? OR (delivery = ? AND seq > ?)", [since, since, $0]) } ?? ("delivery > ?", [since])
            // Four statements in all (two scopes, with or without `after`): prepared once.
            let statement = try db.cachedStatement(sql: "SELECT * FROM (\(select)) WHERE \(condition) ORDER BY delivery, seq LIMIT ?")
            var rows = try GRDB.Row.fetchAll(statement, arguments: arguments + extra + [limit + 1]).map { (delivery: $0[0] as Int, seq: $0[1] as Int, state: $0[2] as Data, id: $0[3] as String) }
            let more = rows.count > limit
            if more { rows.removeLast() }
            // No delivery sequence is above the highest change sequence. A cursor beyond it
            // was given by this node before it was restored from an older backup.
            if rows.isEmpty, since > 0, since > max(try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(seq) FROM record")) ?? 0, sequenceFloor) {
                throw APIError(.conflict, "cursor_ahead", "this pull cursor (\(since)) is ahead of the node: it was restored from an older backup; start the pull over (`casesync sync` does) and re-send what you hold")
            }
            return (rows, more)
        }
        let ids = page.rows.compactMap { try? RecordID($0.id) }
        try await store.audits.append(AuditQueue.Entry("pull", user: account.user.name, device: account.id, records: ids, at: time))
        guard let last = page.rows.last else { return PullPage(states: [], next: since, after: after, more: false) }
        // Carrying on inside the last delivery is needed only when the page stopped in it;
        // otherwise the plain cursor says the same.
        return PullPage(states: page.rows.map { [UInt8]($0.state) }, next: last.delivery, after: page.more ? last.seq : nil, more: page.more)
    }
}
