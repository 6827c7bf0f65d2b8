import Foundation
import HummingbirdTesting
import NodeStorage
import SyncModel
import SyncServer
import SyncStore
import Testing

/// Every row of the holding table (PROTOCOL.md §13): a device never receives a record its
/// user may not hold, by id or by content, and the node refuses a write to a record its
/// writer may not hold.
struct HoldingTests {
    /// Ann's case (ann and bob mediate) with a shared, a mediator-only and a caucus note of
    /// ann's; bob's restricted case with a note; a restricted case sue (a supervisor) mediates.
    struct World {
        let theCase, shared, mediatorOnly, caucus, restricted, restrictedNote, sueMediates: RecordState
        var all: [RecordState] { [theCase, shared, mediatorOnly, caucus, restricted, restrictedNote, sueMediates] }
    }

    static func note(_ number: UInt64, in caseID: RecordID, by device: String, counter: Int, visibility: String, marker: String) throws -> RecordState {
        try NodeFixture.record(.note, number, in: caseID, by: device, counter: counter, [.set("visibility", .text(visibility)), .set("text", .text(marker))])
    }

    static func restrictedCase(_ number: UInt64, by device: String, counter: Int, mediators: [String], marker: String) throws -> RecordState {
        try NodeFixture.record(.case, number, by: device, counter: counter, [
            .set("reference", .text("MED-R\(number)")), .set("title", .text(marker)), .set("status", .text("intake")),
            .set("confidentiality", .text("restricted")),
        ] + mediators.map { .add("mediators", $0) })
    }

    static func world(_ fixture: NodeFixture, _ client: any TestClientProtocol) async throws -> World {
        let theCase = try NodeFixture.caseState(1, by: "ann-laptop", counter: 1, title: "CASE-TITLE", mediators: ["ann", "bob"])
        let restricted = try restrictedCase(21, by: "bob-laptop", counter: 1, mediators: ["bob"], marker: "RESTRICTED-TITLE")
        let world = World(
            theCase: theCase,
            shared: try note(11, in: theCase.id, by: "ann-laptop", counter: 2, visibility: "shared", marker: "SHARED-NOTE"),
            mediatorOnly: try note(12, in: theCase.id, by: "ann-laptop", counter: 3, visibility: "mediator", marker: "MEDIATOR-NOTE"),
            caucus: try note(13, in: theCase.id, by: "ann-laptop", counter: 4, visibility: "caucus", marker: "CAUCUS-NOTE"),
            restricted: restricted,
            restrictedNote: try note(22, in: restricted.id, by: "bob-laptop", counter: 2, visibility: "shared", marker: "RESTRICTED-NOTE"),
            sueMediates: try restrictedCase(31, by: "bob-laptop", counter: 3, mediators: ["bob", "sue"], marker: "SUE-MEDIATES"))
        #expect(try await fixture.push(client, [world.theCase, world.shared, world.mediatorOnly, world.caucus], as: "ann-laptop").0 == .ok)
        #expect(try await fixture.push(client, [world.restricted, world.restrictedNote, world.sueMediates], as: "bob-laptop").0 == .ok)
        return world
    }

    static let markers = ["CASE-TITLE", "SHARED-NOTE", "MEDIATOR-NOTE", "CAUCUS-NOTE", "RESTRICTED-TITLE", "RESTRICTED-NOTE", "SUE-MEDIATES"]

    /// Pulls everything `device` may hold; checks it is exactly `expected`, by id and by marker.
    static func expectHolds(_ fixture: NodeFixture, _ client: any TestClientProtocol, _ device: String, _ expected: [RecordState],
                            markers: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let pulled = try await fixture.pullAll(client, as: device)
        #expect(Set(pulled.ids) == Set(expected.map(\.id.rawValue)), "\(device) holds exactly what it may", sourceLocation: sourceLocation)
        for marker in Self.markers {
            #expect(pulled.raw.contains(marker) == markers.contains(marker), "\(device) and \(marker)", sourceLocation: sourceLocation)
        }
    }

    @Test(arguments: StoreKind.available) func eachDeviceReceivesExactlyWhatItsUserMayHold(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            let w = try await Self.world(fixture, client)
            // Ann: her case and all three of her notes; not bob's restricted cases.
            try await Self.expectHolds(fixture, client, "ann-laptop", [w.theCase, w.shared, w.mediatorOnly, w.caucus],
                                       markers: ["CASE-TITLE", "SHARED-NOTE", "MEDIATOR-NOTE", "CAUCUS-NOTE"])
            // Bob, co-mediator: not ann's caucus note; his restricted cases whole.
            try await Self.expectHolds(fixture, client, "bob-laptop", [w.theCase, w.shared, w.mediatorOnly, w.restricted, w.restrictedNote, w.sueMediates],
                                       markers: ["CASE-TITLE", "SHARED-NOTE", "MEDIATOR-NOTE", "RESTRICTED-TITLE", "RESTRICTED-NOTE", "SUE-MEDIATES"])
            // Sue, supervisor: the case and its shared note; no mediator note, no caucus note,
            // no restricted case, except the one she mediates.
            try await Self.expectHolds(fixture, client, "sue-desk", [w.theCase, w.shared, w.sueMediates],
                                       markers: ["CASE-TITLE", "SHARED-NOTE", "SUE-MEDIATES"])
        }
    }

    @Test(arguments: StoreKind.available) func aWriteToARecordItsWriterMayNotHoldIsRefused(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            let w = try await Self.world(fixture, client)
            // Bob edits ann's caucus note (as if he had a copy).
            var caucus = try #require(try await fixture.store.record(w.caucus.id))
            try caucus.set("text", .text("BOB-EDIT"), stamp: Stamp(device: try DeviceID("bob-laptop"), counter: 5, time: 2))
            let (status, answer) = try await fixture.push(client, [caucus], as: "bob-laptop")
            #expect(status == .forbidden && NodeFixture.errorCode(answer) == "forbidden")
            #expect((answer["error"] as? [String: Any])?["index"] as? Int == 0)
            // Sue edits a mediator-only note, and a restricted case, of cases she does not mediate.
            var mediatorOnly = try #require(try await fixture.store.record(w.mediatorOnly.id))
            try mediatorOnly.set("text", .text("SUE-EDIT"), stamp: Stamp(device: try DeviceID("sue-desk"), counter: 1, time: 3))
            #expect(try await fixture.push(client, [mediatorOnly], as: "sue-desk").0 == .forbidden)
            var restricted = try #require(try await fixture.store.record(w.restricted.id))
            try restricted.set("site", .text("SUE-SITE"), stamp: Stamp(device: try DeviceID("sue-desk"), counter: 2, time: 4))
            #expect(try await fixture.push(client, [restricted], as: "sue-desk").0 == .forbidden)
            // None of it was stored.
            #expect(try await fixture.store.record(w.caucus.id)?.text("text") == "CAUCUS-NOTE")
            #expect(try await fixture.store.record(w.mediatorOnly.id)?.text("text") == "MEDIATOR-NOTE")
            #expect(try await fixture.store.record(w.restricted.id)?.text("site") == nil)
        }
    }

    /// A new record, or a write that narrows who may hold a record, is accepted though its
    /// writer may then no longer hold it: a supervisor opens a restricted case for two
    /// mediators, or leaves a note for the mediators only; they stop receiving it.
    @Test(arguments: StoreKind.available) func aWriteThatNarrowsWhoMayHoldIsAcceptedAndItsWriterStopsReceivingIt(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            let w = try await Self.world(fixture, client)
            let sueBefore = try await fixture.pullAll(client, as: "sue-desk")
            let opened = try Self.restrictedCase(51, by: "sue-desk", counter: 1, mediators: ["ann", "bob"], marker: "SUE-OPENED")
            let forMediators = try Self.note(52, in: w.theCase.id, by: "sue-desk", counter: 2, visibility: "mediator", marker: "SUE-FOR-MEDIATORS")
            #expect(try await fixture.push(client, [opened, forMediators], as: "sue-desk").0 == .ok)
            var restricting = try #require(try await fixture.store.record(w.theCase.id))
            try restricting.set("confidentiality", .text("restricted"), stamp: Stamp(device: try DeviceID("sue-desk"), counter: 3, time: 5))
            #expect(try await fixture.push(client, [restricting], as: "sue-desk").0 == .ok)
            let sueAfter = try await fixture.pullAll(client, as: "sue-desk", since: sueBefore.next)
            for marker in ["SUE-OPENED", "SUE-FOR-MEDIATORS", "CASE-TITLE"] { #expect(!sueAfter.raw.contains(marker), "\(marker)") }
            let annSees = try await fixture.pullAll(client, as: "ann-laptop")
            for marker in ["SUE-OPENED", "SUE-FOR-MEDIATORS"] { #expect(annSees.raw.contains(marker), "\(marker)") }
        }
    }

    @Test(arguments: StoreKind.available) func aNoteNarrowedByItsAuthorStopsReachingOthers(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            let w = try await Self.world(fixture, client)
            let bobBefore = try await fixture.pullAll(client, as: "bob-laptop")
            let sueBefore = try await fixture.pullAll(client, as: "sue-desk")
            var narrowed = try #require(try await fixture.store.record(w.shared.id))
            try narrowed.apply([.set("visibility", .text("caucus")), .set("text", .text("NOW-CAUCUS"))],
                               stamp: Stamp(device: try DeviceID("ann-laptop"), counter: 9, time: 4))
            #expect(try await fixture.push(client, [narrowed], as: "ann-laptop").0 == .ok)
            for (device, cursor) in [("bob-laptop", bobBefore.next), ("sue-desk", sueBefore.next)] {
                let after = try await fixture.pullAll(client, as: device, since: cursor)
                #expect(!after.ids.contains(w.shared.id.rawValue) && !after.raw.contains("NOW-CAUCUS"), "\(device)")
            }
            let annAfter = try await fixture.pullAll(client, as: "ann-laptop")
            #expect(annAfter.raw.contains("NOW-CAUCUS"))
        }
    }

    /// A supervisor's pull follows the change sequence alone, so what they may hold anew
    /// (made a mediator of a restricted case, or the case no longer restricted) comes numbered
    /// anew: the whole history, though it is behind their cursor.
    @Test(arguments: StoreKind.available) func aSupervisorWhoMayNowHoldARestrictedCaseGetsItsHistory(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            let w = try await Self.world(fixture, client)
            let before = try await fixture.pullAll(client, as: "sue-desk")
            #expect(!before.ids.contains(w.restricted.id.rawValue))
            // Bob makes sue a mediator of his restricted case.
            var adding = try #require(try await fixture.store.record(w.restricted.id))
            try adding.apply([.add("mediators", "sue")], stamp: Stamp(device: try DeviceID("bob-laptop"), counter: 10, time: 5))
            #expect(try await fixture.push(client, [adding], as: "bob-laptop").0 == .ok)
            let granted = try await fixture.pullAll(client, as: "sue-desk", since: before.next)
            #expect(Set(granted.ids) == [w.restricted.id.rawValue, w.restrictedNote.id.rawValue])
            #expect(granted.raw.contains("RESTRICTED-NOTE"))

            // Ann's case is restricted, then no longer: sue gets its shared note back, by its
            // new number.
            var restricting = try #require(try await fixture.store.record(w.theCase.id))
            try restricting.set("confidentiality", .text("restricted"), stamp: Stamp(device: try DeviceID("ann-laptop"), counter: 20, time: 6))
            #expect(try await fixture.push(client, [restricting], as: "ann-laptop").0 == .ok)
            let whileRestricted = try await fixture.pullAll(client, as: "sue-desk", since: granted.next)
            #expect(!whileRestricted.ids.contains(w.theCase.id.rawValue))
            var opening = try #require(try await fixture.store.record(w.theCase.id))
            try opening.set("confidentiality", .text("standard"), stamp: Stamp(device: try DeviceID("ann-laptop"), counter: 21, time: 7))
            #expect(try await fixture.push(client, [opening], as: "ann-laptop").0 == .ok)
            let reopened = try await fixture.pullAll(client, as: "sue-desk", since: whileRestricted.next)
            #expect(Set(reopened.ids) == [w.theCase.id.rawValue, w.shared.id.rawValue], "the case and its shared note, not the mediator or caucus notes")
        }
    }

    /// The rule itself, row by row.
    @Test func theHoldingTable() {
        let mediator = UserAccount(name: "ann", role: .mediator, disabled: false)
        let supervisor = UserAccount(name: "sue", role: .supervisor, disabled: false)
        let reporter = UserAccount(name: "rita", role: .reporter, disabled: false)
        func may(_ scope: HoldingScope, owner: String? = "ann", restricted: Bool = false, _ user: UserAccount, mediates: Bool) -> Bool {
            HoldingRule.mayHold(scope, owner: owner, restricted: restricted, user: user, isCaseMediator: mediates)
        }
        #expect(may(.everyone, mediator, mediates: true) && !may(.everyone, mediator, mediates: false))
        #expect(may(.everyone, supervisor, mediates: false) && !may(.everyone, restricted: true, supervisor, mediates: false))
        #expect(may(.everyone, restricted: true, supervisor, mediates: true))
        #expect(may(.mediators, mediator, mediates: true) && !may(.mediators, supervisor, mediates: false) && may(.mediators, supervisor, mediates: true))
        #expect(may(.owner, mediator, mediates: true) && !may(.owner, owner: "bob", mediator, mediates: true))
        #expect(!may(.owner, owner: "sue", supervisor, mediates: false), "a caucus note is its author's, as a mediator of the case")
        #expect(!may(.everyone, reporter, mediates: true), "reporters hold no case records")
    }
}
