import Foundation
import GRDB
import SyncModel

/// A device's side of a node restore: when the node it syncs with was restored from an older
/// backup, the device re-sends every record it holds (its own writes and those it relayed)
/// and pulls from the start, so the node gets back what it lost and the device what it
/// skipped.
extension ReplicaStore {
    /// In one transaction: queues every record this device holds for re-delivery (those in
    /// the outbox too: re-delivery sends cases before their records, and a case edited
    /// since its last push must reach the node before the records that the node lost with
    /// it) and removes the settings named in `forget` (the pull cursor and
    /// the node generation it belongs to). Crash-safe: an interrupted sync finds the queue
    /// and carries on. Returns how many records were queued.
    @discardableResult
    public func rewind(forget: [String]) throws -> Int {
        try writer.write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO redelivery (recordID) SELECT id FROM record")
            let queued = db.changesCount
            for key in forget {
                try db.execute(sql: "DELETE FROM setting WHERE key = ?", arguments: [key])
            }
            return queued
        }
    }

    /// Up to `limit` records queued for re-delivery with ids after `after`, in id order:
    /// the cases (`cases: true`) or the other records. Cases go first, so the node knows a
    /// case before it meets its records.
    public func redelivery(cases: Bool, after: RecordID?, limit: Int) throws -> [QueuedRecord] {
        try writer.read { db in
            var records: [QueuedRecord] = []
            try db.cachedStatement(sql: """
                SELECT record.id, record.caseID, record.state FROM redelivery JOIN record ON record.id = redelivery.recordID
                WHERE redelivery.recordID > ? AND (record.type = 'case') = ? ORDER BY redelivery.recordID LIMIT ?
                """).forEachRow { bindings in
                if let after { bindings.bind(after) } else { bindings.bind("") }
                bindings.bind(cases)
                bindings.bind(limit)
            } _: { row in
                records.append(try QueuedRecord(row, sealer: sealer))
            }
            return records
        }
    }

    /// Takes records off the re-delivery queue: the node took them, or refused them (a
    /// re-delivery is sent once; a later local change goes through the outbox).
    public func dequeueRedelivery(_ ids: [RecordID]) throws {
        try writer.write { db in
            let dequeue = try db.cachedStatement(sql: "DELETE FROM redelivery WHERE recordID = ?")
            for id in ids { try dequeue.execute { $0.bind(id) } }
        }
    }
}
