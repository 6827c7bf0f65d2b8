import Foundation
import GRDB
import Hummingbird
import HummingbirdTesting
import Logging
import NodeStorage
import SyncModel
import SyncServer
import SyncStore
import Testing

/// After a restore, a node takes back writes of other devices it lost, but only writes a
/// case writer could have made, only in the window, and never a state that brings nothing
/// new yet drops what the node holds.
struct RestoreWindowTests {
    static let generationHeader = HTTPFields.Element.Name("CaseSync-Generation")!

    /// The fixture's node as if restored from a backup that lacks `lost`: those records are
    /// gone (their access rows stay, as a restore keeps today's access), a new generation
    /// starts, and the window is open until `windowUntil`. `now` is the restored node's clock.
    static func restored(_ fixture: NodeFixture, losing lost: [RecordID], windowUntil: Int64, now: Int64,
                         relayLimits: [String: Int]? = nil) async throws -> SyncNode {
        let sqlite = try #require(fixture.sqlite)
        try await sqlite.writer.write { db in
            for id in lost {
                try db.execute(sql: "DELETE FROM record WHERE id = ?", arguments: [id.rawValue])
            }
        }
        try sqlite.startGeneration(windowUntil: windowUntil, at: now, relayLimits: relayLimits)
        return try await node(over: fixture, now: now)
    }

    static func node(over fixture: NodeFixture, now: Int64) async throws -> SyncNode {
        try await SyncNode(store: fixture.store, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, now: { now })
    }

    static func test<Value>(_ node: SyncNode, _ fixture: NodeFixture, _ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await Application(router: buildRouter(node: node, configuration: fixture.configuration)).test(.router, body)
    }

    static func relayAudits(_ store: any NodeStore) async throws -> [String] {
        try await store.auditLog(limit: 1000).filter { $0.action == "relay" }.map(\.records)
    }

    @Test func inTheWindowADeviceBringsBackLostWritesOfCaseWritersOnly() async throws {
        let fixture = try await NodeFixture(now: 1_795_000_000_000)
        let now = fixture.time
        // Before the failure: a case of ann and bob that bob retitled, a case of ann's that the
        // node made her a mediator of (a write of the node's own), and a note of bob's.
        let shared = try NodeFixture.caseState(1, by: "ann-laptop", counter: 1, mediators: ["ann", "bob"])
        let annsOwn = try NodeFixture.caseState(2, by: "ann-laptop", counter: 2)
        let (heldShared, heldOwn, bobsNote) = try await fixture.test { client in
            #expect(try await fixture.push(client, [shared, annsOwn], as: "ann-laptop").0 == .ok)
            var retitled = try #require(try await fixture.store.record(shared.id))
            try retitled.set("title", .text("Retitled by bob"), stamp: Stamp(device: try DeviceID("bob-laptop"), counter: 1, time: now))
            let note = try NodeFixture.note(3, in: shared.id, by: "bob-laptop", counter: 2)
            #expect(try await fixture.push(client, [retitled, note], as: "bob-laptop").0 == .ok)
            // What ann's laptop holds after pulling.
            return (try #require(try await fixture.store.record(shared.id)), try #require(try await fixture.store.record(annsOwn.id)),
                    try #require(try await fixture.store.record(note.id)))
        }
        #expect(heldOwn.version.dots.contains { $0.device.rawValue.hasPrefix("node-") }, "the node wrote ann into her own case")
        let generationBefore = fixture.node.generation

        let node = try await Self.restored(fixture, losing: [shared.id, annsOwn.id, bobsNote.id], windowUntil: now + 3_600_000, now: now)
        #expect(node.generation != generationBefore)
        try await Self.test(node, fixture) { client in
            // Writes of bob's device and of the node's former self come back through ann.
            let (status, answer) = try await fixture.push(client, [heldShared, heldOwn], as: "ann-laptop")
            #expect(status == .ok, "\(answer)")
            let sharedNow = try await fixture.store.record(shared.id)
            let ownNow = try await fixture.store.record(annsOwn.id)
            #expect(sharedNow == heldShared && ownNow == heldOwn)
            let relays = try await Self.relayAudits(fixture.store)
            #expect(relays.count == 1 && relays[0].contains(shared.id.rawValue) && relays[0].contains(annsOwn.id.rawValue))

            // Writes no case writer made are still forgeries.
            for stranger in ["mallory-pc", "rita-desk", "adam-desk"] {
                var forged = try NodeFixture.caseState(9, by: "ann-laptop", counter: 3)
                try forged.set("title", .text("as if \(stranger) wrote it"), stamp: Stamp(device: try DeviceID(stranger), counter: 1, time: now))
                let (status, answer) = try await fixture.push(client, [forged], as: "ann-laptop")
                #expect(status == .unprocessableContent && NodeFixture.errorCode(answer) == "foreign_dot", "\(stranger): \(answer)")
            }
            // A state that brings nothing the node lacks cannot drop what it holds.
            let stored = try #require(try await fixture.store.record(shared.id))
            let dropping = RecordState(type: .case, id: stored.id, version: stored.version, fields: stored.fields.filter { $0.name != "mediators" })
            let (dropStatus, dropAnswer) = try await fixture.push(client, [dropping], as: "ann-laptop")
            #expect(dropStatus == .unprocessableContent && NodeFixture.errorCode(dropAnswer) == "no_own_write", "\(dropAnswer)")
            #expect(try await fixture.store.record(shared.id) == stored)
        }

        // Once the window has ended, a lost write of another device is refused again.
        let later = try await Self.node(over: fixture, now: now + 3_600_001)
        #expect(later.restoreWindow == nil)
        try await Self.test(later, fixture) { client in
            let (status, answer) = try await fixture.push(client, [bobsNote], as: "ann-laptop")
            #expect(status == .unprocessableContent && NodeFixture.errorCode(answer) == "foreign_dot", "\(answer)")
            #expect(try await fixture.store.record(bobsNote.id) == nil)
        }
    }

    @Test func everyAnswerNamesTheGenerationAndARewoundCursorOrUnknownDeviceIsToldWhatToDo() async throws {
        let fixture = try await NodeFixture()
        try await fixture.test { client in
            #expect(try await fixture.push(client, [try NodeFixture.caseState(1, by: "ann-laptop", counter: 1)], as: "ann-laptop").0 == .ok)
            let generation = fixture.node.generation
            try await client.execute(uri: "/v1/sync/pull?since=0", method: .get, headers: [.authorization: fixture.credentials["ann-laptop"] ?? ""]) { response in
                #expect(response.status == .ok && response.headers[Self.generationHeader] == generation)
            }
            // A cursor from before a restore is ahead of every sequence the node has.
            try await client.execute(uri: "/v1/sync/pull?since=1000", method: .get, headers: [.authorization: fixture.credentials["ann-laptop"] ?? ""]) { response in
                let answer = try NodeFixture.object(response.body)
                #expect(response.status == .conflict && NodeFixture.errorCode(answer) == "cursor_ahead")
                #expect(response.headers[Self.generationHeader] == generation, "errors carry the generation too")
            }
            // An id the node never enrolled is told how to enroll again; a wrong secret is not told more.
            try await client.execute(uri: "/v1/sync/pull?since=0", method: .get, headers: [.authorization: "Bearer ghost-pc:0000"]) { response in
                let answer = try NodeFixture.object(response.body)
                #expect(response.status == .unauthorized && NodeFixture.errorCode(answer) == "unknown_device")
                #expect(((answer["error"] as? [String: Any])?["message"] as? String)?.contains("casesync enroll --again") == true)
            }
            try await client.execute(uri: "/v1/sync/pull?since=0", method: .get, headers: [.authorization: "Bearer ann-laptop:0000"]) { response in
                let answer = try NodeFixture.object(response.body)
                #expect(response.status == .unauthorized && NodeFixture.errorCode(answer) == "unauthorised")
            }
        }
    }

    @Test func aRelayedWriteAboveWhatTheNodeEverHadIsRefused() async throws {
        let fixture = try await NodeFixture(now: 1_795_000_000_000)
        let now = fixture.time
        let shared = try NodeFixture.caseState(1, by: "ann-laptop", counter: 1, mediators: ["ann", "bob"])
        let held = try await fixture.test { client in
            #expect(try await fixture.push(client, [shared], as: "ann-laptop").0 == .ok)
            var retitled = try #require(try await fixture.store.record(shared.id))
            try retitled.set("title", .text("Retitled by bob"), stamp: Stamp(device: try DeviceID("bob-laptop"), counter: 1, time: now))
            #expect(try await fixture.push(client, [retitled], as: "bob-laptop").0 == .ok)
            return try #require(try await fixture.store.record(shared.id))
        }
        // Before the restore the node had bob's writes up to 1 and ann's up to 1.
        let node = try await Self.restored(fixture, losing: [shared.id], windowUntil: now + 3_600_000, now: now,
                                     relayLimits: ["ann-laptop": 1, "bob-laptop": 1])
        try await Self.test(node, fixture) { client in
            // A forged counter far above would stop bob's laptop from ever writing again.
            var forged = held
            try forged.set("site", .text("as if bob wrote it"), stamp: Stamp(device: try DeviceID("bob-laptop"), counter: Int(Dot.maxCounter), time: now))
            let (status, answer) = try await fixture.push(client, [forged], as: "ann-laptop")
            #expect(status == .unprocessableContent && NodeFixture.errorCode(answer) == "foreign_dot", "\(answer)")
            #expect(try await fixture.push(client, [held], as: "ann-laptop").0 == .ok, "bob's write the node lost comes back")
        }
    }

    @Test func aMediatorRemovedBeforeTheFailureCannotReGainTheCaseWithAnOlderState() async throws {
        let fixture = try await NodeFixture(now: 1_795_000_000_000)
        let now = fixture.time
        let shared = try NodeFixture.caseState(1, by: "ann-laptop", counter: 1, mediators: ["ann", "bob"])
        let (annHolds, bobHolds) = try await fixture.test { client in
            #expect(try await fixture.push(client, [shared], as: "ann-laptop").0 == .ok)
            let annHolds = try #require(try await fixture.store.record(shared.id))
            // Bob takes ann off the case; her laptop keeps the state from before.
            var removed = annHolds
            try removed.apply([.remove("mediators", "ann")], stamp: Stamp(device: try DeviceID("bob-laptop"), counter: 1, time: now))
            #expect(try await fixture.push(client, [removed], as: "bob-laptop").0 == .ok)
            return (annHolds, try #require(try await fixture.store.record(shared.id)))
        }
        let node = try await Self.restored(fixture, losing: [shared.id], windowUntil: now + 3_600_000, now: now)
        try await Self.test(node, fixture) { client in
            // Ann's older state names her, but the node kept today's access: refused.
            let (status, answer) = try await fixture.push(client, [annHolds], as: "ann-laptop")
            #expect(status == .forbidden, "\(answer)")
            #expect(try await fixture.store.record(shared.id) == nil)
            // Bob's state comes back, and ann still receives nothing of the case.
            #expect(try await fixture.push(client, [bobHolds], as: "bob-laptop").0 == .ok)
            #expect(try await fixture.pullAll(client, as: "ann-laptop").ids.isEmpty)
            #expect(try await fixture.pullAll(client, as: "bob-laptop").ids == [shared.id.rawValue])
        }
    }
}
