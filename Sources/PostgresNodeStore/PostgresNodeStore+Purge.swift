import Foundation
import NodeStorage
import PostgresNIO
import SyncModel
import SyncProtocol

/// Disposal after retention (PROTOCOL.md §13.4): a purged case leaves the node and, through
/// drops, every device; a marker keeps it from coming back.
extension PostgresNodeStore {
    /// See `NodeStore.purgeCase`. The purge takes a change sequence number of its own, above
    /// every record's, kept in its marker: numbers are never given twice, though the records
    /// that held the highest ones may be gone. The node row is locked first, so the checks
    /// see every push committed before it and no push of the case runs until it ends.
    public func purgeCase(_ idOrReference: String, reason: String, at time: Int64, closedBefore: String? = nil) async throws -> CasePurge {
        try await transaction { db -> CasePurge in
            let seq = try await Self.takeSequence(in: db) + 1
            let matches = try await db.rows("""
                SELECT id, reference FROM record WHERE type = 'case' AND (id = \(idOrReference) OR reference = \(idOrReference)) ORDER BY id
                """).map { try $0.decode((String, String?).self) }
            guard let match = matches.first, let caseID = try? RecordID(match.0) else {
                let purged = try await db.exists("SELECT 1 FROM purge WHERE case_id = \(idOrReference)")
                throw NodeError(.notFound, purged ? "case \(idOrReference.prefix(60)) was purged already" : "no case with id or reference \(idOrReference.prefix(60)) on this node")
            }
            guard matches.count == 1 else {
                throw NodeError(.badParameter, "\(matches.count) cases have the reference \(idOrReference.prefix(60)); purge one by its id (\(matches.map { $0.0 }.joined(separator: ", ")))")
            }
            if let closedBefore {
                // Checked again in the purge's transaction: a case reopened since it was listed stays.
                let state = try await Self.loadAll([caseID], in: db)[caseID]
                guard let state, !state.isDeleted, state.text("status") == "closed", let day = state.text("closed"), day < closedBefore else {
                    throw NodeError(.refused, "case \(idOrReference.prefix(60)) is no longer closed before \(closedBefore); not purged")
                }
            }
            // Who may hold it: its mediators, supervisors (of a restricted case they hold the
            // metadata, or all of it through break-glass), and whoever was told to drop some
            // of it (their devices may not have pulled that drop yet, which the purge replaces).
            let told = try await db.rows("""
                SELECT user_name FROM case_access WHERE case_id = \(caseID.rawValue)
                UNION SELECT name FROM account WHERE role = 'supervisor'
                UNION SELECT user_name FROM drop_notice WHERE case_id = \(caseID.rawValue)
                ORDER BY 1
                """).map { try $0.decode(String.self) }
            // Records before access rows, as SQLite does: each deleted record's trigger
            // (`delivery_record_changed`) removes its delivery rows through the case's access
            // rows, still there. (A delivery row exists only while its access row does, and
            // always at GREATEST(seq, granted_seq), which is what the trigger deletes.) The
            // access rows' trigger then finds no record of the case: nothing of it is left.
            let ids = try await db.rows("DELETE FROM record WHERE case_id = \(caseID.rawValue) RETURNING id")
                .map { try $0.decode(String.self) }.sorted()
            try await db.execute("DELETE FROM case_access WHERE case_id = \(caseID.rawValue)")
            try await db.execute("DELETE FROM restricted_case WHERE case_id = \(caseID.rawValue)")
            try await db.execute("DELETE FROM drop_notice WHERE case_id = \(caseID.rawValue)")
            try await db.execute("DELETE FROM access_grant WHERE case_id = \(caseID.rawValue)")
            try await db.execute("""
                INSERT INTO purge (case_id, seq, at, reason, records) VALUES (\(caseID.rawValue), \(seq), \(time), \(reason), \(ids.count))
                """)
            for user in told {
                try await Self.recordDrop(user: user, seq: seq, caseID: caseID, record: nil, reason: .purged, in: db)
            }
            try await Self.setSequence(seq, in: db)
            try await Self.audit("purge", user: nil, device: nil, records: try ids.map(RecordID.init), at: time, in: db)
            return CasePurge(caseID: caseID, reference: match.1, records: ids.count, usersTold: told.count)
        }
    }

    /// See `NodeStore.casesClosed`. Read a page of closed cases at a time: a bounded number
    /// of states in memory, whatever the number of cases.
    public func casesClosed(before date: String) async throws -> [ClosedCase] {
        try await snapshot { db -> [ClosedCase] in
            var closed: [ClosedCase] = []
            var after = ""
            while true {
                let rows = try await db.rows("""
                    SELECT id, state FROM record WHERE type = 'case' AND NOT deleted AND status = 'closed' AND id > \(after)
                    ORDER BY id LIMIT 1000
                    """)
                for row in rows {
                    let (id, bytes) = try row.decode((String, ByteBuffer).self)
                    after = id
                    let state = try Self.decodeStored(bytes, id: id)
                    guard let day = state.text("closed"), day < date else { continue }
                    closed.append(ClosedCase(caseID: state.id, reference: state.text("reference"), closed: day))
                }
                if rows.count < 1000 { break }
            }
            return closed.sorted { ($0.closed, $0.caseID.rawValue) < ($1.closed, $1.caseID.rawValue) }
        }
    }
}
