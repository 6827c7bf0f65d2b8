import Foundation
import GRDB
import SyncModel
import SyncProtocol

/// A device's side of break-glass access and restricted metadata (PROTOCOL.md §13.5): the
/// grants it is told of, and on a supervisor's device the metadata of restricted cases it
/// may not hold. Neither is a record: neither is merged, queued or pushed.
extension ReplicaStore {
    /// Stores a page's metadata (each replaces the case's earlier one; a deleted case's is
    /// removed) and grants, in the page's transaction.
    static func store(_ metadata: [CaseMetadata], grants: [AccessGrant], in db: Database) throws {
        for meta in metadata {
            if meta.deleted {
                try db.cachedStatement(sql: "DELETE FROM caseMetadata WHERE caseID = ?").execute(arguments: [meta.caseID.rawValue])
                continue
            }
            try db.cachedStatement(sql: """
                INSERT OR REPLACE INTO caseMetadata (caseID, seq, reference, status, site, kind, opened, agreed, closed) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [meta.caseID.rawValue, meta.seq, meta.values["reference"], meta.values["status"], meta.values["site"],
                                         meta.values["kind"], meta.values["opened"], meta.values["agreed"], meta.values["closed"]])
        }
        for grant in grants {
            try db.cachedStatement(sql: "INSERT OR REPLACE INTO accessGrant (caseID, user, seq, reason, granted, until) VALUES (?, ?, ?, ?, ?, ?)")
                .execute(arguments: [grant.caseID.rawValue, grant.user, grant.seq, grant.reason, grant.granted, grant.until])
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
    static func metadataSummaries(status: String?, site: String?, in db: Database) throws -> [CaseSummary] {
        let (filter, arguments) = caseListFilter(status: status, site: site)
        let sql = "SELECT caseID, reference, status, site FROM caseMetadata m WHERE NOT EXISTS (SELECT 1 FROM record r WHERE r.id = m.caseID)" + filter
        return try GRDB.Row.fetchAll(db, sql: sql, arguments: arguments).compactMap { row in
            guard let id = try? RecordID(row[0] as String) else { return nil }
            return CaseSummary(id: id, reference: row[1] ?? "", title: "", status: row[2] ?? "", site: row[3], conflicted: false, changed: 0, metadataOnly: true)
        }
    }

    /// The metadata of restricted case `id`, if this device holds it and not the case.
    public func caseMetadata(_ id: RecordID) throws -> CaseMetadata? {
        try writer.read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM record WHERE id = ?", arguments: [id.rawValue]) != true,
                  let row = try GRDB.Row.fetchOne(db, sql: "SELECT seq, reference, status, site, kind, opened, agreed, closed FROM caseMetadata WHERE caseID = ?",
                                                  arguments: [id.rawValue]) else { return nil }
            var values: [String: String] = [:]
            for field in CaseMetadata.fields {
                if let value: String = row[field] { values[field] = value }
            }
            return CaseMetadata(caseID: id, seq: row["seq"], deleted: false, values: values)
        }
    }

    /// The restricted case whose metadata this device holds that `text` names (its id, its
    /// reference, or the last 4+ hex digits of its id), or nil.
    public func metadataCase(named text: String) throws -> RecordID? {
        try writer.read { db in
            let ids = try String.fetchAll(db, sql: """
                SELECT caseID FROM caseMetadata WHERE caseID = ? OR reference = ? OR (length(?) >= 4 AND caseID LIKE ?) LIMIT 2
                """, arguments: [text.lowercased(), text.uppercased(), text, "%" + text.lowercased()])
            guard ids.count == 1 else { return nil }
            return try? RecordID(ids[0])
        }
    }

    /// The break-glass grants this device was told of for case `caseID`, oldest first.
    public func accessGrants(of caseID: RecordID) throws -> [AccessGrant] {
        try writer.read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT user, reason, granted, until, seq FROM accessGrant WHERE caseID = ? ORDER BY seq",
                                  arguments: [caseID.rawValue]).map { row in
                AccessGrant(caseID: caseID, user: row[0], reason: row[1], granted: row[2], until: row[3], seq: row[4])
            }
        }
    }
}
