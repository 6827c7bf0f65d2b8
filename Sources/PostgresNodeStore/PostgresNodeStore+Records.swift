import Foundation
import NodeStorage
import PostgresNIO
import SyncModel
import SyncProtocol

/// Reading stored records: by id, for export in change order, and for the summary report.
extension PostgresNodeStore {
    /// See `NodeStore.records`.
    public func records(_ ids: [RecordID]) async throws -> [RecordID: RecordState] {
        try await transaction { db in try await Self.loadAll(ids, in: db) }
    }

    /// The stored states of those of `ids` the node holds, one query (an array bind) per
    /// thousand ids, inside the caller's transaction.
    static func loadAll(_ ids: some Collection<RecordID>, in db: PostgresSession) async throws -> [RecordID: RecordState] {
        var states: [RecordID: RecordState] = [:]
        states.reserveCapacity(ids.count)
        let texts = ids.map(\.rawValue)
        for start in stride(from: 0, to: texts.count, by: 1_000) {
            let chunk = Array(texts[start..<min(start + 1_000, texts.count)])
            for row in try await db.rows("SELECT id, state FROM record WHERE id = ANY(\(chunk))") {
                let (id, state) = try row.decode((String, ByteBuffer).self)
                let decoded = try decodeStored(state, id: id)
                states[decoded.id] = decoded
            }
        }
        return states
    }

    /// A stored state's bytes as a state; bytes that do not decode are a corrupt store,
    /// reported with the record's id.
    static func decodeStored(_ bytes: ByteBuffer, id: String) throws -> RecordState {
        do {
            return try RecordState(json: Array(buffer: bytes))
        } catch {
            throw PostgresStoreError(.database, "stored record \(id.prefix(40)) does not decode; restore the database from a backup")
        }
    }

    /// See `NodeStore.exportPage`. Deleted records are included (as tombstones); the caller redacts.
    public func exportPage(type: RecordType?, since: Int, limit: Int) async throws -> [(seq: Int, state: RecordState)] {
        let rows = try await transaction { db in
            if let type {
                return try await db.rows("SELECT seq, id, state FROM record WHERE type = \(type.rawValue) AND seq > \(since) ORDER BY seq LIMIT \(limit)")
            }
            return try await db.rows("SELECT seq, id, state FROM record WHERE seq > \(since) ORDER BY seq LIMIT \(limit)")
        }
        return try rows.map { row in
            let (seq, id, state) = try row.decode((Int, String, ByteBuffer).self)
            return (seq, try Self.decodeStored(state, id: id))
        }
    }

    /// Computed a page of cases at a time: a bounded number of states in memory, whatever
    /// the number of records. (One snapshot, so the figures are of one moment.)
    public func summary(_ summary: ReportSummary, today: String) async throws -> ReportSummary {
        try await snapshot { db in
            var summary = summary
            var included: Set<String> = []
            var after = ""
            while true {
                let rows = try await db.rows("""
                    SELECT id, state FROM record WHERE type = 'case' AND NOT deleted AND id > \(after) ORDER BY id LIMIT 1000
                    """)
                for row in rows {
                    let (id, bytes) = try row.decode((String, ByteBuffer).self)
                    let state = try Self.decodeStored(bytes, id: id)
                    if summary.add(case: state, today: today) { included.insert(id) }
                    after = id
                }
                if rows.count < 1000 { break }
            }
            after = ""
            while true {
                let rows = try await db.rows("""
                    SELECT id, case_id, state FROM record WHERE type IN ('action', 'feedback') AND NOT deleted AND id > \(after)
                    ORDER BY id LIMIT 1000
                    """)
                for row in rows {
                    let (id, caseID, bytes) = try row.decode((String, String, ByteBuffer).self)
                    after = id
                    guard included.contains(caseID) else { continue }
                    summary.add(try Self.decodeStored(bytes, id: id), today: today)
                }
                if rows.count < 1000 { break }
            }
            return summary
        }
    }
}
