import NodeStorage
import PostgresNIO
import SyncModel
import SyncProtocol

extension PostgresNodeStore {
    /// See `NodeStore.pullPage`, with the SQLite store's queries (PROTOCOL.md §20): a
    /// supervisor's page is a range of the change sequence, each record filtered; a
    /// mediator's a range of their delivery order. Only the page is read.
    ///
    /// Served from one snapshot (`snapshot`). Numbers are taken in commit order
    /// (`takeSequence`), so a snapshot that holds number N holds every number below it: a
    /// page, and the highest sequence it reports, never pass over a record that commits later.
    public func pullPage(for user: UserAccount, since: Int, after: Int?, limit: Int, at time: Int64) async throws -> PulledRecords {
        if user.role == .supervisor {
            let expired = try await transaction { db in try await Self.hasExpiredGrants(of: user.name, at: time, in: db) }
            if expired {
                try await transaction { db in
                    var seq = try await Self.takeSequence(in: db)
                    let first = seq
                    _ = try await Self.endExpiredGrants(of: user.name, at: time, above: &seq, in: db)
                    if seq > first { try await Self.setSequence(seq, in: db) }
                }
            }
        }
        return try await snapshot { db in
            let rows: [PostgresRow]
            if user.role == .supervisor {
                // `held` as SQLite's: everyone's, or as a mediator of the case what its
                // mediators hold, or through an open grant what they hold but caucus notes;
                // of a restricted case held by none of those, the case record's metadata.
                // With `after` below `since`, delivery `since` is not all served yet.
                // `OFFSET 0` keeps each check a key lookup for the few records not everyone's:
                // without it PostgreSQL hashes all the user's access rows for every page (39 ms
                // a page for a supervisor of 100,000 cases, against 0.7 ms). The page is read
                // in the sequence index's order, never sorted: with the statistics of a table
                // bulk-loaded a moment ago the planner would sort every record above the cursor
                // (200 ms a page at 100,000 records). And it is not compiled (JIT): the plan's
                // cost, counted over every record above the cursor, would have PostgreSQL spend
                // 26 ms compiling a query that runs in 1.6.
                let bound = after.map { $0 < since } == true ? since - 1 : since
                try await db.execute("SELECT set_config('enable_sort', 'off', true), set_config('jit', 'off', true)")
                rows = try await db.rows("""
                    SELECT delivery, seq, state, id, held FROM (
                        SELECT r.seq AS delivery, r.seq, r.state, r.id, r.type, r.scope,
                            (r.scope = 0
                             OR (EXISTS (SELECT 1 FROM case_access a WHERE a.user_name = \(user.name) AND a.case_id = r.case_id OFFSET 0)
                                 AND (r.scope < 2 OR r.owner = \(user.name)))
                             OR (r.scope = 1 AND EXISTS (SELECT 1 FROM access_grant g WHERE g.user_name = \(user.name)
                                 AND g.case_id = r.case_id AND g.ended_seq IS NULL OFFSET 0))) AS held
                        FROM record r WHERE r.seq > \(bound) ORDER BY r.seq
                    ) page
                    WHERE held OR (type = 'case' AND scope = 1) ORDER BY seq LIMIT \(limit + 1)
                    """)
                try await db.execute("SELECT set_config('enable_sort', 'on', true)")
            } else {
                // The page's range of the delivery order first, then each record by its
                // sequence: written so, the plan cannot be a join over the whole record table,
                // whatever the statistics say (a fresh bulk push has none yet).
                rows = try await db.rows("""
                    SELECT d.delivery, d.seq, r.state, r.id, true FROM (
                        SELECT delivery, seq FROM delivery
                        WHERE user_name = \(user.name) AND (delivery, seq) > (\(since), \(after ?? Int.max))
                        ORDER BY delivery, seq LIMIT \(limit + 1)
                    ) d CROSS JOIN LATERAL (SELECT state, id FROM record WHERE record.seq = d.seq) r
                    ORDER BY d.delivery, d.seq
                    """)
            }
            var records: [PulledRecords.Record] = []
            records.reserveCapacity(rows.count)
            for row in rows {
                let (delivery, seq, state, id, held) = try row.decode((Int, Int, ByteBuffer, String, Bool).self)
                guard let id = try? RecordID(id) else { continue }
                records.append(PulledRecords.Record(delivery: delivery, seq: seq, id: id, state: Array(buffer: state), metadataOnly: !held))
            }
            let more = records.count > limit
            if more { records.removeLast() }
            let highest = records.isEmpty ? try await db.value("SELECT seq FROM node WHERE id = 1", as: Int.self) ?? 0 : nil
            let upper = more ? records.last?.delivery ?? since : Int.max
            var drops: [DropNotice] = []
            for row in try await db.rows("""
                SELECT seq, case_id, record_id, reason FROM drop_notice WHERE user_name = \(user.name) AND seq > \(since) AND seq <= \(upper)
                ORDER BY seq, case_id, record_id
                """) {
                let (seq, caseText, recordText, reasonText) = try row.decode((Int, String, String, String).self)
                guard let caseID = try? RecordID(caseText), let reason = DropReason(rawValue: reasonText) else { continue }
                drops.append(DropNotice(seq: seq, caseID: caseID, record: recordText.isEmpty ? nil : try? RecordID(recordText), reason: reason))
            }
            let told = since > 0
                ? try await db.value("SELECT MAX(seq) FROM drop_notice WHERE user_name = \(user.name) AND seq <= \(since)", as: Int.self) : nil
            var page = PulledRecords(records: records, more: more, highestSequence: highest, drops: drops, toldDrop: told)
            page.grants = try await Self.grants(toldTo: user.name, since: since, upTo: upper, in: db)
            page.directoryVersion = try await Self.directoryVersion(in: db)
            return page
        }
    }
}
