import Foundation
import GRDB
import NodeStorage
import SyncModel
import Testing
@testable import SyncStore

/// A sync node's database and a device's replica have schemas of their own, and neither
/// store opens the other's database.
struct NodeStoreSchemaTests {
    let now: Int64 = 1_795_000_000_000

    static func objects(_ writer: any DatabaseWriter) throws -> Set<String> {
        try writer.read { db in Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'grdb%'")) }
    }

    @Test func eachKindOfDatabaseHoldsOnlyItsOwnTables() throws {
        let node = try SQLiteNodeStore.inMemory()
        let device = try ReplicaStore.inMemory()
        let nodeObjects = try Self.objects(node.writer)
        let deviceObjects = try Self.objects(device.writer)
        #expect(nodeObjects.isSuperset(of: ["record", "replica", "setting", "user", "device", "enrollment", "caseAccess", "audit", "relayLimit"]))
        #expect(nodeObjects.isDisjoint(with: ["outbox", "redelivery", "record_case_list"]), "a node has no outbox and no list index")
        #expect(deviceObjects.isSuperset(of: ["record", "replica", "setting", "outbox", "redelivery", "record_case_list"]))
        #expect(deviceObjects.isDisjoint(with: ["user", "device", "enrollment", "caseAccess", "audit", "relayLimit"]), "a device holds no accounts")
        #expect(try node.identity().device.rawValue.hasPrefix("node-"), "a new node database has the node's identity")
    }

    @Test func neitherStoreOpensTheOtherKindOfDatabase() throws {
        let dir = try temporaryFolder("node-schema")
        defer { try? FileManager.default.removeItem(at: dir) }
        let devicePath = dir.appendingPathComponent("device.sqlite").path
        let device = try ReplicaStore.open(path: devicePath)
        try device.initialize(device: try DeviceID("ann-laptop"), name: "laptop", at: now)
        try (device.writer as? DatabasePool)?.close()
        #expect { try SQLiteNodeStore.open(path: devicePath) } throws: { ($0 as? StoreError)?.code == .unusable }
        #expect(try ReplicaStore.open(path: devicePath).replica().device.rawValue == "ann-laptop", "the device's replica is untouched")

        let nodePath = dir.appendingPathComponent("node.sqlite").path
        let node = try SQLiteNodeStore.open(path: nodePath)
        _ = try node.addUser("ann", role: .mediator, at: now)
        try (node.writer as? DatabasePool)?.close()
        #expect { try ReplicaStore.open(path: nodePath) } throws: { ($0 as? StoreError)?.code == .unusable }
        #expect(try SQLiteNodeStore.open(path: nodePath).users().map(\.name) == ["ann"], "the node's accounts are untouched")
    }

    /// An administration command opens the node's database to read (`casesyncd user list`):
    /// an up-to-date database is not changed (the index a node does not need is dropped by a
    /// migration, once, not at every start). (GRDB's pool itself creates and drops a table
    /// when it finds no log file, which leaves schema and rows as they were.)
    @Test func openingAnUpToDateNodeDatabaseChangesNoSchemaAndNoRow() throws {
        let dir = try temporaryFolder("node-schema")
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("replica.sqlite").path
        let first = try SQLiteNodeStore.open(path: path)
        _ = try first.addUser("ann", role: .mediator, at: now)
        try (first.writer as? DatabasePool)?.close()
        func contents() throws -> [String] {
            var readOnly = Configuration()
            readOnly.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: readOnly)
            defer { try? queue.close() }
            return try queue.read { db in
                let schema = try String.fetchAll(db, sql: "SELECT type || ' ' || name || ' ' || sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
                var rows: [String] = []
                for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") {
                    rows += try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"").map { "\(table): \($0)" }
                }
                return schema + rows
            }
        }
        let before = try contents()
        let again = try SQLiteNodeStore.open(path: path)
        #expect(try again.users().count == 1)
        try (again.writer as? DatabasePool)?.close()
        #expect(try contents() == before)
    }

    /// Durable on commit: an acknowledged push survives power loss, not only a crash.
    @Test func theNodesWriterSyncsEveryCommit() throws {
        let dir = try temporaryFolder("node-schema")
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try SQLiteNodeStore.open(directory: dir)
        #expect(try store.writer.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2, "FULL")
    }

    /// The node's store copies its log into the database on a connection of its own: the
    /// writer's own threshold is far above what is written here, so the database file holds
    /// the records only once the background checkpoint has run.
    @Test func aBackgroundCheckpointCopiesTheLogWithoutTheWriter() async throws {
        let directory = try temporaryFolder("node-schema")
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteNodeStore.open(directory: directory, checkpointInBackground: true)
        let checkpoints = Task { await store.runCheckpoints { error in Issue.record(error) } }
        defer { checkpoints.cancel() }
        for chunk in 0..<3 {
            try await store.writer.write { [now] db in
                var generator = SystemRandomNumberGenerator()
                for index in 0..<100 {
                    var state = RecordState(type: .case, id: RecordID.make(milliseconds: now + Int64(chunk * 100 + index), using: &generator))
                    try state.apply([.set("reference", .text("MED-\(chunk)-\(index)")), .set("title", .text("Import")), .set("status", .text("intake"))],
                                    stamp: Stamp(device: try DeviceID("ann-laptop"), counter: chunk * 100 + index + 1, time: now))
                    try ReplicaStore.save(state, seq: chunk * 100 + index + 1, in: db)
                }
            }
        }
        let file = directory.appendingPathComponent("replica.sqlite").path
        func fileBytes() throws -> Int { (try FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0 }
        func pageBytes() throws -> Int {
            try store.writer.read { db in try (Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0) * (Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0) }
        }
        let databaseBytes = try pageBytes()
        #expect(try fileBytes() < databaseBytes, "the writer checkpointed by itself")
        store.requestCheckpoint()
        for _ in 0..<250 where try fileBytes() < databaseBytes {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try fileBytes() == databaseBytes, "the log was not copied into the database")
        #expect(try store.integrityCheck() == ["ok"])
        #expect(try SQLiteNodeStore.open(directory: directory).recordCount() == 300)
    }

    /// A node's database from before holding rules learns each note's scope and owner (the
    /// user of the device that wrote its text) and its restricted cases.
    @Test func theHoldingMigrationFillsInExistingNotesAndCases() throws {
        let queue = try DatabaseQueue()
        try SQLiteNodeStore.migrator.migrate(queue, upTo: "v6 node: without a device's outbox, re-delivery and list index")
        let ann = try DeviceID("ann-laptop")
        var theCase = RecordState(type: .case, id: RecordID(high: 1, low: 1))
        try theCase.apply([.set("reference", .text("MED-1")), .set("title", .text("t")), .set("status", .text("intake")),
                           .set("confidentiality", .text("restricted"))], stamp: Stamp(device: ann, counter: 1, time: now))
        var note = RecordState(type: .note, id: RecordID(high: 1, low: 2))
        try note.apply([.set("case", .text(theCase.id.rawValue)), .set("text", .text("x")), .set("visibility", .text("caucus"))],
                       stamp: Stamp(device: ann, counter: 2, time: now))
        try queue.write { db in
            try db.execute(sql: "INSERT INTO user (name, role, created) VALUES ('ann', 'mediator', 0)")
            try db.execute(sql: "INSERT INTO device (id, user, name, secretHash, created) VALUES ('ann-laptop', 'ann', 'laptop', x'00', 0)")
            try ReplicaStore.save(theCase, seq: 1, in: db)
            try ReplicaStore.save(note, seq: 2, in: db)
        }
        try SQLiteNodeStore.migrator.migrate(queue)
        let (scope, owner, restricted, caseScope) = try queue.read { db in
            (try Int.fetchOne(db, sql: "SELECT scope FROM record WHERE id = ?", arguments: [note.id.rawValue]),
             try String.fetchOne(db, sql: "SELECT owner FROM record WHERE id = ?", arguments: [note.id.rawValue]),
             try String.fetchAll(db, sql: "SELECT caseID FROM restrictedCase"),
             try Int.fetchOne(db, sql: "SELECT scope FROM record WHERE id = ?", arguments: [theCase.id.rawValue]))
        }
        #expect(scope == HoldingScope.owner.rawValue && owner == "ann")
        #expect(restricted == [theCase.id.rawValue])
        #expect(caseScope == HoldingScope.mediators.rawValue, "a restricted case's records are its mediators'")
    }

    @Test func theDeliveryMigrationEntersWhatEachMediatorAlreadyHolds() throws {
        let queue = try DatabaseQueue()
        try SQLiteNodeStore.migrator.migrate(queue, upTo: "v14 node: offline leases")
        let ann = try DeviceID("ann-laptop")
        var theCase = RecordState(type: .case, id: RecordID(high: 1, low: 1))
        try theCase.apply([.set("reference", .text("MED-1")), .set("title", .text("t")), .set("status", .text("intake"))],
                          stamp: Stamp(device: ann, counter: 1, time: now))
        var shared = RecordState(type: .note, id: RecordID(high: 1, low: 2))
        try shared.apply([.set("case", .text(theCase.id.rawValue)), .set("text", .text("x"))], stamp: Stamp(device: ann, counter: 2, time: now))
        var caucus = RecordState(type: .note, id: RecordID(high: 1, low: 3))
        try caucus.apply([.set("case", .text(theCase.id.rawValue)), .set("text", .text("y")), .set("visibility", .text("caucus"))],
                         stamp: Stamp(device: ann, counter: 3, time: now))
        try queue.write { db in
            try ReplicaStore.save(theCase, seq: 1, in: db)
            try ReplicaStore.save(shared, seq: 2, in: db)
            try ReplicaStore.save(caucus, seq: 3, in: db)
            try db.execute(sql: "UPDATE record SET noteScope = 2, scope = 2, owner = 'ann' WHERE id = ?", arguments: [caucus.id.rawValue])
            // Ann mediates from the start; bob was added at sequence 5, after all three.
            try db.execute(sql: "INSERT INTO caseAccess (caseID, user, grantedSeq) VALUES (?, 'ann', 1), (?, 'bob', 5)",
                           arguments: [theCase.id.rawValue, theCase.id.rawValue])
        }
        try SQLiteNodeStore.migrator.migrate(queue)
        let rows = try queue.read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT user, delivery, seq FROM delivery ORDER BY user, delivery, seq").map { "\($0[0] as String) \($0[1] as Int) \($0[2] as Int)" }
        }
        #expect(rows == ["ann 1 1", "ann 2 2", "ann 3 3", "bob 5 1", "bob 5 2"], "bob gets the history at his grant, not ann's caucus note")
    }

    /// Every push and every empty pull page asks for the highest change sequence number: it
    /// must come from the sequence index, not a scan of every record (a scan cost 3 ms a push
    /// at 100,000 records and grew with the node).
    @Test func theHighestSequenceIsReadFromTheSequenceIndex() throws {
        let node = try SQLiteNodeStore.inMemory()
        let plan = try node.writer.read { db in
            try GRDB.Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SQLiteNodeStore.highestRecordSequence).map { $0["detail"] as String }
        }
        #expect(plan.contains { $0.contains("INDEX record_by_seq") }, "plan: \(plan)")
    }
}
