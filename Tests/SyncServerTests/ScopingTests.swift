import Foundation
import HummingbirdTesting
import SyncModel
import SyncServer
import SyncStore
import Testing

/// Mediator A's devices never receive a byte of mediator B's case — before access is
/// granted and after it is withdrawn — and receive its whole history when granted.
struct ScopingTests {
    @Test(arguments: StoreKind.available) func aMediatorReceivesOnlyTheirCasesAndAGrantDeliversTheHistory(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        let annsCase = try NodeFixture.caseState(1, by: "ann-laptop", counter: 1, title: "ANN-CASE-TITLE")
        let bobsFirst = try NodeFixture.caseState(2, by: "bob-laptop", counter: 1, title: "BOB-CASE-TITLE")
        let bobsNote = try NodeFixture.note(2, in: bobsFirst.id, by: "bob-laptop", counter: 2, text: "BOB-NOTE-TEXT")
        try await fixture.test { client in
            var bobsCase = bobsFirst
            #expect(try await fixture.push(client, [annsCase], as: "ann-laptop").0 == .ok)
            #expect(try await fixture.push(client, [bobsCase, bobsNote], as: "bob-laptop").0 == .ok)

            let before = try await fixture.pullAll(client, as: "ann-laptop")
            #expect(before.ids == [annsCase.id.rawValue])
            for secret in ["BOB-CASE-TITLE", "BOB-NOTE-TEXT", bobsCase.id.rawValue, bobsNote.id.rawValue] {
                #expect(!before.raw.contains(secret), "ann received \(secret)")
            }
            let bobSees = try await fixture.pullAll(client, as: "bob-laptop")
            #expect(Set(bobSees.ids) == [bobsCase.id.rawValue, bobsNote.id.rawValue])
            let supervisorSees = try await fixture.pullAll(client, as: "sue-desk")
            #expect(supervisorSees.ids.count == 3)

            // Bob adds ann: her next pull, from her old cursor, brings the case and its older note.
            bobsCase = try #require(try await fixture.store.record(bobsCase.id))
            try bobsCase.apply([.add("mediators", "ann")], stamp: Stamp(device: try DeviceID("bob-laptop"), counter: 3, time: 1))
            #expect(try await fixture.push(client, [bobsCase], as: "bob-laptop").0 == .ok)
            let granted = try await fixture.pullAll(client, as: "ann-laptop", since: before.next)
            #expect(Set(granted.ids) == [bobsCase.id.rawValue, bobsNote.id.rawValue])
            #expect(granted.raw.contains("BOB-NOTE-TEXT"))
            // Now ann may write to it.
            var annsEdit = bobsCase
            try annsEdit.set("site", .text("North"), stamp: Stamp(device: try DeviceID("ann-laptop"), counter: 4, time: 2))
            #expect(try await fixture.push(client, [annsEdit], as: "ann-laptop").0 == .ok)

            // Bob removes ann: she stops receiving the case's changes.
            bobsCase = try #require(try await fixture.store.record(bobsCase.id))
            try bobsCase.apply([.remove("mediators", "ann")], stamp: Stamp(device: try DeviceID("bob-laptop"), counter: 5, time: 3))
            #expect(try await fixture.push(client, [bobsCase], as: "bob-laptop").0 == .ok)
            let laterNote = try NodeFixture.note(9, in: bobsCase.id, by: "bob-laptop", counter: 6, text: "AFTER-REMOVAL")
            #expect(try await fixture.push(client, [laterNote], as: "bob-laptop").0 == .ok)
            let after = try await fixture.pullAll(client, as: "ann-laptop", since: granted.next)
            #expect(!after.raw.contains("AFTER-REMOVAL"))
            #expect(!after.ids.contains(laterNote.id.rawValue))
            #expect(!after.ids.contains(bobsCase.id.rawValue))
            // Once her device has been told (its next pull asks from past the drop), she
            // may no longer write to it. (Writes made before it knew are kept: DropNoticeTests.)
            #expect(after.drops == ["mediator-removed \(bobsCase.id)"])
            _ = try await fixture.pullAll(client, as: "ann-laptop", since: after.next)
            var late = try #require(try await fixture.store.record(bobsCase.id))
            try late.set("site", .text("South"), stamp: Stamp(device: try DeviceID("ann-laptop"), counter: 7, time: 4))
            #expect(try await fixture.push(client, [late], as: "ann-laptop").0 == .forbidden)
        }
    }

    @Test(arguments: StoreKind.available) func aGrantedCaseWithALongHistoryArrivesInPagesOfAtMostTheLimit(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        let created = try NodeFixture.caseState(3, by: "bob-laptop", counter: 1)
        let notes = try (1...25).map { try NodeFixture.note(UInt64(100 + $0), in: created.id, by: "bob-laptop", counter: 1 + $0) }
        try await fixture.test { client in
            #expect(try await fixture.push(client, [created] + notes, as: "bob-laptop").0 == .ok)
            let before = try await fixture.pullAll(client, as: "ann-laptop")
            #expect(before.ids.isEmpty)

            var bobsCase = try #require(try await fixture.store.record(created.id))
            try bobsCase.apply([.add("mediators", "ann")], stamp: Stamp(device: try DeviceID("bob-laptop"), counter: 40, time: 1))
            #expect(try await fixture.push(client, [bobsCase], as: "bob-laptop").0 == .ok)
            // All 26 records share the grant's delivery sequence; pages still hold at most 10.
            let granted = try await fixture.pullAll(client, as: "ann-laptop", since: before.next, limit: 10)
            #expect(granted.pages.allSatisfy { $0 <= 10 }, "\(granted.pages)")
            #expect(granted.ids.count == 26 && Set(granted.ids).count == 26, "every record once")
            #expect(Set(granted.ids) == Set([bobsCase.id.rawValue] + notes.map(\.id.rawValue)))
            // A plain cursor (as devices stored before pages could split) still means "after
            // all of that delivery": nothing is served twice.
            #expect(try await fixture.pullAll(client, as: "ann-laptop", since: granted.next).ids.isEmpty)
        }
    }

    @Test(arguments: StoreKind.available) func aUserCreatedLaterUnderANameAlreadyInACaseGetsItOnlyWhenTheNameIsAddedAgain(store: StoreKind) async throws {
        var fixture = try await NodeFixture(store: store)
        // Sue lists "zoe" before any user has that name (a typo, or a colleague not yet set up).
        let listed = try NodeFixture.caseState(5, by: "sue-desk", counter: 1, title: "ZOE-CASE-TITLE", mediators: ["zoe"])
        let initial = fixture
        try await initial.test { client in
            let (status, _) = try await initial.push(client, [listed], as: "sue-desk")
            #expect(status == .ok)
        }
        _ = try await fixture.store.addUser("zoe", role: .mediator, at: fixture.time)
        let token = try await fixture.node.makeEnrollmentToken(for: "zoe", ttl: 3600)
        let enrollment = try await fixture.node.enroll(token: token, device: try DeviceID("zoe-laptop"), name: "zoe-laptop")
        fixture.credentials["zoe-laptop"] = "Bearer zoe-laptop:\(enrollment.secret)"
        let zoe = fixture
        try await zoe.test { client in
            let before = try await zoe.pullAll(client, as: "zoe-laptop")
            #expect(before.ids.isEmpty && !before.raw.contains("ZOE-CASE-TITLE"), "the new zoe inherits nothing")
            // Another change to the mediators does not grant her either.
            var theCase = try #require(try await zoe.store.record(listed.id))
            try theCase.apply([.add("mediators", "bob")], stamp: Stamp(device: try DeviceID("sue-desk"), counter: 2, time: 2))
            #expect(try await zoe.push(client, [theCase], as: "sue-desk").0 == .ok)
            #expect(try await zoe.pullAll(client, as: "zoe-laptop").ids.isEmpty)
            #expect(try await zoe.pullAll(client, as: "bob-laptop").ids == [listed.id.rawValue], "bob existed when added")
            // Adding her name again is the explicit grant.
            theCase = try #require(try await zoe.store.record(listed.id))
            try theCase.apply([.add("mediators", "zoe")], stamp: Stamp(device: try DeviceID("sue-desk"), counter: 3, time: 3))
            #expect(try await zoe.push(client, [theCase], as: "sue-desk").0 == .ok)
            #expect(try await zoe.pullAll(client, as: "zoe-laptop").ids == [listed.id.rawValue])
        }
    }
}
