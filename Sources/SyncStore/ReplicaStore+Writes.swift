import Foundation
import GRDB
import Synchronization
import SyncModel

extension ReplicaStore {
    /// Creates the replica identity. Throws `already_initialized` if there is one.
    @discardableResult
    public func initialize(device: DeviceID, name: String, at time: Int64) throws -> ReplicaInfo {
        try writer.write { db in
            if try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM replica") ?? 0 > 0 {
                throw StoreError(.alreadyInitialized, "this data folder already holds a replica; use another --data folder to start afresh")
            }
            try db.execute(sql: "INSERT INTO replica (id, device, name, counter, created) VALUES (1, ?, ?, 0, ?)",
                           arguments: [device.rawValue, name, time])
            return ReplicaInfo(device: device, name: name, counter: 0, created: time)
        }
    }

    /// The replica identity; throws `not_initialized` before `initialize`.
    public func replica() throws -> ReplicaInfo {
        try writer.read { db in try Self.replica(in: db) }
    }

    /// The replica identity inside a transaction the caller holds.
    package static func replica(in db: Database) throws -> ReplicaInfo {
        guard let row = try GRDB.Row.fetchOne(db.cachedStatement(sql: "SELECT device, name, counter, created FROM replica WHERE id = 1")) else {
            throw StoreError(.notInitialized, "no replica here yet; run `casesync init` first")
        }
        guard let device = try? DeviceID(row["device"] as String) else {
            throw StoreError(.corrupt, "the stored device id is not valid")
        }
        return ReplicaInfo(device: device, name: row["name"], counter: row["counter"], created: row["created"])
    }

    /// One local write to record `id`, in one transaction: takes the device's next counter,
    /// lets `body` change the state (an empty state when `creating`), checks the result is a
    /// complete valid record, stores it and queues it for the next push.
    ///
    /// - Throws: `not_found` for a missing record (or `wrong_type`), whatever `body` throws,
    ///   and `ModelError`s from validation. Nothing is stored when anything throws.
    @discardableResult
    public func write(
        _ id: RecordID, type: RecordType, creating: Bool = false, at time: Int64,
        _ body: (inout RecordState, Stamp) throws -> Void
    ) throws -> RecordState {
        try writer.write { db in
            let replica = try Self.replica(in: db)
            var state: RecordState
            if let existing = try Self.load(id, in: db, sealer: sealer) {
                guard existing.type == type else {
                    throw StoreError(.wrongType, "\(id) is a \(existing.type.rawValue), not a \(type.rawValue)")
                }
                guard !creating else { throw StoreError(.corrupt, "record \(id) already exists") }
                state = existing
            } else {
                guard creating else { throw StoreError(.notFound, "no \(type.rawValue) \(id) here; `casesync \(type == .case ? "case list" : "case show CASE")` lists what exists") }
                state = RecordState(type: type, id: id)
            }
            let stamp = Stamp(device: replica.device, counter: replica.counter + 1, time: time)
            try body(&state, stamp)
            try state.validate()
            try Self.save(RecordRow(state, sealer: sealer), in: db)
            try Self.enqueue(id, in: db)
            try db.execute(sql: "UPDATE replica SET counter = ? WHERE id = 1", arguments: [stamp.dot.counter])
            return state
        }
    }

    /// Creates many records, one write (one dot) each, validated as complete, committing
    /// every `transactionSize` records: for imports and the store benchmark. The ids must be
    /// new (an import makes them). A failure stops the import at the failing transaction; the
    /// ones before it stay committed.
    ///
    /// While one transaction commits, the next one's records are stamped, validated and
    /// encoded on another thread. If another writer took counters in between, the
    /// transaction stamps its records again, so a dot is never used twice.
    public func create(_ records: [(type: RecordType, id: RecordID, changes: [FieldChange])], at time: Int64, transactionSize: Int = 500) throws {
        let size = max(1, transactionSize)
        let chunks = stride(from: 0, to: records.count, by: size).map { records[$0..<min($0 + size, records.count)] }
        guard !chunks.isEmpty else { return }
        let replica = try replica()
        let device = replica.device
        // `prepared` holds the next transaction's rows, stamped after counter `base`.
        var base = replica.counter
        let sealer = sealer
        var prepared = Result { try Self.rows(chunks[0], device: device, after: base, at: time, sealer: sealer) }
        for (index, chunk) in chunks.enumerated() {
            let rows = try prepared.get()
            let expected = base
            let committed = Mutex<Result<Int, any Error>>(.success(expected))
            let next = Mutex<Result<[RecordRow], any Error>?>(nil)
            DispatchQueue.concurrentPerform(iterations: 2) { worker in
                if worker == 0 {
                    let outcome = Result {
                        try self.writer.write { db in
                            let current = try Self.replica(in: db).counter
                            let stamped = current == expected ? rows : try Self.rows(chunk, device: device, after: current, at: time, sealer: sealer)
                            for row in stamped {
                                try Self.save(row, in: db)
                                try Self.enqueue(row.id, in: db)
                            }
                            try db.execute(sql: "UPDATE replica SET counter = ? WHERE id = 1", arguments: [current + chunk.count])
                            return current + chunk.count
                        }
                    }
                    committed.withLock { $0 = outcome }
                } else if index + 1 < chunks.count {
                    let outcome = Result { try Self.rows(chunks[index + 1], device: device, after: expected + chunk.count, at: time, sealer: sealer) }
                    next.withLock { $0 = outcome }
                }
            }
            _ = try committed.withLock { try $0.get() }
            base = expected + chunk.count
            if let outcome = next.withLock({ $0 }) { prepared = outcome }
        }
    }

    /// The rows of new records stamped with the device's counters after `counter`.
    static func rows(_ records: ArraySlice<(type: RecordType, id: RecordID, changes: [FieldChange])>, device: DeviceID, after counter: Int, at time: Int64,
                     sealer: RecordSealer) throws -> [RecordRow] {
        var counter = counter
        return try records.map { record in
            counter += 1
            var state = RecordState(type: record.type, id: record.id)
            try state.apply(record.changes, stamp: Stamp(device: device, counter: counter, time: time))
            try state.validate()
            return try RecordRow(state, sealer: sealer)
        }
    }

    /// Merges states received from another replica (as a pull does), in one transaction.
    /// Records whose merged state differs from the stored one are saved; the outbox is left
    /// as it is (local changes not yet pushed stay queued). The device's counter is raised
    /// above any of its own writes found in the received states, so it never reuses a dot.
    @discardableResult
    public func merge(_ states: [RecordState]) throws -> MergeOutcome {
        try writer.write { db in try Self.merge(states.map { ReceivedState($0) }, in: db, sealer: sealer) }
    }

    /// Like `merge(_:)`; a received state that is stored as it came (new here, or winning
    /// whole) keeps the bytes it arrived in instead of being encoded again.
    static func merge(_ states: [ReceivedState], in db: Database, sealer: RecordSealer) throws -> MergeOutcome {
        let replica = try Self.replica(in: db)
        var outcome = MergeOutcome()
        var counter = replica.counter
        let saveRecord = try saveStatement(in: db)
        for item in states {
            let received = item.state
            try received.validate(requireComplete: false)
            let existing = try Self.load(received.id, in: db, sealer: sealer)
            let merged = try existing.map { try $0.merged(with: received) } ?? received
            counter = max(counter, merged.version[replica.device])
            outcome.received += 1
            if merged != existing {
                let bytes = item.canonicalJSON.flatMap { existing == nil || merged == received ? $0 : nil }
                try Self.save(RecordRow(merged, canonicalJSON: bytes, sealer: sealer), seq: nil, using: saveRecord)
                outcome.changed += 1
            }
            if merged.hasConflicts { outcome.conflicted += 1 }
        }
        if counter != replica.counter {
            try db.execute(sql: "UPDATE replica SET counter = ? WHERE id = 1", arguments: [counter])
        }
        return outcome
    }

    /// The stored state of `id` inside a transaction the caller holds; `sealer` opens it
    /// (the node's is plain).
    package static func load(_ id: RecordID, in db: Database, sealer: RecordSealer) throws -> RecordState? {
        var state: RecordState?
        try db.cachedStatement(sql: "SELECT state FROM record WHERE id = ?").forEachRow { $0.bind(id) } _: { row in
            state = try decodeStored(row.bytes(at: 0), id: id.rawValue, sealer: sealer)
        }
        return state
    }

    /// A stored state blob as a state; a blob that does not open or decode is a corrupt
    /// store, reported with the record's id.
    static func decodeStored(_ bytes: [UInt8], id: @autoclosure () -> String, sealer: RecordSealer) throws -> RecordState {
        let json = try sealer.open(bytes, place: RecordSealer.Place.record(id()))
        do {
            return try RecordState(json: json)
        } catch {
            throw StoreError(.corrupt, "stored record \(id()) does not decode: \(error)")
        }
    }

    /// The stored states of `ids` that exist, read with one query per 500 ids, inside a
    /// transaction the caller holds.
    package static func loadAll(_ ids: some Collection<RecordID>, in db: Database, sealer: RecordSealer) throws -> [RecordID: RecordState] {
        // Room for every id, and the ids as given: a repeated id in `IN (...)` reads its row once.
        var states: [RecordID: RecordState] = [:]
        states.reserveCapacity(ids.count)
        let ids = Array(ids)
        for start in stride(from: 0, to: ids.count, by: loadChunkSize) {
            let chunk = ids[start..<min(start + loadChunkSize, ids.count)]
            // Full chunks (all but the last) share one prepared statement, and so do the
            // small batches a device's everyday sync pushes (preparing costs more than reading).
            let statement = chunk.count == loadChunkSize || chunk.count <= 16 ? try db.cachedStatement(sql: chunk.count == loadChunkSize ? loadChunkSQL : loadSQL(count: chunk.count))
                : try db.makeStatement(sql: loadSQL(count: chunk.count))
            try statement.forEachRow { bindings in
                for id in chunk { bindings.bind(id) }
            } _: { row in
                let state = try decodeStored(row.bytes(at: 1), id: String(decoding: row.bytes(at: 0), as: UTF8.self), sealer: sealer)
                states[state.id] = state
            }
        }
        return states
    }

    private static let loadChunkSize = 500
    private static let loadChunkSQL = loadSQL(count: loadChunkSize)

    private static func loadSQL(count: Int) -> String {
        "SELECT id, state FROM record WHERE id IN (\(repeatElement("?", count: count).joined(separator: ",")))"
    }

    /// The statement `save(_:seq:using:)` runs, prepared once per transaction by callers
    /// that save many rows.
    package static func saveStatement(in db: Database) throws -> Statement {
        try db.cachedStatement(sql: """
            INSERT INTO record (id, type, caseID, version, state, deleted, conflicted, reference, title, status, site, changed, seq)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(id) DO UPDATE SET
                caseID = excluded.caseID, version = excluded.version, state = excluded.state, deleted = excluded.deleted,
                conflicted = excluded.conflicted, reference = excluded.reference, title = excluded.title,
                status = excluded.status, site = excluded.site, changed = excluded.changed,
                seq = COALESCE(excluded.seq, record.seq)
            """)
    }

    /// Stores a row with the statement from `saveStatement(in:)`.
    package static func save(_ row: RecordRow, seq: Int?, using statement: Statement) throws {
        try statement.execute { bindings in
            row.bind(to: &bindings)
            bindings.bind(seq)
        }
    }

    /// Stores `state` unsealed (the node's way) inside a transaction the caller holds; `seq`
    /// is the change sequence number pulls page by (nil keeps the stored one).
    package static func save(_ state: RecordState, seq: Int? = nil, in db: Database) throws {
        try save(RecordRow(state, sealer: .plain), seq: seq, in: db)
    }

    /// Stores a row built earlier (see `RecordRow`) inside a transaction the caller holds.
    package static func save(_ row: RecordRow, seq: Int? = nil, in db: Database) throws {
        try save(row, seq: seq, using: saveStatement(in: db))
    }

    package static func enqueue(_ id: RecordID, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO outbox (recordID) VALUES (?)").execute { $0.bind(id) }
    }
}

/// What merging received states did.
public struct MergeOutcome: Hashable, Sendable {
    /// States received.
    public var received = 0
    /// Records whose stored state changed.
    public var changed = 0
    /// Received records that are in conflict after the merge.
    public var conflicted = 0

    /// Nothing merged yet.
    public init() {}
}
