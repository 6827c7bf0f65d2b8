import Foundation
import Hummingbird
import HummingbirdTesting
import NodeStorage
import SyncModel
import SyncServer
import SyncStore
import Testing

/// A supervisor's view of restricted cases and break-glass access (PROTOCOL.md §13.5): the
/// metadata of a restricted case and nothing else, until an audited, time-bounded grant
/// gives what the case's mediators hold (never another's caucus note), told to them, and
/// taken back when it ends.
struct BreakGlassTests {
    typealias World = HoldingTests.World

    func ask(_ fixture: NodeFixture, _ client: any TestClientProtocol, as device: String, _ body: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(uri: "/v1/access", method: .post, headers: [.authorization: fixture.credentials[device] ?? ""], body: ByteBuffer(string: body)) { response in
            (response.status, try NodeFixture.object(response.body))
        }
    }

    /// Every page's `meta` and `access` entries, pulling from `since` to the end.
    func notices(_ fixture: NodeFixture, _ client: any TestClientProtocol, as device: String, since: Int) async throws -> (meta: [[String: Any]], access: [[String: Any]]) {
        var cursor = since
        var after: Int?
        var meta: [[String: Any]] = []
        var access: [[String: Any]] = []
        while true {
            let (_, page) = try await fixture.pull(client, as: device, since: cursor, after: after)
            meta += page["meta"] as? [[String: Any]] ?? []
            access += page["access"] as? [[String: Any]] ?? []
            cursor = page["next"] as? Int ?? cursor
            after = page["after"] as? Int
            if page["more"] as? Bool != true { break }
        }
        return (meta, access)
    }

    @Test(arguments: StoreKind.available) func aSupervisorSeesARestrictedCasesMetadataOnlyUntilAnAuditedGrantThatItsMediatorsSee(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store, now: 1_795_000_000_000)
        try await fixture.test { client in
            let w = try await HoldingTests.world(fixture, client)
            // Sue holds nothing of bob's restricted case: its metadata, not its title or note.
            let before = try await fixture.pullAll(client, as: "sue-desk")
            #expect(!before.ids.contains(w.restricted.id.rawValue) && !before.ids.contains(w.restrictedNote.id.rawValue))
            let seen = try await notices(fixture, client, as: "sue-desk", since: 0)
            let meta = try #require(seen.meta.first { $0["case"] as? String == w.restricted.id.rawValue })
            #expect(meta["fields"] as? [String: String] == ["reference": "MED-R21", "status": "intake"])
            let metaText = String(decoding: try JSONSerialization.data(withJSONObject: seen.meta), as: UTF8.self)
            #expect(!HoldingTests.markers.contains { metaText.contains($0) }, "no content in metadata")
            #expect(try await notices(fixture, client, as: "ann-laptop", since: 0).meta.isEmpty, "a mediator gets no metadata of others' cases")

            // Only a supervisor may ask, with a reason, for a case there is.
            for (device, body, status) in [("ann-laptop", #"{"case":"MED-R21","reason":"concern"}"#, HTTPResponse.Status.forbidden),
                                           ("rita-desk", #"{"case":"MED-R21","reason":"concern"}"#, .forbidden),
                                           ("sue-desk", #"{"case":"MED-R21","reason":"  "}"#, .badRequest),
                                           ("sue-desk", #"{"case":"MED-R21","reason":"concern","seconds":999999999}"#, .badRequest),
                                           ("sue-desk", #"{"case":"MED-NONE","reason":"concern"}"#, .notFound),
                                           ("sue-desk", #"{"case":"MED-R21","why":"concern"}"#, .badRequest)] {
                #expect(try await ask(fixture, client, as: device, body).0 == status, "\(device) \(body)")
            }
            #expect(try await ask(fixture, client, as: "sue-desk", #"{"case":"MED-R31","reason":"concern"}"#).0 == .conflict, "she mediates it already")

            let (status, grant) = try await ask(fixture, client, as: "sue-desk", #"{"case":"MED-R21","reason":"safeguarding concern raised by the ward"}"#)
            #expect(status == .ok)
            #expect(grant["until"] as? Int64 == fixture.time + 24 * 3_600_000 && grant["user"] as? String == "sue")
            #expect(try await ask(fixture, client, as: "sue-desk", #"{"case":"MED-R21","reason":"again"}"#).0 == .conflict, "one open grant a case")
            let audit = try #require(try await fixture.store.auditLog(limit: 50).first { $0.action == "break-glass" })
            #expect(audit.user == "sue" && audit.detail == "safeguarding concern raised by the ward" && audit.records.contains(w.restricted.id.rawValue))

            // Sue now receives the case and its note, after her cursor; bob is told of the grant.
            let granted = try await fixture.pullAll(client, as: "sue-desk", since: before.next)
            #expect(Set(granted.ids) == [w.restricted.id.rawValue, w.restrictedNote.id.rawValue])
            #expect(granted.raw.contains("RESTRICTED-NOTE"))
            let toBob = try await notices(fixture, client, as: "bob-laptop", since: 0).access
            #expect(toBob.count == 1 && toBob.first?["user"] as? String == "sue" && toBob.first?["reason"] as? String == "safeguarding concern raised by the ward")
            #expect(try await notices(fixture, client, as: "ann-laptop", since: 0).access.isEmpty, "not a mediator of it: not told")
            // While it lasts she may write to it like its mediators.
            let edit = try await DropNoticeTests.edit(fixture, w.restrictedNote.id, by: "sue-desk", counter: 40, [.set("text", .text("a safeguarding step"))])
            #expect(try await fixture.push(client, [edit], as: "sue-desk").0 == .ok)

            // When it ends, she drops the case whole and gets its metadata again.
            #expect(try await fixture.store.endExpiredGrants(at: fixture.time + 24 * 3_600_000) == 1)
            let ended = try await fixture.pullAll(client, as: "sue-desk", since: granted.next)
            #expect(ended.drops == ["access-ended \(w.restricted.id)"] && ended.ids.isEmpty)
            #expect(try await notices(fixture, client, as: "sue-desk", since: granted.next).meta.contains { $0["case"] as? String == w.restricted.id.rawValue })
            #expect(!(try await fixture.pullAll(client, as: "sue-desk").ids.contains(w.restrictedNote.id.rawValue)), "nor from the start")
            #expect(try await fixture.store.auditLog(limit: 50).contains { $0.action == "access-ended" && $0.user == "sue" })
        }
    }

    @Test(arguments: StoreKind.available) func aGrantToACaseThatIsNotRestrictedGivesItsMediatorNotesAndNeverACaucusNote(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store, now: 1_795_000_000_000)
        try await fixture.test { client in
            let w = try await HoldingTests.world(fixture, client)
            let before = try await fixture.pullAll(client, as: "sue-desk")
            let body = #"{"case":"\#(w.theCase.id)","reason":"complaint about the mediation","seconds":3600}"#
            #expect(try await ask(fixture, client, as: "sue-desk", body).0 == .ok)
            let granted = try await fixture.pullAll(client, as: "sue-desk", since: before.next)
            #expect(Set(granted.ids).isSuperset(of: [w.mediatorOnly.id.rawValue]) && !granted.ids.contains(w.caucus.id.rawValue))
            #expect(granted.raw.contains("MEDIATOR-NOTE") && !granted.raw.contains("CAUCUS-NOTE"))

            // It ends at its time, not before, and takes back only what it gave.
            #expect(try await fixture.store.endExpiredGrants(at: fixture.time + 3_599_000) == 0)
            #expect(try await fixture.store.endExpiredGrants(at: fixture.time + 3_600_000) == 1)
            let ended = try await fixture.pullAll(client, as: "sue-desk", since: granted.next)
            #expect(ended.drops == ["access-ended \(w.theCase.id) \(w.mediatorOnly.id)"], "only what the grant gave")
        }
    }

    /// A supervisor's edit made under a grant that ended before the device knew is a late
    /// write (kept, audited), not a refusal that would leave the device stuck.
    @Test(arguments: StoreKind.available) func anEditMadeBeforeTheDeviceKnewTheGrantEndedIsKept(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store, now: 1_795_000_000_000)
        try await fixture.test { client in
            let w = try await HoldingTests.world(fixture, client)
            #expect(try await ask(fixture, client, as: "sue-desk", #"{"case":"\#(w.theCase.id)","reason":"complaint","seconds":60}"#).0 == .ok)
            let held = try await fixture.pullAll(client, as: "sue-desk")
            #expect(held.ids.contains(w.mediatorOnly.id.rawValue))
            let edit = try await DropNoticeTests.edit(fixture, w.mediatorOnly.id, by: "sue-desk", counter: 40, [.set("text", .text("a duty-of-care step"))])
            #expect(try await fixture.store.endExpiredGrants(at: fixture.time + 60_000) == 1)
            let (status, answer) = try await fixture.push(client, [edit], as: "sue-desk")
            #expect(status == .ok, "\(answer)")
            #expect(try await fixture.store.auditLog(limit: 20).contains { $0.action == "late-write" && $0.user == "sue" })
            #expect(try await fixture.pullAll(client, as: "sue-desk", since: held.next).drops == ["access-ended \(w.theCase.id) \(w.mediatorOnly.id)"])
        }
    }

    /// While a grant lasts, being taken off the case's mediators takes nothing it gives.
    @Test(arguments: StoreKind.available) func aSupervisorRemovedFromTheMediatorsKeepsWhatAnOpenGrantGives(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store, now: 1_795_000_000_000)
        try await fixture.test { client in
            let w = try await HoldingTests.world(fixture, client)
            #expect(try await ask(fixture, client, as: "sue-desk", #"{"case":"MED-R21","reason":"concern"}"#).0 == .ok)
            let adding = try await DropNoticeTests.edit(fixture, w.restricted.id, by: "bob-laptop", counter: 40, [.add("mediators", "sue")])
            #expect(try await fixture.push(client, [adding], as: "bob-laptop").0 == .ok)
            let held = try await fixture.pullAll(client, as: "sue-desk")
            let removing = try await DropNoticeTests.edit(fixture, w.restricted.id, by: "bob-laptop", counter: 41, [.remove("mediators", "sue")])
            #expect(try await fixture.push(client, [removing], as: "bob-laptop").0 == .ok)
            let after = try await fixture.pullAll(client, as: "sue-desk", since: held.next)
            #expect(after.drops == [] && after.ids == [w.restricted.id.rawValue], "the case's new state, nothing dropped")
        }
    }

    /// A grant gives what the case's mediators hold but never a caucus note, not even one the
    /// supervisor writes: it is the case's mediators' own, so her devices drop it at once.
    @Test(arguments: StoreKind.available) func aCaucusNoteWrittenUnderAGrantIsNotHeldByItsWriter(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store, now: 1_795_000_000_000)
        try await fixture.test { client in
            let w = try await HoldingTests.world(fixture, client)
            #expect(try await ask(fixture, client, as: "sue-desk", #"{"case":"\#(w.theCase.id)","reason":"complaint"}"#).0 == .ok)
            let held = try await fixture.pullAll(client, as: "sue-desk")
            let caucus = try HoldingTests.note(50, in: w.theCase.id, by: "sue-desk", counter: 1, visibility: "caucus", marker: "SUE-CAUCUS")
            #expect(try await fixture.push(client, [caucus], as: "sue-desk").0 == .ok)
            let after = try await fixture.pullAll(client, as: "sue-desk", since: held.next)
            #expect(after.drops == ["note-narrowed \(w.theCase.id) \(caucus.id)"] && !after.ids.contains(caucus.id.rawValue))
        }
    }
}
