import Foundation
import GRDB
import SyncModel

/// What `casesync sync` needs from the store: outbox batches, acknowledgements, and pulled
/// pages committed together with their cursor.
extension ReplicaStore {
    /// Up to `limit` queued records with ids after `after`, in id order.
    public func outbox(after: RecordID?, limit: Int) throws -> [RecordState] {
        try writer.read { db in
            let blobs = try Data.fetchAll(db, sql: """
                SELECT record.state FROM outbox JOIN record ON record.id = outbox.recordID
                WHERE outbox.recordID > ? ORDER BY outbox.recordID LIMIT ?
                """, arguments: [after?.rawValue ?? "", limit])
            return try blobs.map { try RecordState(json: [UInt8]($0)) }
        }
    }

    /// Clears the outbox entries the server's answers cover: a record edited again while the
    /// push was in flight (its version not seen by the answer) stays queued.
    @discardableResult
    public func acknowledge(_ answers: [(id: RecordID, version: VersionVector)]) throws -> Int {
        try writer.write { db in
            var cleared = 0
            for answer in answers {
                guard let local = try Self.load(answer.id, in: db), answer.version.dominates(local.version) else { continue }
                try db.cachedStatement(sql: "DELETE FROM outbox WHERE recordID = ?").execute(arguments: [answer.id.rawValue])
                cleared += db.changesCount
            }
            return cleared
        }
    }

    /// Merges a pulled page and stores `cursor` in the same transaction, so the cursor never
    /// runs ahead of what is stored.
    @discardableResult
    public func merge(_ states: [RecordState], cursor: (key: String, value: String)) throws -> MergeOutcome {
        try writer.write { db in
            let outcome = try Self.merge(states, in: db)
            try db.execute(sql: "INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                           arguments: [cursor.key, cursor.value])
            return outcome
        }
    }
}
