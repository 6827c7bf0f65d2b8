import Foundation
import GRDB
import NodeStorage
import SyncModel
import SyncProtocol

extension SQLiteNodeStore {
    /// Only the page is read into memory. Records are served in (delivery, change sequence)
    /// order, so a page may end inside a delivery sequence and the next carries on after the
    /// last record served: pages stay at most `limit` records however large a granted case is.
    public func pullPage(for user: UserAccount, since: Int, after: Int?, limit: Int, at time: Int64) async throws -> PulledRecords {
        let floor = sequenceFloor
        // A supervisor's grants that ran out end first: their drops must reach this page.
        if user.role == .supervisor, try await writer.read({ db in try Self.hasExpiredGrants(of: user.name, at: time, in: db) }) {
            try await writer.write { db in
                var seq = try Self.highestSequence(floor: floor, in: db)
                try Self.endExpiredGrants(of: user.name, at: time, above: &seq, in: db)
            }
        }
        return try await writer.read { db in
            let statement: Statement
            let arguments: StatementArguments
            if user.role == .supervisor {
                // In change order (the sequence index serves it), each record filtered: a
                // supervisor holds what is everyone's; as a mediator of a case what its
                // mediators hold; through an open break-glass grant what its mediators hold but
                // caucus notes; and of a restricted case they hold nothing of, the case record's
                // metadata (`held` 0). The lookups run only for the few records that are not
                // everyone's. (`HoldingRule` as SQL, on the effective scope: 0 everyone, 1 the
                // case's mediators, a mediator note or any record of a restricted case, 2 a
                // caucus note's owner.)
                // The cursor as one bound of the sequence index (a supervisor's delivery
                // sequence is the change sequence): an `OR` here would scan from the start.
                // With `after` below `since`, the records of delivery `since` itself are not
                // all served yet (a supervisor's deliveries hold one record each: none are).
                let bound = after.map { $0 < since } == true ? ">=" : ">"
                statement = try db.cachedStatement(sql: """
                    SELECT delivery, seq, state, id, held FROM (
                        SELECT r.seq AS delivery, r.seq, r.state, r.id, r.type, r.scope,
                            (r.scope = 0
                             OR (EXISTS (SELECT 1 FROM caseAccess a WHERE a.user = ? AND a.caseID = r.caseID) AND (r.scope < 2 OR r.owner = ?))
                             OR (r.scope = 1 AND EXISTS (SELECT 1 FROM accessGrant g WHERE g.user = ? AND g.caseID = r.caseID AND g.endedSeq IS NULL))) AS held
                        FROM record r WHERE r.seq \(bound) ?
                    )
                    WHERE held OR (type = 'case' AND scope = 1) ORDER BY seq LIMIT ?
                    """)
                arguments = [user.name, user.name, user.name, since, limit + 1]
            } else {
                // A range of the user's delivery order (`deliverySchema`): a key lookup of each
                // record served, nothing read of what the page does not hold.
                statement = try db.cachedStatement(sql: """
                    SELECT d.delivery, d.seq, r.state, r.id, 1 FROM delivery d JOIN record r ON r.seq = d.seq
                    WHERE d.user = ? AND (d.delivery, d.seq) > (?, ?) ORDER BY d.delivery, d.seq LIMIT ?
                    """)
                arguments = [user.name, since, after ?? Int.max, limit + 1]
            }
            var records: [PulledRecords.Record] = []
            for row in try GRDB.Row.fetchAll(statement, arguments: arguments) {
                guard let id = try? RecordID(row[3] as String) else { continue }
                records.append(PulledRecords.Record(delivery: row[0], seq: row[1], id: id, state: [UInt8](row[2] as Data), metadataOnly: !(row[4] as Bool)))
            }
            let more = records.count > limit
            if more { records.removeLast() }
            // No delivery sequence is above the highest change sequence (or the floor a
            // restore set): the caller tells a cursor beyond it.
            let highest = records.isEmpty ? try Self.highestSequence(floor: floor, in: db) : nil
            // The drops up to where the page ends (a drop shares its sequence with the change
            // that caused it, so one at the page's last delivery goes with this page), and the
            // last drop the cursor has already passed. Both are key lookups: (user, seq).
            let upper = more ? records.last?.delivery ?? since : Int.max
            var drops: [DropNotice] = []
            for row in try GRDB.Row.fetchAll(db.cachedStatement(sql: "SELECT seq, caseID, recordID, reason FROM dropNotice WHERE user = ? AND seq > ? AND seq <= ? ORDER BY seq, caseID, recordID"),
                                             arguments: [user.name, since, upper]) {
                guard let caseID = try? RecordID(row[1] as String), let reason = DropReason(rawValue: row[3]) else { continue }
                let recordText: String = row[2]
                drops.append(DropNotice(seq: row[0], caseID: caseID, record: recordText.isEmpty ? nil : try? RecordID(recordText), reason: reason))
            }
            let told = since > 0 ? try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(seq) FROM dropNotice WHERE user = ? AND seq <= ?"), arguments: [user.name, since]) : nil
            var page = PulledRecords(records: records, more: more, highestSequence: highest, drops: drops, toldDrop: told)
            page.grants = try Self.grants(toldTo: user.name, since: since, upTo: upper, in: db)
            page.directoryVersion = try Self.directoryVersion(in: db)
            return page
        }
    }

    /// See `NodeStore.exportPage`. Deleted records are included (as tombstones); the caller redacts.
    public func exportPage(type: RecordType?, since: Int, limit: Int) async throws -> [(seq: Int, state: RecordState)] {
        try await writer.read { db in
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

    /// See `NodeStore.records`; read with one query per 500 ids.
    public func records(_ ids: [RecordID]) async throws -> [RecordID: RecordState] {
        try await writer.read { db in try ReplicaStore.loadAll(ids, in: db, sealer: .plain) }
    }

    /// Computed over cursors: one record state in memory at a time, whatever the number of records.
    public func summary(_ summary: ReportSummary, today: String) async throws -> ReportSummary {
        try await writer.read { db in
            var summary = summary
            var included: Set<String> = []
            let cases = try GRDB.Row.fetchCursor(db, sql: "SELECT state FROM record WHERE type = 'case' AND deleted = 0")
            while let row = try cases.next() {
                let state = try RecordState(json: [UInt8](row[0] as Data))
                if summary.add(case: state, today: today) { included.insert(state.id.rawValue) }
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
