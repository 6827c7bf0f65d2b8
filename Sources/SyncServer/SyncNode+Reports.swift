import Foundation
import GRDB
import SyncModel
import SyncStore

extension SyncNode {
    /// Reporting is for reporters and supervisors. Mediators sync instead; admins manage
    /// users and devices and see no case data, not even redacted.
    static func requireReportRole(_ account: DeviceAccount) throws {
        switch account.user.role {
        case .reporter, .supervisor: return
        case .mediator: throw APIError(.forbidden, "forbidden", "a mediator device may not export or read the summary; ask a reporter")
        case .admin: throw APIError(.forbidden, "forbidden", "an admin device sees no case data; reports are for reporter and supervisor devices")
        }
    }

    /// One page of records changed after `since` (of `type`, if given), in sequence order.
    public func exportPage(type: RecordType?, since: Int, limit: Int) async throws -> [(seq: Int, state: RecordState)] {
        try await store.writer.read { db in
            var sql = "SELECT seq, state FROM record WHERE seq > ?"
            var arguments: StatementArguments = [since]
            if let type {
                sql += " AND type = ?"
                arguments += [type.rawValue]
            }
            return try GRDB.Row.fetchAll(db, sql: sql + " ORDER BY seq LIMIT ?", arguments: arguments + [limit]).map { row in
                (row[0], try RecordState(json: [UInt8](row[1] as Data)))
            }
        }
    }

    func auditExport(_ account: DeviceAccount, action: String, at time: Int64) async throws {
        try await store.audits.append(AuditQueue.Entry(action, user: account.user.name, device: account.id, records: [], at: time))
    }

    /// The outcome summary (see `ReportSummary`), computed over a cursor: one record state in
    /// memory at a time, whatever the number of records.
    public func summary(from: String?, to: String?, site: String?, today: String) async throws -> ReportSummary {
        try await store.writer.read { db in
            var summary = ReportSummary(from: from, to: to, site: site)
            var included: Set<String> = []
            let cases = try GRDB.Row.fetchCursor(db, sql: "SELECT state FROM record WHERE type = 'case' AND deleted = 0")
            while let row = try cases.next() {
                let state = try RecordState(json: [UInt8](row[0] as Data))
                if summary.add(case: state) { included.insert(state.id.rawValue) }
            }
            let others = try GRDB.Row.fetchCursor(db, sql: "SELECT caseID, state FROM record WHERE type IN ('action', 'feedback') AND deleted = 0")
            while let row = try others.next() {
                guard included.contains(row[0] as String) else { continue }
                summary.add(try RecordState(json: [UInt8](row[1] as Data)), today: today)
            }
            return summary
        }
    }
}
