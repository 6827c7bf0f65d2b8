import Foundation
import GRDB
import NodeStorage
import SyncModel
import SyncProtocol

/// Disposal after retention (PROTOCOL.md §13.4): a purged case leaves the node and, through
/// drops, every device; a marker keeps it from coming back.
extension SQLiteNodeStore {
    /// See `NodeStore.purgeCase`. The purge takes a change sequence number of its own, above
    /// every record's, kept in its marker: numbers are never given twice, though the records
    /// that held the highest ones may be gone.
    public func purgeCase(_ idOrReference: String, reason: String, at time: Int64, closedBefore: String? = nil) throws -> CasePurge {
        let floor = sequenceFloor
        let purge = try writer.write { db -> CasePurge in
            let matches = try GRDB.Row.fetchAll(db, sql: "SELECT id, reference FROM record WHERE type = 'case' AND (id = ? OR reference = ?) ORDER BY id",
                                                arguments: [idOrReference, idOrReference])
            guard let match = matches.first, let caseID = try? RecordID(match[0] as String) else {
                let purged = try Bool.fetchOne(db, sql: "SELECT 1 FROM purge WHERE caseID = ?", arguments: [idOrReference]) == true
                throw NodeError(.notFound, purged ? "case \(idOrReference.prefix(60)) was purged already" : "no case with id or reference \(idOrReference.prefix(60)) on this node")
            }
            guard matches.count == 1 else {
                throw NodeError(.badParameter, "\(matches.count) cases have the reference \(idOrReference.prefix(60)); purge one by its id (\(matches.map { $0[0] as String }.joined(separator: ", ")))")
            }
            if let closedBefore {
                // Checked again in the purge's transaction: a case reopened since it was listed stays.
                let state = try ReplicaStore.load(caseID, in: db, sealer: .plain)
                guard let state, !state.isDeleted, state.text("status") == "closed", let day = state.text("closed"), day < closedBefore else {
                    throw NodeError(.refused, "case \(idOrReference.prefix(60)) is no longer closed before \(closedBefore); not purged")
                }
            }
            let seq = try Self.highestSequence(floor: floor, in: db) + 1
            let ids = try String.fetchAll(db, sql: "SELECT id FROM record WHERE caseID = ? ORDER BY id", arguments: [caseID.rawValue])
            // Who may hold it: its mediators, supervisors (of a restricted case they hold the
            // metadata, or all of it through break-glass), and whoever was told to drop some
            // of it (their devices may not have pulled that drop yet, which the purge replaces).
            let told = try String.fetchAll(db, sql: """
                SELECT user FROM caseAccess WHERE caseID = ?
                UNION SELECT name FROM user WHERE role = 'supervisor'
                UNION SELECT user FROM dropNotice WHERE caseID = ?
                ORDER BY 1
                """, arguments: [caseID.rawValue, caseID.rawValue])
            try db.execute(sql: """
                DELETE FROM record WHERE caseID = ?; DELETE FROM caseAccess WHERE caseID = ?;
                DELETE FROM restrictedCase WHERE caseID = ?; DELETE FROM dropNotice WHERE caseID = ?;
                DELETE FROM accessGrant WHERE caseID = ?;
                """, arguments: [caseID.rawValue, caseID.rawValue, caseID.rawValue, caseID.rawValue, caseID.rawValue])
            try db.execute(sql: "INSERT INTO purge (caseID, seq, at, reason, records) VALUES (?, ?, ?, ?, ?)",
                           arguments: [caseID.rawValue, seq, time, reason, ids.count])
            for user in told {
                try Self.recordDrop(user: user, seq: seq, caseID: caseID, record: nil, reason: .purged, in: db)
            }
            try Self.audit("purge", user: nil, device: nil, records: try ids.map(RecordID.init), at: time, in: db)
            return CasePurge(caseID: caseID, reference: match[1], records: ids.count, usersTold: told.count)
        }
        // The deleted pages are zeroed (`secure_delete`); their earlier images leave the WAL
        // now, if no reader holds it (else at the next checkpoint).
        try? writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        return purge
    }

    /// See `NodeStore.casesClosed`.
    public func casesClosed(before date: String) throws -> [ClosedCase] {
        try writer.read { db in
            var closed: [ClosedCase] = []
            let rows = try GRDB.Row.fetchCursor(db, sql: "SELECT state FROM record WHERE type = 'case' AND deleted = 0 AND status = 'closed'")
            while let row = try rows.next() {
                let state = try RecordState(json: [UInt8](row[0] as Data))
                guard let day = state.text("closed"), day < date else { continue }
                closed.append(ClosedCase(caseID: state.id, reference: state.text("reference"), closed: day))
            }
            return closed.sorted { ($0.closed, $0.caseID.rawValue) < ($1.closed, $1.caseID.rawValue) }
        }
    }

    /// The highest change sequence number the node has given: of a record, of a purge, of a
    /// break-glass grant or its end, or the floor a restore set. New changes are numbered
    /// above it.
    static let highestRecordSequence = "SELECT MAX(seq) FROM record WHERE seq IS NOT NULL"

    static func highestSequence(floor: Int, in db: Database) throws -> Int {
        // `seq IS NOT NULL` lets SQLite read the partial index `record_by_seq`: without it,
        // MAX scans every record, on every push and every empty pull page.
        let record = try Int.fetchOne(db.cachedStatement(sql: Self.highestRecordSequence)) ?? 0
        let purge = try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(seq) FROM purge")) ?? 0
        // Both index lookups: a grant's end is numbered above its start.
        let granted = try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(seq) FROM accessGrant")) ?? 0
        let ended = try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(endedSeq) FROM accessGrant WHERE endedSeq IS NOT NULL")) ?? 0
        return max(record, purge, granted, ended, floor)
    }
}
