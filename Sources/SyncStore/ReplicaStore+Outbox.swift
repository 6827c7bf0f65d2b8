import Foundation
import GRDB
import SyncModel

/// What `casesync sync` needs from the store: outbox batches and acknowledgements (pulled
/// pages are committed with their cursor and drops by `merge(_:drops:settings:keepUndelivered:)`).
extension ReplicaStore {
    /// One queued record as stored: its id, its case, and its canonical JSON, ready to send
    /// unchanged.
    public struct QueuedRecord: Sendable {
        /// The record's id, as the outbox holds it.
        public let id: RecordID
        /// The case the record belongs to (its own id for a case).
        public let caseID: RecordID
        /// The stored state's canonical JSON, sent unchanged.
        public let state: [UInt8]
    }

    /// Up to `limit` queued records with ids after `after`, in id order.
    public func outbox(after: RecordID?, limit: Int) throws -> [QueuedRecord] {
        try writer.read { db in
            var records: [QueuedRecord] = []
            records.reserveCapacity(limit)
            try db.cachedStatement(sql: """
                SELECT record.id, record.caseID, record.state FROM outbox JOIN record ON record.id = outbox.recordID
                WHERE outbox.recordID > ? ORDER BY outbox.recordID LIMIT ?
                """).forEachRow { bindings in
                if let after { bindings.bind(after) } else { bindings.bind("") }
                bindings.bind(limit)
            } _: { row in
                records.append(try QueuedRecord(row, sealer: sealer))
            }
            return records
        }
    }

    /// Clears the outbox entries the server's answers cover: a record edited again while the
    /// push was in flight (its version not seen by the answer) stays queued.
    @discardableResult
    public func acknowledge(_ answers: [(id: RecordID, version: VersionVector)]) throws -> Int {
        try writer.write { db in
            var cleared = 0
            let readVersion = try db.cachedStatement(sql: "SELECT version FROM record WHERE id = ?")
            let dequeue = try db.cachedStatement(sql: "DELETE FROM outbox WHERE recordID = ?")
            for answer in answers {
                var local: VersionVector?
                try readVersion.forEachRow { $0.bind(answer.id) } _: { row in
                    local = try? JSONReader.read(row.bytes(at: 0)) { reader throws(ModelError) in try VersionVector.read(from: &reader) }
                }
                guard let local, answer.version.dominates(local) else { continue }
                try dequeue.execute { $0.bind(answer.id) }
                cleared += db.changesCount
            }
            return cleared
        }
    }
}

extension ReplicaStore.QueuedRecord {
    /// From a row of (id, caseID, state), as the outbox and re-delivery queries select,
    /// the state opened with `sealer`.
    init(_ row: StatementRow, sealer: RecordSealer) throws {
        guard let id = row.recordID(at: 0), let caseID = row.recordID(at: 1) else {
            throw StoreError(.corrupt, "a stored record id does not parse")
        }
        self.init(id: id, caseID: caseID, state: try sealer.open(row.bytes(at: 2), place: RecordSealer.Place.record(id.rawValue)))
    }
}
