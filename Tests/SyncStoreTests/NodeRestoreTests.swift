import Foundation
import GRDB
import NodeStorage
import SyncModel
import Testing
@testable import SyncStore

/// What `SQLiteNodeStore.restoreNode` takes from the backup and what from the database it
/// replaces.
struct NodeRestoreTests {
    let now: Int64 = 1_795_000_000_000

    func caseState(_ number: UInt64, writes: [(String, Int)]) throws -> RecordState {
        var state = RecordState(type: .case, id: RecordID(high: 0x0192_f0c4_7d3e_7a41, low: number))
        for (index, (device, counter)) in writes.enumerated() {
            try state.apply([.set("reference", .text("MED-\(number)")), .set("title", .text("t\(index)")), .set("status", .text("intake"))],
                            stamp: Stamp(device: try DeviceID(device), counter: counter, time: now))
        }
        return state
    }

    func store(_ states: [(RecordState, seq: Int, mediator: String)], in store: SQLiteNodeStore) throws {
        try store.writer.write { db in
            for (state, seq, mediator) in states {
                try ReplicaStore.save(state, seq: seq, in: db)
                try db.execute(sql: "INSERT INTO caseAccess (caseID, user, grantedSeq) VALUES (?, ?, ?)", arguments: [state.id.rawValue, mediator, seq])
            }
        }
    }

    @Test func recordsComeFromTheBackupAndAccountsAccessLimitsAndSequenceFromTheReplacedDatabase() async throws {
        let dir = try temporaryFolder("node-restore")
        defer { try? FileManager.default.removeItem(at: dir) }
        let currentPath = dir.appendingPathComponent("current.sqlite").path
        let current = try SQLiteNodeStore.open(path: currentPath)
        try await current.writer.write { db in try db.execute(sql: "UPDATE replica SET device = 'node-first'") }
        _ = try current.addUser("ann", role: .mediator, at: now)
        try store([(try caseState(1, writes: [("ann-laptop", 3)]), 1, "ann")], in: current)
        let backup = dir.appendingPathComponent("backup.sqlite").path
        try current.backup(to: backup, at: now)
        #expect(try FileManager.default.attributesOfItem(atPath: backup)[.posixPermissions] as? Int == 0o600)

        // After the backup: more writes (bob's among them), a new user, a new grant.
        _ = try current.addUser("bob", role: .mediator, at: now)
        try store([(try caseState(2, writes: [("ann-laptop", 7), ("bob-laptop", 2)]), 2, "bob"),
                   (try caseState(3, writes: [("ann-laptop", 5)]), 3, "ann")], in: current)
        // … a lost laptop to erase, and a right lost (its devices are still to be told).
        try await current.writer.write { db in
            try db.execute(sql: "INSERT INTO device (id, user, name, secretHash, created) VALUES ('bob-laptop', 'bob', 'bob-laptop', x'00', ?)", arguments: [now])
            try db.execute(sql: "INSERT INTO dropNotice (user, seq, caseID, recordID, reason) VALUES ('ann', 3, ?, '', 'mediator-removed')",
                           arguments: [try caseState(1, writes: [("ann-laptop", 3)]).id.rawValue])
        }
        _ = try current.revokeDevice("bob-laptop", wipeAt: now)
        let generationBefore = try await current.nodeState(at: now).generation
        try (current.writer as? DatabasePool)?.close()

        let restoredPath = dir.appendingPathComponent("restored.sqlite").path
        let report = try SQLiteNodeStore.restoreNode(from: backup, to: restoredPath, accountsFrom: currentPath, windowUntil: now + 1000, at: now)
        #expect(report.records == 1 && report.accountsFromCurrent && report.backupTaken == now)
        #expect(!FileManager.default.fileExists(atPath: restoredPath + "-wal"), "the restored file stands alone")
        let restored = try SQLiteNodeStore.open(path: restoredPath)
        let state = try await restored.nodeState(at: now)
        #expect(state.backupTaken == nil, "no longer a backup copy")
        #expect(state.generation == report.generation && report.generation != generationBefore)
        #expect(try restored.users().map(\.name) == ["ann", "bob"])
        let access = try await restored.writer.read { db in try String.fetchAll(db, sql: "SELECT caseID || ':' || user FROM caseAccess ORDER BY caseID") }
        #expect(access.count == 3 && access.contains { $0.hasSuffix(":bob") }, "today's case access")
        // Case 1 (seq 1 in the backup) lost a right at 3 after the backup: its records are
        // numbered anew above everything, so a device pulling from the start meets the drop first.
        #expect(restored.sequenceFloor == 4, "new changes are numbered above the replaced database's, and above the renumbered")
        #expect(try await restored.writer.read { db in try Int.fetchOne(db, sql: "SELECT seq FROM record") } == 4)
        #expect(try await restored.device(try DeviceID("bob-laptop"))?.wipe?.isPending == true, "a wipe asked since the backup stands")
        #expect(try await restored.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM dropNotice WHERE user = 'ann'") } == 1, "and so do the drops")
        let window = try #require(state.restoreWindow)
        #expect(window.formerNodes == [try DeviceID("node-first")])
        #expect(try restored.identity().device.rawValue != "node-first", "the node writes under a new id")
        let (ann, bob, eve) = (try DeviceID("ann-laptop"), try DeviceID("bob-laptop"), try DeviceID("eve-laptop"))
        #expect(window.relayLimits?[ann] == 7 && window.relayLimits?[bob] == 2)
        #expect(window.mayRelay(Dot(device: bob, counter: 2), writers: [bob]))
        #expect(!window.mayRelay(Dot(device: bob, counter: 3), writers: [bob]), "above what the node ever had")
        #expect(!window.mayRelay(Dot(device: eve, counter: 1), writers: []), "not a case writer")
        #expect(try await restored.nodeState(at: now + 1000).restoreWindow == nil, "the window ends by itself")
        let restoredNode = try restored.identity().device
        try (restored.writer as? DatabasePool)?.close()

        // Restored again (from the same backup), the node keeps every id it wrote under.
        let again = dir.appendingPathComponent("again.sqlite").path
        _ = try SQLiteNodeStore.restoreNode(from: backup, to: again, accountsFrom: restoredPath, windowUntil: now + 1000, at: now)
        let twice = try SQLiteNodeStore.open(path: again)
        #expect(try await twice.nodeState(at: now).restoreWindow?.formerNodes == [try DeviceID("node-first"), restoredNode])
        #expect(twice.sequenceFloor == 5, "the carried drop is above the backup's records again")
    }

    @Test func aFileThatIsNotANodeBackupIsRefusedAndNothingIsLeftBehind() throws {
        let dir = try temporaryFolder("node-restore")
        defer { try? FileManager.default.removeItem(at: dir) }
        let junk = dir.appendingPathComponent("junk").path
        try Data("not a database".utf8).write(to: URL(fileURLWithPath: junk))
        #expect { try SQLiteNodeStore.restoreNode(from: junk, to: dir.appendingPathComponent("out").path, accountsFrom: nil, windowUntil: now, at: now) }
            throws: { ($0 as? StoreError)?.code == .unusable }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
        // A device's replica is no node's backup.
        let devicePath = dir.appendingPathComponent("device.sqlite").path
        let device = try ReplicaStore.open(path: devicePath)
        try device.initialize(device: try DeviceID("ann-laptop"), name: "laptop", at: now)
        try (device.writer as? DatabasePool)?.close()
        #expect { try SQLiteNodeStore.restoreNode(from: devicePath, to: dir.appendingPathComponent("out2").path, accountsFrom: nil, windowUntil: now, at: now) }
            throws: { ($0 as? StoreError)?.code == .unusable }
    }
}
