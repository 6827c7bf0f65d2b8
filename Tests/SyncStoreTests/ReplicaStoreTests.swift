import Foundation
import GRDB
import Synchronization
import SyncModel
import Testing
@testable import SyncStore

struct ReplicaStoreTests {
    let device = try! DeviceID("ann-laptop")  // safe: a literal valid id
    let now: Int64 = 1_763_800_000_000

    func makeStore() throws -> ReplicaStore {
        let store = try ReplicaStore.inMemory()
        try store.initialize(device: device, name: "Ann's laptop", at: now)
        return store
    }

    func newCase(_ store: ReplicaStore, title: String = "Billing dispute", site: String = "North") throws -> RecordState {
        var generator = SystemRandomNumberGenerator()
        let id = RecordID.make(milliseconds: now, using: &generator)
        return try store.write(id, type: .case, creating: true, at: now) { state, stamp in
            try state.apply([.set("reference", .text("MED-2026-\(id.rawValue.suffix(4).uppercased())")), .set("title", .text(title)),
                             .set("status", .text("intake")), .set("site", .text(site))], stamp: stamp)
        }
    }

    @Test func eachWriteTakesTheNextCounterAndIsQueuedForPush() throws {
        let store = try makeStore()
        let first = try newCase(store)
        let second = try newCase(store)
        #expect(first.version[device] == 1)
        #expect(second.version[device] == 2)
        #expect(try store.replica().counter == 2)
        #expect(try store.counts().pending == 2)
        #expect(try store.record(first.id) == first)
    }

    @Test func aRejectedWriteChangesNothing() throws {
        let store = try makeStore()
        let state = try newCase(store)
        #expect(throws: ModelError.self) {
            try store.write(state.id, type: .case, at: now) { state, stamp in
                try state.apply([.set("title", .text("fine")), .set("status", .text("no-such-stage"))], stamp: stamp)
            }
        }
        #expect(try store.record(state.id) == state)
        #expect(try store.replica().counter == 1)
        // An incomplete new record is refused too.
        var generator = SystemRandomNumberGenerator()
        #expect(throws: ModelError.self) {
            try store.write(RecordID.make(milliseconds: now, using: &generator), type: .case, creating: true, at: now) { state, stamp in
                try state.apply([.set("title", .text("no reference, no status"))], stamp: stamp)
            }
        }
        #expect(try store.counts().records == 1)
    }

    @Test func writingAMissingRecordIsNotFound() throws {
        let store = try makeStore()
        var generator = SystemRandomNumberGenerator()
        #expect { try store.write(RecordID.make(milliseconds: now, using: &generator), type: .case, at: now) { _, _ in } } throws: {
            ($0 as? StoreError)?.code == .notFound
        }
    }

    @Test func listsFilterByStatusAndSiteFromIndexedColumns() throws {
        let store = try makeStore()
        let north = try newCase(store, title: "A", site: "North")
        _ = try newCase(store, title: "B", site: "South")
        try store.write(north.id, type: .case, at: now) { state, stamp in try state.set("status", .text("negotiation"), stamp: stamp) }
        #expect(try store.cases().count == 2)
        #expect(try store.cases(status: "negotiation").map(\.id) == [north.id])
        #expect(try store.cases(site: "South").map(\.title) == ["B"])
        try store.write(north.id, type: .case, at: now) { state, stamp in try state.delete(stamp: stamp) }
        #expect(try store.cases().map(\.title) == ["B"])
    }

    @Test func idsResolveByFullIDReferenceOrShortSuffix() throws {
        let store = try makeStore()
        let state = try newCase(store)
        #expect(try store.resolve(state.id.rawValue) == state.id)
        #expect(try store.resolve(state.text("reference")!.lowercased()) == state.id)
        #expect(try store.resolve(String(state.id.rawValue.suffix(8))) == state.id)
        #expect { try store.resolve("ffffffffffff") } throws: { ($0 as? StoreError)?.code == .notFound }
    }

    @Test func mergingAnotherReplicasStateShowsTheConflictAndKeepsTheOutbox() throws {
        let store = try makeStore()
        let base = try newCase(store)
        var remote = base
        try remote.set("title", .text("Bob's title"), stamp: Stamp(device: try DeviceID("bob-laptop"), counter: 1, time: now + 5))
        try store.write(base.id, type: .case, at: now + 1) { state, stamp in try state.set("title", .text("Ann's title"), stamp: stamp) }
        let outcome = try store.merge([remote])
        #expect(outcome.changed == 1)
        #expect(outcome.conflicted == 1)
        #expect(try store.conflictedRecords().map(\.id) == [base.id])
        #expect(try store.cases().first?.conflicted == true)
        #expect(try store.counts().pending == 1)
        // Merging the same state again changes nothing.
        #expect(try store.merge([remote]).changed == 0)
    }

    @Test func aMergedStateHoldingOwnWritesRaisesTheCounter() throws {
        let store = try makeStore()
        let base = try newCase(store)
        var fromBackup = base
        try fromBackup.set("site", .text("East"), stamp: Stamp(device: device, counter: 9, time: now))
        try store.merge([fromBackup])
        let next = try store.write(base.id, type: .case, at: now) { state, stamp in try state.set("site", .text("West"), stamp: stamp) }
        #expect(next.version[device] == 10)
    }

    @Test func aStoreOnDiskIsInWALModeAndSound() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("casesync-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try ReplicaStore.open(directory: directory)
        try store.initialize(device: device, name: "test", at: now)
        _ = try newCase(store)
        #expect(try store.writer.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
        #expect(try store.integrityCheck() == ["ok"])
        let reopened = try ReplicaStore.open(directory: directory)
        #expect(try reopened.counts().cases == 1)
        #expect { try reopened.initialize(device: device, name: "again", at: now) } throws: { ($0 as? StoreError)?.code == .alreadyInitialized }
    }

    @Test func loadAllReadsExactlyTheStoredStatesOfManyIDs() throws {
        let store = try makeStore()
        let records = imports(1_200)
        try store.create(Array(records[..<600]), at: now, transactionSize: 600)
        let loaded = try store.writer.read { db in try ReplicaStore.loadAll(records.map(\.id) + [records[0].id], in: db, sealer: .plain) }
        #expect(Set(loaded.keys) == Set(records[..<600].map(\.id)))
        let one = try store.writer.read { db in try ReplicaStore.load(records[599].id, in: db, sealer: .plain) }
        #expect(loaded[records[599].id] == one)
    }

    /// The case fields `create` imports, for `count` cases.
    func imports(_ count: Int) -> [(type: RecordType, id: RecordID, changes: [FieldChange])] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { index in
            (.case, RecordID.make(milliseconds: now + Int64(index), using: &generator),
             [.set("reference", .text("MED-2026-\(1000 + index)")), .set("title", .text("Import \(index)")), .set("status", .text("intake"))])
        }
    }

    @Test func aBulkCreateNeverUsesADotTwiceEvenWithAnotherWriterBetweenItsTransactions() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("casesync-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try ReplicaStore.open(directory: directory)
        try store.initialize(device: device, name: "test", at: now)

        // Another writer takes counters while the import runs, so some transactions find the
        // counters they were prepared with already used and must stamp their records again.
        let records = imports(600)
        let stop = StopFlag()
        let finished = DispatchSemaphore(value: 0)
        Thread {
            while !stop.isSet { _ = try? self.newCase(store) }
            finished.signal()
        }.start()
        try store.create(records, at: now, transactionSize: 7)
        stop.set()
        finished.wait()

        let states = try store.writer.read { db in try Data.fetchAll(db, sql: "SELECT state FROM record").map { try RecordState(json: [UInt8]($0)) } }
        let dots = states.flatMap { $0.version.dots }
        #expect(states.count > records.count, "the other writer wrote too")
        #expect(Set(dots).count == dots.count, "no dot was used twice")
        #expect(dots.map(\.counter).max() == (try store.replica().counter))
        #expect(try store.counts().pending == states.count)
        #expect(Set(records.map(\.id)).isSubset(of: Set(states.map(\.id))))
    }

    @Test func aFailingImportKeepsTheTransactionsBeforeIt() throws {
        let store = try makeStore()
        var records = imports(10)
        records[7].changes = [.set("title", .text("No reference or status"))]
        #expect(throws: ModelError.self) { try store.create(records, at: now, transactionSize: 5) }
        #expect(try store.counts().cases == 5)
        #expect(try store.replica().counter == 5)
    }

    @Test func theV3MigrationKeepsQueuedRecordsAndCaseAccess() throws {
        let queue = try DatabaseQueue()
        // The history devices and nodes share (a device's v6 drops the node's tables).
        var migrator = ReplicaStore.migrator
        try migrator.migrate(queue, upTo: "v2: sync node accounts, access, audit")
        try queue.write { db in
            try db.execute(sql: "INSERT INTO outbox (recordID) VALUES ('r1'), ('r2')")
            try db.execute(sql: "INSERT INTO caseAccess (caseID, user, grantedSeq) VALUES ('c1', 'ann', 4)")
        }
        migrator = ReplicaStore.migrator
        try migrator.migrate(queue, upTo: "v5: relay limits of a restored node")
        let (queued, granted, schema) = try queue.read { db in
            (try String.fetchAll(db, sql: "SELECT recordID FROM outbox ORDER BY recordID"),
             try Int.fetchOne(db, sql: "SELECT grantedSeq FROM caseAccess WHERE user = 'ann' AND caseID = 'c1'"),
             try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = 'outbox'"))
        }
        #expect(queued == ["r1", "r2"])
        #expect(granted == 4)
        #expect(schema?.contains("WITHOUT ROWID") == true)
    }
}

/// Tells a helper thread to stop.
final class StopFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}
