import NodeStorage
import SyncModel
import SyncProtocol

extension SyncNode {
    /// Reporting is for reporters and supervisors. Mediators sync instead; admins manage
    /// users and devices and see no case data, not even redacted.
    static func requireReportRole(_ account: DeviceAccount) throws {
        switch account.user.role {
        case .reporter, .supervisor: return
        case .mediator: throw NodeError(.forbidden, "a mediator device may not export or read the summary; ask a reporter")
        case .admin: throw NodeError(.forbidden, "an admin device sees no case data; reports are for reporter and supervisor devices")
        }
    }

    /// One page of records changed after `since` (of `type`, if given), in sequence order,
    /// and where the next page starts (`next`, the page's last sequence; nil after the last
    /// page). A party that withheld consent to share, and feedback naming such a party, are
    /// left out (`ExportRow.withholdsConsent`); the page may then hold fewer than `limit`.
    public func exportPage(type: RecordType?, since: Int, limit: Int) async throws -> (rows: [(seq: Int, state: RecordState)], next: Int?) {
        let page = try await store.exportPage(type: type, since: since, limit: limit)
        let named = Set(page.compactMap { row in row.state.type == .feedback ? row.state.text("party").flatMap { try? RecordID($0) } : nil })
        var parties = try await store.records(Array(named))
        for row in page where row.state.type == .party { parties[row.state.id] = row.state }
        let rows = page.filter { row in
            switch row.state.type {
            case .party: !ExportRow.withholdsConsent(row.state)
            case .feedback: !(row.state.text("party").flatMap { try? RecordID($0) }.flatMap { parties[$0] }.map(ExportRow.withholdsConsent) ?? false)
            default: true
            }
        }
        return (rows, page.count < limit ? nil : page.last?.seq)
    }

    func auditExport(_ account: DeviceAccount, action: String, at time: Int64) async throws {
        try await store.appendAudit(AuditEvent(action, user: account.user.name, device: account.id, records: [], at: time))
    }

    /// The outcome summary (see `ReportSummary`), computed by the store over a cursor: one
    /// record state in memory at a time, whatever the number of records.
    public func summary(from: String?, to: String?, site: String?, today: String) async throws -> ReportSummary {
        try await store.summary(ReportSummary(from: from, to: to, site: site), today: today)
    }
}
