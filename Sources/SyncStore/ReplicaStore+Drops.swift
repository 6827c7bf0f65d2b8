import Foundation
import GRDB
import SyncModel
import SyncProtocol

/// A device's side of losing the right to hold records (PROTOCOL.md §13): a pull page names
/// what to drop, the device removes it with the page, and then erases every trace of it
/// from its files (`eraseFreedSpace`).
extension ReplicaStore {
    /// What one drop took off this device.
    public struct DroppedRecords: Sendable, Hashable {
        /// The case concerned.
        public let caseID: RecordID
        /// The case's reference as this device had it (nil when it did not hold the case itself).
        public let reference: String?
        /// How many records this device removed (the case itself included).
        public let count: Int
        /// Why.
        public let reason: DropReason
    }

    /// Commits a pulled page: removes what `drops` name, then merges `states`, stores the
    /// `metadata` and `grants` it carries (PROTOCOL.md §13.5) and `settings` (the cursor, and after the last page the sync time), in one transaction, so
    /// the cursor never runs ahead of what is stored. A page's drops come before its records:
    /// a right lost and given back within one page ends with the records held. A dropped
    /// record still queued (a change the node did not take) is handed to `keepUndelivered`
    /// before the transaction commits: if that throws, nothing is removed.
    @discardableResult
    public func merge(_ states: [ReceivedState], drops: [DropNotice] = [], metadata: [CaseMetadata] = [], grants: [AccessGrant] = [],
                      settings: [String: String],
                      keepUndelivered: ([QueuedRecord]) throws -> Void = { _ in }) throws -> (merged: MergeOutcome, dropped: [DroppedRecords]) {
        try writer.write { db in
            var dropped: [DroppedRecords] = []
            var undelivered: [QueuedRecord] = []
            for drop in drops {
                let result = try apply(drop, in: db)
                undelivered += result.undelivered
                if result.dropped.count > 0 { dropped.append(result.dropped) }
            }
            if !undelivered.isEmpty { try keepUndelivered(undelivered) }
            // Until `eraseFreedSpace` has run, the next sync knows it must (a failure after
            // this page would otherwise leave the dropped bytes in free space).
            if !dropped.isEmpty { try setSetting(Self.eraseDueKey, "1", in: db) }
            let outcome = states.isEmpty ? MergeOutcome() : try Self.merge(states, in: db, sealer: sealer)
            try store(metadata, grants: grants, in: db)
            for (key, value) in settings {
                try setSetting(key, value, in: db)
            }
            return (outcome, dropped)
        }
    }

    /// Deletes the records one drop names (and their outbox and re-delivery entries),
    /// returning what went and which of them held changes not yet pushed.
    func apply(_ drop: DropNotice, in db: Database) throws -> (dropped: DroppedRecords, undelivered: [QueuedRecord]) {
        let reference = try Self.load(drop.caseID, in: db, sealer: sealer)?.text("reference")
        let ids: [String]
        if let record = drop.record {
            // Only if it belongs to the case named: a drop never reaches into another case.
            ids = try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM record WHERE id = ? AND caseID = ?"), arguments: [record.rawValue, drop.caseID.rawValue])
        } else {
            ids = try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM record WHERE caseID = ?"), arguments: [drop.caseID.rawValue])
        }
        var undelivered: [QueuedRecord] = []
        // Queued local changes, and records waiting to be re-sent to a restored node (which
        // may be the only copy of writes it lost).
        let queued = try db.cachedStatement(sql: """
            SELECT id, caseID, state FROM record WHERE id = ?
                AND (EXISTS (SELECT 1 FROM outbox WHERE recordID = record.id) OR EXISTS (SELECT 1 FROM redelivery WHERE recordID = record.id))
            """)
        for id in ids {
            // A purge is disposal: nothing of the case is kept, queued changes included.
            if drop.reason != .purged {
                try queued.forEachRow { $0.bind(id) } _: { row in undelivered.append(try QueuedRecord(row, sealer: sealer)) }
            }
            for table in ["outbox", "redelivery"] {
                try db.cachedStatement(sql: "DELETE FROM \(table) WHERE recordID = ?").execute(arguments: [id])
            }
            try db.cachedStatement(sql: "DELETE FROM record WHERE id = ?").execute(arguments: [id])
        }
        if drop.record == nil {
            // The grants of a case dropped whole go with it; its metadata stays for a
            // supervisor (the node sends newer metadata if they may see it), unless purged.
            try db.cachedStatement(sql: "DELETE FROM accessGrant WHERE caseID = ?").execute(arguments: [drop.caseID.rawValue])
            if drop.reason == .purged {
                try db.cachedStatement(sql: "DELETE FROM caseMetadata WHERE caseID = ?").execute(arguments: [drop.caseID.rawValue])
            }
        }
        return (DroppedRecords(caseID: drop.caseID, reference: reference, count: ids.count, reason: drop.reason), undelivered)
    }

    /// Removes every case record with its outbox and re-delivery entries, and forgets the
    /// pull cursor and what it knew of the node (`forget`), in one transaction; returns how
    /// many records went. The device's id, counter and enrollment stay. Follow with
    /// `eraseFreedSpace`.
    @discardableResult
    public func eraseCaseData(forget: [String]) throws -> Int {
        try writer.write { db in
            try setSetting(Self.eraseDueKey, "1", in: db)
            try db.execute(sql: "DELETE FROM outbox; DELETE FROM redelivery; DELETE FROM accessGrant; DELETE FROM caseMetadata")
            try db.execute(sql: "DELETE FROM record")
            let erased = db.changesCount
            for key in forget {
                try db.execute(sql: "DELETE FROM setting WHERE key = ?", arguments: [key])
            }
            return erased
        }
    }

    /// Erases what deleted rows left in the files: SQLite keeps deleted content in free
    /// space, in freed pages and in old page images in the WAL until they are reused (unless
    /// `secure_delete` was on for every write the file ever had, which a replica made by
    /// another build may not have). A `VACUUM` rebuilds the database from live rows only, and
    /// a `TRUNCATE` checkpoint empties the WAL. Run after a sync removed records; it rewrites
    /// the whole file, so once per sync, not per page.
    public func eraseFreedSpace() throws {
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "VACUUM")
            try db.execute(sql: "DELETE FROM setting WHERE key = ?", arguments: [Self.eraseDueKey])
            try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
        }
    }

    /// Set while records were removed and `eraseFreedSpace` has not run since.
    public static let eraseDueKey = "eraseDue"

    /// Whether records were removed and their traces not yet erased (`eraseFreedSpace`).
    public func eraseIsDue() throws -> Bool {
        try setting(Self.eraseDueKey) != nil
    }
}
