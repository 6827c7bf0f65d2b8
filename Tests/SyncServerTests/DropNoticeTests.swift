import Foundation
import HummingbirdTesting
import NodeStorage
import SyncModel
import SyncServer
import SyncStore
import Testing

/// What a pull tells a device to drop (PROTOCOL.md §13): exactly the records its user could
/// hold before a change and may not after it, to exactly those users, and the writes a
/// device made before it was told.
struct DropNoticeTests {
    typealias World = HoldingTests.World

    /// Each user's cursor after pulling everything: what their devices hold now.
    static func cursors(_ fixture: NodeFixture, _ client: any TestClientProtocol) async throws -> [String: Int] {
        var cursors: [String: Int] = [:]
        for device in ["ann-laptop", "bob-laptop", "sue-desk"] { cursors[device] = try await fixture.pullAll(client, as: device).next }
        return cursors
    }

    static func edit(_ fixture: NodeFixture, _ id: RecordID, by device: String, counter: Int, _ changes: [FieldChange]) async throws -> RecordState {
        var state = try #require(try await fixture.store.record(id))
        try state.apply(changes, stamp: Stamp(device: try DeviceID(device), counter: counter, time: Int64(counter)))
        return state
    }

    @Test(arguments: StoreKind.available) func aNarrowedNoteIsDroppedByThoseWhoHeldItAndNoOneElse(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            let w = try await HoldingTests.world(fixture, client)
            let cursors = try await Self.cursors(fixture, client)
            // The shared note becomes a mediator note: sue loses it; then caucus: bob does.
            let toMediators = try await Self.edit(fixture, w.shared.id, by: "ann-laptop", counter: 30, [.set("visibility", .text("mediator"))])
            #expect(try await fixture.push(client, [toMediators], as: "ann-laptop").0 == .ok)
            let toCaucus = try await Self.edit(fixture, w.shared.id, by: "ann-laptop", counter: 31, [.set("visibility", .text("caucus"))])
            #expect(try await fixture.push(client, [toCaucus], as: "ann-laptop").0 == .ok)
            let note = "note-narrowed \(w.theCase.id) \(w.shared.id)"
            #expect(try await fixture.pullAll(client, as: "sue-desk", since: cursors["sue-desk"]!).drops == [note])
            let bob = try await fixture.pullAll(client, as: "bob-laptop", since: cursors["bob-laptop"]!)
            #expect(bob.drops == [note] && !bob.ids.contains(w.shared.id.rawValue))
            let ann = try await fixture.pullAll(client, as: "ann-laptop", since: cursors["ann-laptop"]!)
            #expect(ann.drops == [] && ann.ids == [w.shared.id.rawValue], "its author keeps it")
            // Told once: the cursor moved past the drops.
            #expect(try await fixture.pullAll(client, as: "bob-laptop", since: bob.next).drops == [])
        }
    }

    @Test(arguments: StoreKind.available) func aRemovedMediatorDropsTheCaseAndARemovedSupervisorOnlyWhatMediatorsAloneHold(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            let w = try await HoldingTests.world(fixture, client)
            // Ann makes sue a mediator of her case: sue now holds its mediator note too.
            let adding = try await Self.edit(fixture, w.theCase.id, by: "ann-laptop", counter: 30, [.add("mediators", "sue")])
            #expect(try await fixture.push(client, [adding], as: "ann-laptop").0 == .ok)
            let cursors = try await Self.cursors(fixture, client)
            // Then removes bob and sue.
            let removing = try await Self.edit(fixture, w.theCase.id, by: "ann-laptop", counter: 31, [.remove("mediators", "bob"), .remove("mediators", "sue")])
            #expect(try await fixture.push(client, [removing], as: "ann-laptop").0 == .ok)
            let bob = try await fixture.pullAll(client, as: "bob-laptop", since: cursors["bob-laptop"]!)
            #expect(bob.drops == ["mediator-removed \(w.theCase.id)"] && bob.ids.isEmpty)
            let sue = try await fixture.pullAll(client, as: "sue-desk", since: cursors["sue-desk"]!)
            #expect(sue.drops == ["mediator-removed \(w.theCase.id) \(w.mediatorOnly.id)"], "a supervisor keeps what is everyone's")
            #expect(sue.ids == [w.theCase.id.rawValue], "and gets the case's new state")
            #expect(try await fixture.pullAll(client, as: "ann-laptop", since: cursors["ann-laptop"]!).drops == [])

            // A case made restricted: every supervisor who is not its mediator drops it whole.
            let restricting = try await Self.edit(fixture, w.theCase.id, by: "ann-laptop", counter: 32, [.set("confidentiality", .text("restricted"))])
            #expect(try await fixture.push(client, [restricting], as: "ann-laptop").0 == .ok)
            #expect(try await fixture.pullAll(client, as: "sue-desk", since: sue.next).drops == ["case-restricted \(w.theCase.id)"])
            // A new device of a user pulls from the start and is told too (it holds nothing of it).
            let fromStart = try await fixture.pullAll(client, as: "bob-laptop")
            #expect(!fromStart.ids.contains(w.theCase.id.rawValue) && fromStart.drops == ["mediator-removed \(w.theCase.id)"])
        }
    }

    /// Writes a device made before it learned it lost the right are kept; once a pull has
    /// told it (it asked from past the drop), they are refused like any other.
    @Test(arguments: StoreKind.available) func writesMadeBeforeTheDeviceKnewAreKeptAndAuditedAndLaterOnesRefused(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            let w = try await HoldingTests.world(fixture, client)
            let cursors = try await Self.cursors(fixture, client)
            let removing = try await Self.edit(fixture, w.theCase.id, by: "ann-laptop", counter: 30, [.remove("mediators", "bob")])
            #expect(try await fixture.push(client, [removing], as: "ann-laptop").0 == .ok)

            // Bob, not yet told, edits the shared note and adds a note of his own.
            let edited = try await Self.edit(fixture, w.shared.id, by: "bob-laptop", counter: 40, [.set("text", .text("BOB-LATE-EDIT"))])
            let added = try HoldingTests.note(41, in: w.theCase.id, by: "bob-laptop", counter: 41, visibility: "shared", marker: "BOB-LATE-NOTE")
            let (status, _) = try await fixture.push(client, [edited, added], as: "bob-laptop")
            #expect(status == .ok)
            #expect(try await fixture.store.record(w.shared.id)?.text("text") == "BOB-LATE-EDIT")
            #expect(try await fixture.store.auditLog(limit: 10).contains { $0.action == "late-write" && $0.user == "bob" && $0.count == 2 })
            let ann = try await fixture.pullAll(client, as: "ann-laptop", since: cursors["ann-laptop"]!)
            #expect(ann.raw.contains("BOB-LATE-EDIT") && ann.raw.contains("BOB-LATE-NOTE"), "the case's mediators get them")

            // Bob pulls (the drop), then asks from past it: told. A further write is refused.
            let told = try await fixture.pullAll(client, as: "bob-laptop", since: cursors["bob-laptop"]!)
            _ = try await fixture.pullAll(client, as: "bob-laptop", since: told.next)
            let again = try await Self.edit(fixture, w.shared.id, by: "bob-laptop", counter: 42, [.set("text", .text("BOB-TOO-LATE"))])
            let (refused, answer) = try await fixture.push(client, [again], as: "bob-laptop")
            #expect(refused == .forbidden && NodeFixture.errorCode(answer) == "forbidden")
            #expect(try await fixture.store.record(w.shared.id)?.text("text") == "BOB-LATE-EDIT")
        }
    }

    /// A late write may not undo the loss, nor reach what its writer never could hold.
    @Test(arguments: StoreKind.available) func aLateWriteCannotWidenWhoMayHoldNorTouchAnothersCaucusNote(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            let w = try await HoldingTests.world(fixture, client)
            let removing = try await Self.edit(fixture, w.theCase.id, by: "ann-laptop", counter: 30, [.remove("mediators", "bob")])
            #expect(try await fixture.push(client, [removing], as: "ann-laptop").0 == .ok)
            // Bob, not yet told, adds himself back, lifts a note's visibility, edits ann's caucus note.
            let readd = try await Self.edit(fixture, w.theCase.id, by: "bob-laptop", counter: 40, [.add("mediators", "bob")])
            let widen = try await Self.edit(fixture, w.mediatorOnly.id, by: "bob-laptop", counter: 41, [.set("visibility", .text("shared"))])
            var caucus = w.caucus
            try caucus.set("text", .text("BOB-IN-CAUCUS"), stamp: Stamp(device: try DeviceID("bob-laptop"), counter: 42, time: 42))
            for state in [readd, widen, caucus] {
                let (status, answer) = try await fixture.push(client, [state], as: "bob-laptop")
                #expect(status == .forbidden && NodeFixture.errorCode(answer) == "forbidden", "\(state.type)")
            }
            #expect(try await fixture.store.record(w.theCase.id)?.members("mediators") == ["ann"])
            #expect(try await fixture.store.record(w.caucus.id)?.text("text") == "CAUCUS-NOTE")
            let bob = try await fixture.pullAll(client, as: "bob-laptop")
            #expect(!bob.ids.contains(w.theCase.id.rawValue) && !bob.raw.contains("SHARED-NOTE"), "bob regained nothing")
        }
    }

    /// A new record its own writer may not hold: the writer's devices are told to drop it.
    @Test(arguments: StoreKind.available) func aSupervisorsNoteForTheMediatorsOnlyLeavesTheSupervisorsDevices(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            let w = try await HoldingTests.world(fixture, client)
            let cursors = try await Self.cursors(fixture, client)
            let forMediators = try HoldingTests.note(52, in: w.theCase.id, by: "sue-desk", counter: 2, visibility: "mediator", marker: "SUE-FOR-MEDIATORS")
            #expect(try await fixture.push(client, [forMediators], as: "sue-desk").0 == .ok)
            #expect(try await fixture.pullAll(client, as: "sue-desk", since: cursors["sue-desk"]!).drops == ["note-narrowed \(w.theCase.id) \(forMediators.id)"])
            #expect(try await fixture.pullAll(client, as: "ann-laptop", since: cursors["ann-laptop"]!).drops == [])
        }
    }

    /// A purge tells those who may hold the case (or, a supervisor, its metadata), and no one
    /// else; a push of any of its records is refused (410 `purged`); numbers are never given
    /// twice.
    @Test(arguments: StoreKind.available) func aPurgedCaseIsDroppedByItsHoldersAndRefusedForGood(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            let w = try await HoldingTests.world(fixture, client)
            let cursors = try await Self.cursors(fixture, client)
            let purged = try await fixture.store.purgeCase(w.restricted.id.rawValue, reason: "test", at: fixture.time, closedBefore: nil)
            #expect(purged.records == 2 && purged.usersTold == 2, "bob, and sue who holds its metadata; not ann")
            #expect(try await fixture.pullAll(client, as: "bob-laptop", since: cursors["bob-laptop"]!).drops == ["purged \(w.restricted.id)"])
            #expect(try await fixture.pullAll(client, as: "sue-desk", since: cursors["sue-desk"]!).drops == ["purged \(w.restricted.id)"])
            #expect(try await fixture.pullAll(client, as: "ann-laptop", since: cursors["ann-laptop"]!).drops == [])
            // Bob is taken off ann's case and has not pulled that yet when it is purged: he is
            // told of the purge (which replaces the drop he had not pulled).
            let removing = try await Self.edit(fixture, w.theCase.id, by: "ann-laptop", counter: 30, [.remove("mediators", "bob")])
            #expect(try await fixture.push(client, [removing], as: "ann-laptop").0 == .ok)
            let byReference = try await fixture.store.purgeCase("MED-2026-1", reason: "test", at: fixture.time, closedBefore: nil)
            #expect(byReference.caseID == w.theCase.id && byReference.usersTold == 3, "ann, sue, and bob who lost it")
            #expect(try await fixture.pullAll(client, as: "bob-laptop", since: cursors["bob-laptop"]!).drops == ["purged \(w.restricted.id)", "purged \(w.theCase.id)"])

            // Bob's device still holds the restricted case's note: refused, by name.
            var note = w.restrictedNote
            try note.set("text", .text("BACK"), stamp: Stamp(device: try DeviceID("bob-laptop"), counter: 50, time: 50))
            let (status, answer) = try await fixture.push(client, [w.sueMediates, note], as: "bob-laptop")
            #expect(status.code == 410 && NodeFixture.errorCode(answer) == "purged" && (answer["error"] as? [String: Any])?["index"] as? Int == 1)
            #expect(try await fixture.store.record(w.restrictedNote.id) == nil)
            // The next change is numbered above the purges, though their records are gone.
            let next = try NodeFixture.caseState(60, by: "sue-desk", counter: 9)
            let (_, pushed) = try await fixture.push(client, [next], as: "sue-desk")
            let highestDrop = try await fixture.pullAll(client, as: "ann-laptop", since: cursors["ann-laptop"]!).next
            #expect((pushed["seq"] as? Int ?? 0) > highestDrop)
            let audit = try await fixture.store.auditLog(limit: 20).filter { $0.action == "purge" }
            #expect(audit.count == 2 && !audit.contains { $0.records.contains("RESTRICTED") })
        }
    }

    /// `HoldingRule.lostHolders`, row by row.
    @Test func whoLosesARecord() {
        let ann = UserAccount(name: "ann", role: .mediator, disabled: false)
        let bob = UserAccount(name: "bob", role: .mediator, disabled: false)
        let sue = UserAccount(name: "sue", role: .supervisor, disabled: false)
        let all = [ann, bob, sue]
        func lost(_ from: HoldingScope, _ to: HoldingScope, restricted: (Bool, Bool) = (false, false), mediators: Set<String> = ["ann", "bob"]) -> [String] {
            HoldingRule.lostHolders(before: (from, "ann", restricted.0), after: (to, "ann", restricted.1), candidates: all, mediators: mediators)
        }
        #expect(lost(.everyone, .mediators) == ["sue"])
        #expect(lost(.everyone, .owner) == ["bob", "sue"])
        #expect(lost(.mediators, .owner) == ["bob"])
        #expect(lost(.mediators, .everyone) == [] && lost(.owner, .everyone) == [], "widening takes nothing away")
        #expect(lost(.everyone, .everyone, restricted: (false, true)) == ["sue"])
        #expect(lost(.everyone, .everyone, restricted: (false, true), mediators: ["ann", "sue"]) == [], "a supervisor who mediates keeps it")
        #expect(HoldingRule.dropsWholeCase(removed: bob, restricted: false) && HoldingRule.dropsWholeCase(removed: sue, restricted: true))
        #expect(!HoldingRule.dropsWholeCase(removed: sue, restricted: false))
    }
}
