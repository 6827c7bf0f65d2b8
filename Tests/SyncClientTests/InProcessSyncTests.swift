import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NodeStorage
import SyncClient
import SyncModel
import SyncServer
import SyncStore
import Testing

/// The real engine against the real node's router, in-process: the node's answers, not a
/// script's, in milliseconds.
struct InProcessSyncTests {
    let now: Int64 = 1_795_000_000_000

    /// A node with mediators ann and bob, one enrolled device each.
    func node() async throws -> (node: SyncNode, store: SQLiteNodeStore, secrets: [String: String]) {
        let store = try SQLiteNodeStore.inMemory()
        let node = try await SyncNode(store: store, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        var secrets: [String: String] = [:]
        for (user, device) in [("ann", "ann-laptop"), ("bob", "bob-laptop")] {
            _ = try store.addUser(user, role: .mediator, at: now)
            let token = try await node.makeEnrollmentToken(for: user, ttl: 3600)
            secrets[device] = try await node.enroll(token: token, device: DeviceID(device), name: device).secret
        }
        return (node, store, secrets)
    }

    func device(_ name: String) throws -> ReplicaStore {
        let store = try ReplicaStore.inMemory()
        try store.initialize(device: try DeviceID(name), name: name, at: now)
        return store
    }

    /// Ann's case and note reach the node and Bob (once she adds him); a note of a case the
    /// node has never seen is refused by the node by index, set aside, and stays queued on
    /// Ann's device, while everything else goes through.
    @Test func casesAndNotesTravelAndARefusedRecordStaysQueued() async throws {
        let (node, nodeStore, secrets) = try await node()
        let ann = try device("ann-laptop")
        let bob = try device("bob-laptop")
        var generator = SystemRandomNumberGenerator()
        let caseID = RecordID.make(milliseconds: now, using: &generator)
        try ann.write(caseID, type: .case, creating: true, at: now) { state, stamp in
            try state.apply([.set("reference", .text("MED-2026-0001")), .set("title", .text("Billing dispute")), .set("status", .text("intake")),
                             .add("mediators", "ann"), .add("mediators", "bob")], stamp: stamp)
        }
        let noteID = RecordID.make(milliseconds: now + 1, using: &generator)
        try ann.write(noteID, type: .note, creating: true, at: now) { state, stamp in
            try state.apply([.set("case", .text(caseID.rawValue)), .set("text", .text("joint session went well"))], stamp: stamp)
        }
        let orphanID = RecordID.make(milliseconds: now + 2, using: &generator)
        let unknownCase = RecordID.make(milliseconds: now + 3, using: &generator)
        try ann.write(orphanID, type: .note, creating: true, at: now) { state, stamp in
            try state.apply([.set("case", .text(unknownCase.rawValue)), .set("text", .text("a note of no case here"))], stamp: stamp)
        }
        let router = buildRouter(node: node, configuration: NodeConfiguration())
        try await Application(router: router).test(.router) { client in
            let transport = RouterTransport(client: client)
            let annSync = SyncEngine(store: ann, client: SyncClient(transport: transport, device: try DeviceID("ann-laptop"), secret: secrets["ann-laptop"], retry: .none))
            let summary = try await annSync.run()
            #expect(summary.pushed == 2)
            #expect(summary.refused.map(\.id) == [orphanID])
            #expect(try ann.outbox(after: nil, limit: 10).map(\.id) == [orphanID], "the refused note stays queued")
            #expect(try nodeStore.record(noteID) != nil && nodeStore.record(orphanID) == nil)

            let bobSync = SyncEngine(store: bob, client: SyncClient(transport: transport, device: try DeviceID("bob-laptop"), secret: secrets["bob-laptop"], retry: .none))
            let pulled = try await bobSync.run()
            #expect(pulled.pulled == 2)
            #expect(try bob.record(noteID)?.text("text") == "joint session went well")
            #expect(try bob.record(orphanID) == nil)
            // Nothing new: an idle sync pulls nothing and keeps the cursor.
            let cursor = try bob.setting(SyncEngine.cursorKey)
            #expect(try await bobSync.run().pulled == 0)
            #expect(try bob.setting(SyncEngine.cursorKey) == cursor)
        }
    }
}
