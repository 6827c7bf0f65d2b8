import Foundation
import GRDB
import SyncModel

extension ReplicaStore {
    /// The stored state of `id`, if any.
    public func record(_ id: RecordID) throws -> RecordState? {
        try writer.read { db in try Self.load(id, in: db, sealer: sealer) }
    }

    /// Finds the record a person means by `text`: a full id, a case reference
    /// (`MED-2026-…`, any letter case), or the last 4+ hex digits of an id, as lists show.
    ///
    /// - Throws: `not_found` when nothing matches, `ambiguous` when several records do.
    public func resolve(_ text: String, type: RecordType? = nil) throws -> RecordID {
        let what = type?.rawValue ?? "record"
        if let id = try? RecordID(text.lowercased()) {
            guard let stored = try record(id), type == nil || stored.type == type else {
                throw StoreError(.notFound, "no \(what) \(text) here")
            }
            return id
        }
        return try writer.read { db in
            // A reference names a case: only when a case (or any record) is asked for.
            let byReference = type == nil || type == .case ? try caseIDs(withReference: text.uppercased(), in: db) : []
            var matches = byReference
            if matches.isEmpty, text.count >= 4, text.allSatisfy(\.isHexDigit) {
                var sql = "SELECT id FROM record WHERE id LIKE ?"
                var arguments: StatementArguments = ["%" + text.lowercased()]
                if let type {
                    sql += " AND type = ?"
                    arguments += [type.rawValue]
                }
                matches = try String.fetchAll(db, sql: sql + " LIMIT 2", arguments: arguments)
            }
            guard let first = matches.first, let id = try? RecordID(first) else {
                throw StoreError(.notFound, "no \(what) matches \"\(text.prefix(40))\"; `casesync case list` shows ids and references")
            }
            guard matches.count == 1 else {
                throw StoreError(.ambiguous, "\"\(text)\" matches several records; give more of the id")
            }
            return id
        }
    }

    /// Live cases, optionally filtered by status and site, oldest first (ids are time-ordered),
    /// with the restricted cases this device holds only the metadata of.
    public func cases(status: String? = nil, site: String? = nil) throws -> [CaseSummary] {
        try writer.read { db in
            var result: [CaseSummary] = []
            if sealer.isSealing {
                // An encrypted replica lists its cases from their sealed list entries (in the
                // `title` column, `SealedListEntry`), filtered here once opened.
                let rows = try GRDB.Row.fetchCursor(db, sql: "SELECT id, title, conflicted, changed FROM record WHERE type = 'case' AND deleted = 0 ORDER BY id")
                while let row = try rows.next() {
                    let text: String = row[0]
                    let fields = try Self.listEntry(row[1], id: text, sealer: sealer)
                    guard let id = try? RecordID(text) else { continue }
                    let summary = CaseSummary(id: id, reference: fields.reference, title: fields.title, status: fields.status, site: fields.site,
                                              conflicted: row[2], changed: row[3])
                    if summary.matches(status: status, site: site) { result.append(summary) }
                }
            } else {
                let (filter, arguments) = Self.caseListFilter(status: status, site: site)
                let sql = "SELECT id, reference, title, status, site, conflicted, changed FROM record WHERE type = 'case' AND deleted = 0" + filter + " ORDER BY id"
                let rows = try GRDB.Row.fetchCursor(db, sql: sql, arguments: arguments)
                while let row = try rows.next() {
                    guard let id = try? RecordID(row[0] as String) else { continue }
                    result.append(CaseSummary(id: id, reference: row[1] ?? "", title: row[2] ?? "", status: row[3] ?? "",
                                              site: row[4], conflicted: row[5], changed: row[6]))
                }
            }
            let metadata = try metadataSummaries(status: status, site: site, in: db)
            guard !metadata.isEmpty else { return result }
            return (result + metadata).sorted { $0.id.rawValue < $1.id.rawValue }
        }
    }

    /// `case list`'s filters as SQL to append to a WHERE clause (on `status` and `site`
    /// columns), with their arguments. A site matches without regard to ASCII case, as the
    /// node compares its sites (PROTOCOL.md §15): "north hospital" finds "North Hospital".
    static func caseListFilter(status: String?, site: String?) -> (sql: String, arguments: StatementArguments) {
        var sql = ""
        var arguments = StatementArguments()
        if let status {
            sql += " AND status = ?"
            arguments += [status]
        }
        if let site {
            sql += " AND site = ? COLLATE NOCASE"
            arguments += [site]
        }
        return (sql, arguments)
    }

    /// The records of a case other than the case itself, live or in conflict, oldest first.
    public func records(inCase caseID: RecordID) throws -> [RecordState] {
        try states("SELECT id, state FROM record WHERE caseID = ? AND type != 'case' AND (deleted = 0 OR conflicted = 1) ORDER BY id", [caseID.rawValue])
    }

    /// The states an `id, state` query selects, opened and decoded.
    private func states(_ sql: String, _ arguments: StatementArguments = []) throws -> [RecordState] {
        try writer.read { db in
            try GRDB.Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                try Self.decodeStored([UInt8](row[1] as Data), id: row[0] as String, sealer: sealer)
            }
        }
    }

    /// The cases (deleted ones too) whose reference is `reference`, at most two.
    private func caseIDs(withReference reference: String, in db: Database) throws -> [String] {
        guard sealer.isSealing else {
            return try String.fetchAll(db, sql: "SELECT id FROM record WHERE type = 'case' AND reference = ? LIMIT 2", arguments: [reference])
        }
        var ids: [String] = []
        let rows = try GRDB.Row.fetchCursor(db, sql: "SELECT id, title FROM record WHERE type = 'case'")
        while let row = try rows.next(), ids.count < 2 {
            let id: String = row[0]
            if try Self.listEntry(row[1], id: id, sealer: sealer).reference == reference { ids.append(id) }
        }
        return ids
    }

    /// A case's sealed list entry (`SealedListEntry`), opened.
    /// - Throws: `StoreError(.corrupt)` naming the case when it is missing or does not open.
    static func listEntry(_ stored: DatabaseValue, id: String, sealer: RecordSealer) throws -> SealedListEntry.Fields {
        guard case let .blob(data) = stored.storage,
              let fields = SealedListEntry.decode(try sealer.open([UInt8](data), place: RecordSealer.Place.listEntry(id))) else {
            throw StoreError(.corrupt, "stored case \(id) has a damaged list entry; restore the replica from the node (a new `casesync init`, enroll, sync)")
        }
        return fields
    }

    /// The live records of `type` across every case this device holds, oldest first
    /// (`action list`, `due`: a device holds one mediator's cases, so this stays small).
    public func liveRecords(of type: RecordType) throws -> [RecordState] {
        try states("SELECT id, state FROM record WHERE type = ? AND deleted = 0 ORDER BY id", [type.rawValue])
    }

    /// Every record holding a conflict.
    public func conflictedRecords() throws -> [RecordState] {
        try states("SELECT id, state FROM record WHERE conflicted = 1 ORDER BY caseID, id")
    }

    /// Counts for `casesync status`.
    public func counts() throws -> StoreCounts {
        try writer.read { db in
            StoreCounts(
                cases: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record WHERE type = 'case' AND deleted = 0") ?? 0,
                records: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") ?? 0,
                pending: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0,
                conflicted: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record WHERE conflicted = 1") ?? 0
            )
        }
    }

    /// Records changed locally and not yet pushed (cheap: the outbox only).
    public func pendingCount() throws -> Int {
        try writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox") ?? 0 }
    }

    /// Records holding a conflict (cheap: a partial index).
    public func conflictedCount() throws -> Int {
        try writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record WHERE conflicted = 1") ?? 0 }
    }

    /// A named setting (pull cursor, server address, last sync time).
    public func setting(_ key: String) throws -> String? {
        try writer.read { db in try setting(key, in: db) }
    }

    /// Stores a named setting, replacing any earlier value, in a transaction of its own.
    public func setSetting(_ key: String, _ value: String) throws {
        try writer.write { db in try setSetting(key, value, in: db) }
    }

    /// Stores several named settings in one transaction: all of them, or none.
    public func setSettings(_ settings: [String: String]) throws {
        try writer.write { db in
            for (key, value) in settings { try setSetting(key, value, in: db) }
        }
    }

    /// A named setting, opened with the replica's sealer, inside the caller's transaction.
    func setting(_ key: String, in db: Database) throws -> String? {
        let stored = try DatabaseBytes.fetchOne(db.cachedStatement(sql: "SELECT value FROM setting WHERE key = ?"), arguments: [key])
        return try sealer.openText(stored, place: RecordSealer.Place.setting(key))
    }

    /// Stores a named setting, sealed with the replica's sealer, inside the caller's transaction.
    func setSetting(_ key: String, _ value: String, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .execute(arguments: [key, try sealer.seal(text: value, place: RecordSealer.Place.setting(key))])
    }

    /// A named setting of the sync node (which stores them plain), inside the caller's transaction.
    static func plainSetting(_ key: String, in db: Database) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT value FROM setting WHERE key = ?"), arguments: [key])
    }

    /// Stores a named setting of the sync node inside the caller's transaction.
    static func setPlainSetting(_ key: String, _ value: String, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
            .execute(arguments: [key, value])
    }
}

/// How much a replica holds.
public struct StoreCounts: Hashable, Sendable {
    /// Live (not deleted) cases.
    public let cases: Int
    /// Every stored record, of every type, deleted ones included.
    public let records: Int
    /// Records changed locally and not yet pushed.
    public let pending: Int
    /// Records holding a conflict.
    public let conflicted: Int
}
