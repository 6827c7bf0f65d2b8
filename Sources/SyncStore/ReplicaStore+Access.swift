import Foundation
import GRDB
import SyncModel
import SyncProtocol

/// A device's side of break-glass access and restricted metadata (PROTOCOL.md §13.5): the
/// grants it is told of, and on a supervisor's device the metadata of restricted cases it
/// may not hold. Neither is a record: neither is merged, queued or pushed.
extension ReplicaStore {
    /// Stores a page's metadata (each replaces the case's earlier one; a deleted case's is
    /// removed) and grants, in the page's transaction, sealed in an encrypted replica.
    func store(_ metadata: [CaseMetadata], grants: [AccessGrant], in db: Database) throws {
        for meta in metadata {
            if meta.deleted {
                try db.cachedStatement(sql: "DELETE FROM caseMetadata WHERE caseID = ?").execute(arguments: [meta.caseID.rawValue])
                continue
            }
            var arguments: StatementArguments = [meta.caseID.rawValue, meta.seq]
            for field in CaseMetadata.fields {
                arguments += [try sealer.seal(text: meta.values[field], place: RecordSealer.Place.metadata(meta.caseID.rawValue, field))]
            }
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO caseMetadata (caseID, seq, \(CaseMetadata.fields.joined(separator: ", "))) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: arguments)
        }
        for grant in grants {
            let reason = try sealer.seal(text: grant.reason, place: RecordSealer.Place.grant(grant.caseID.rawValue, grant.user, grant.seq))
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO accessGrant (caseID, user, seq, reason, granted, until) VALUES (?, ?, ?, ?, ?, ?)")
                .execute(arguments: [grant.caseID.rawValue, grant.user, grant.seq, reason, grant.granted, grant.until])
        }
    }

    /// Removes the grants of cases this device does not hold (their case was dropped, or it
    /// never came): a grant is shown only with its case. Run after a sync's last page.
    public func forgetGrantsOfCasesNotHeld() throws {
        try writer.write { db in
            try db.execute(sql: "DELETE FROM accessGrant WHERE caseID NOT IN (SELECT id FROM record WHERE type = 'case')")
        }
    }

    /// The metadata this device holds of restricted cases it does not hold, as case-list
    /// lines (`CaseSummary.metadataOnly`), filtered like `cases`.
    func metadataSummaries(status: String?, site: String?, in db: Database) throws -> [CaseSummary] {
        try heldMetadata(in: db).compactMap { meta in
            let summary = CaseSummary(id: meta.caseID, reference: meta.values["reference"] ?? "", title: "", status: meta.values["status"] ?? "",
                                      site: meta.values["site"], conflicted: false, changed: 0, metadataOnly: true)
            return summary.matches(status: status, site: site) ? summary : nil
        }
    }

    /// The metadata of every restricted case this device holds that and not the case itself,
    /// opened (a supervisor's device holds a few: they are filtered here, not in SQL, since
    /// an encrypted replica's columns are sealed).
    private func heldMetadata(in db: Database) throws -> [CaseMetadata] {
        let sql = "SELECT caseID, seq, \(CaseMetadata.fields.joined(separator: ", ")) FROM caseMetadata m WHERE NOT EXISTS (SELECT 1 FROM record r WHERE r.id = m.caseID) ORDER BY caseID"
        return try GRDB.Row.fetchAll(db, sql: sql).compactMap { row in
            guard let id = try? RecordID(row[0] as String) else { return nil }
            return try metadata(of: id, from: row)
        }
    }

    /// A caseMetadata row (`seq` and the fields by name) as metadata, opened.
    private func metadata(of id: RecordID, from row: GRDB.Row) throws -> CaseMetadata {
        var values: [String: String] = [:]
        for field in CaseMetadata.fields {
            if let value = try sealer.openText(row[field], place: RecordSealer.Place.metadata(id.rawValue, field)) { values[field] = value }
        }
        return CaseMetadata(caseID: id, seq: row["seq"], deleted: false, values: values)
    }

    /// The metadata of restricted case `id`, if this device holds it and not the case.
    public func caseMetadata(_ id: RecordID) throws -> CaseMetadata? {
        try writer.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM record WHERE id = ?", arguments: [id.rawValue]) != true,
                  let row = try GRDB.Row.fetchOne(db, sql: "SELECT seq, \(CaseMetadata.fields.joined(separator: ", ")) FROM caseMetadata WHERE caseID = ?",
                                                  arguments: [id.rawValue]) else { return nil }
            return try metadata(of: id, from: row)
        }
    }

    /// The restricted case whose metadata this device holds that `text` names (its id, its
    /// reference, or the last 4+ hex digits of its id), or nil.
    public func metadataCase(named text: String) throws -> RecordID? {
        try writer.read { db in
            let lowered = text.lowercased()
            let ids = try GRDB.Row.fetchAll(db, sql: "SELECT caseID, seq, \(CaseMetadata.fields.joined(separator: ", ")) FROM caseMetadata ORDER BY caseID").compactMap { row -> RecordID? in
                guard let id = try? RecordID(row[0] as String) else { return nil }
                if id.rawValue == lowered || (text.count >= 4 && id.rawValue.hasSuffix(lowered)) { return id }
                return try metadata(of: id, from: row).values["reference"] == text.uppercased() ? id : nil
            }
            return ids.count == 1 ? ids[0] : nil
        }
    }

    /// The break-glass grants this device was told of for case `caseID`, oldest first.
    public func accessGrants(of caseID: RecordID) throws -> [AccessGrant] {
        try writer.read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT user, reason, granted, until, seq FROM accessGrant WHERE caseID = ? ORDER BY seq",
                                  arguments: [caseID.rawValue]).map { row in
                let user: String = row[0], seq: Int = row[4]
                let reason = try sealer.openText(row[1], place: RecordSealer.Place.grant(caseID.rawValue, user, seq)) ?? ""
                return AccessGrant(caseID: caseID, user: user, reason: reason, granted: row[2], until: row[3], seq: seq)
            }
        }
    }
}
