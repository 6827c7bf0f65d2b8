import Foundation
import SyncModel
import SyncStore
import Testing

/// A mediator's offline case work, driven through the real `casesync` binary.
@Suite(.serialized)
struct CaseLifecycleTests {
    @Test func aCaseGoesFromIntakeToAgreementToFollowUp() throws {
        let cli = try CLIRunner()
        defer { cli.remove() }
        _ = try cli.ok("init", "--device-name", "ann-laptop")

        let opened = try cli.ok("case", "new", "--title", "Discharge planning dispute", "--kind", "clinical-dispute", "--site", "North Hospital", "--mediator", "ann")
        let caseID = try #require(opened["id"] as? String)
        let fields = try #require(opened["fields"] as? [String: Any])
        #expect(fields["status"] as? String == "intake")
        #expect(fields["opened"] as? String == "2026-11-22")
        #expect((fields["reference"] as? String)?.hasPrefix("MED-2026-") == true)
        #expect(fields["mediators"] as? [String] == ["ann"])

        _ = try cli.ok("party", "add", caseID, "--role", "family", "--name", "Mrs Müller", "--contact", "07700 900123", "--consent-to-mediate", "yes")
        _ = try cli.ok("party", "add", caseID, "--role", "clinician", "--name", "Dr Osei", "--organization", "Ward 7")
        let session = try cli.ok("session", "add", caseID, "--at", "2026-11-23 10:00", "--kind", "joint", "--location", "Family room", "--attendee", "Mrs Müller")
        let sessionShort = try #require(session["short"] as? String)
        _ = try cli.ok("note", "add", caseID, "--text", "Family asks for a written apology.", "--visibility", "mediator", "--session", sessionShort)
        _ = try cli.ok("case", "status", caseID, "preparation")
        _ = try cli.ok("case", "status", caseID, "negotiation")
        let agreed = try cli.ok("case", "status", caseID, "agreement")
        #expect((agreed["fields"] as? [String: Any])?["agreed"] as? String == "2026-11-22", "agreement records the day")

        let checklist = try cli.ok("action", "add", caseID, "--text", "Review the discharge checklist", "--owner", "Ward 7 manager", "--due", "2026-12-15", "--measure", "Checklist revised and signed off")
        _ = try cli.ok("action", "add", caseID, "--text", "Written apology to the family", "--owner", "Dr Osei", "--due", "2026-12-01", "--measure", "Letter received")
        _ = try cli.ok("case", "status", caseID, "follow-up")
        let met = try cli.ok("action", "set", try #require(checklist["short"] as? String), "status=met", "reviewed=2026-12-10")
        #expect((met["fields"] as? [String: Any])?["status"] as? String == "met")

        let shown = try cli.ok("case", "show", caseID)
        let shownCase = try #require(shown["case"] as? [String: Any])
        #expect((shownCase["fields"] as? [String: Any])?["status"] as? String == "follow-up")
        #expect((shown["parties"] as? [Any])?.count == 2)
        #expect((shown["sessions"] as? [Any])?.count == 1)
        #expect((shown["notes"] as? [[String: Any]])?.first.flatMap { $0["fields"] as? [String: Any] }?["session"] as? String == session["id"] as? String)
        let actions = try #require(shown["actions"] as? [[String: Any]])
        #expect(actions.count == 2)
        for action in actions {
            let fields = try #require(action["fields"] as? [String: Any])
            for smart in ["owner", "due", "measure", "status"] { #expect(fields[smart] != nil, "action lacks \(smart)") }
        }
        #expect(Set(actions.compactMap { ($0["fields"] as? [String: Any])?["status"] as? String }) == ["met", "open"])

        let human = try cli.run("case", "show", caseID)
        #expect(human.status == 0)
        for text in ["Discharge planning dispute", "Parties (2)", "Mrs Müller", "Sessions (1)", "Notes (1)", "Actions (2)", "Ward 7 manager", "follow-up"] {
            #expect(human.stdout.contains(text), "case show lacks \(text)")
        }

        let list = try #require(try cli.run("--json", "case", "list", "--status", "follow-up").json() as? [[String: Any]])
        #expect(list.map { $0["id"] as? String } == [caseID])
        #expect(try #require(try cli.run("--json", "case", "list", "--status", "intake").json() as? [Any]).isEmpty)

        let status = try cli.ok("status")
        #expect(status["pending"] as? Int == 7, "the case and its six records wait to be pushed")
        #expect(status["conflicts"] as? Int == 0)
    }

    @Test func badInputGetsAClearErrorAndTheRightExitCodeAndChangesNothing() throws {
        let cli = try CLIRunner()
        defer { cli.remove() }
        #expect(try cli.run("case", "list").status == 1, "no replica yet")
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        let caseID = try #require(try cli.ok("case", "new", "--title", "A case")["id"] as? String)
        let before = try cli.ok("status")

        let cases: [([String], Int32, String)] = [
            (["case", "show", "0192f0c4-7d3e-7a41-9b2c-5e8f00a1b2c3"], 2, "no case"),
            (["party", "add", "ffffffff", "--role", "family", "--name", "X"], 2, "no case"),
            (["case", "status", caseID, "paused"], 1, "not a stage"),
            (["case", "set", caseID, "opened=2026-02-30"], 1, "not a valid date"),
            (["case", "set", caseID, "kind=nonsense"], 1, "kind"),
            (["case", "set", caseID, "colour=blue"], 1, "no field"),
            (["case", "set", caseID, "title"], 1, "FIELD=VALUE"),
            (["case", "new"], 1, "title"),
            (["action", "add", caseID, "--text", "x", "--due", "tomorrow"], 1, "date"),
            (["session", "add", caseID, "--at", "sometime"], 1, "not a time"),
            (["resolve", caseID, "title", "--value", "x"], 1, "no conflict"),
        ]
        for (arguments, status, fragment) in cases {
            let result = try cli.run(arguments)
            #expect(result.status == status, "\(arguments) exited \(result.status): \(result.stderr)")
            #expect(result.stderr.contains(fragment), "\(arguments): stderr was \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "one line on stderr")
        }
        let after = try cli.ok("status")
        #expect(after["pending"] as? Int == before["pending"] as? Int)
        #expect(after["records"] as? Int == 1)
    }

    @Test func aConflictMergedFromAnotherReplicaIsShownAndResolved() throws {
        let cli = try CLIRunner()
        defer { cli.remove() }
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        let caseID = try RecordID(try #require(try cli.ok("case", "new", "--title", "Original title")["id"] as? String))

        // Another device edits the title concurrently; its state arrives as a pull would deliver it.
        let store = try cli.store()
        var remote = try #require(try store.record(caseID))
        try remote.set("title", .text("Bob's title"), stamp: Stamp(device: try DeviceID("bob-laptop"), counter: 4, time: 1_763_900_000_000))
        _ = try cli.ok("case", "set", caseID.rawValue, "title=Ann's title")
        try store.merge([remote])

        let shown = try cli.run("case", "show", caseID.rawValue)
        #expect(shown.stdout.contains("CONFLICT"))
        #expect(shown.stdout.contains("Ann's title") && shown.stdout.contains("Bob's title"))
        #expect(shown.stdout.contains("bob-laptop"))
        #expect(shown.stdout.contains("on ann-laptop ("), "this device's own side is shown by its name")

        let conflicts = try #require(try cli.run("--json", "conflicts").json() as? [[String: Any]])
        #expect(conflicts.count == 1)
        let sides = try #require((conflicts.first?["conflicts"] as? [[String: Any]])?.first?["sides"] as? [[String: Any]])
        #expect(Set(sides.compactMap { $0["value"] as? String }) == ["Ann's title", "Bob's title"])
        #expect(sides.allSatisfy { $0["device"] is String && $0["at"] is String })

        let stranger = try cli.run("resolve", caseID.rawValue, "title", "--keep", "carol-pc")
        #expect(stranger.status == 1 && stranger.stderr.contains("ann-laptop (") && stranger.stderr.contains("bob-laptop"), "the sides are named: \(stranger.stderr)")
        let resolved = try cli.ok("resolve", caseID.rawValue, "title", "--keep", "ann-laptop")
        #expect((resolved["fields"] as? [String: Any])?["title"] as? String == "Ann's title", "--keep takes this device's name")
        #expect(try #require(try cli.run("--json", "conflicts").json() as? [Any]).isEmpty)
        #expect(try cli.ok("status")["conflicts"] as? Int == 0)
    }

    @Test func aDeleteConcurrentWithAnEditIsAConflictResolvedByKeepingTheRecord() throws {
        let cli = try CLIRunner()
        defer { cli.remove() }
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        let caseID = try RecordID(try #require(try cli.ok("case", "new", "--title", "To be deleted")["id"] as? String))
        let store = try cli.store()
        var remote = try #require(try store.record(caseID))
        try remote.set("outcome", .text("Settled after all"), stamp: Stamp(device: try DeviceID("bob-laptop"), counter: 1, time: 1_763_900_000_000))
        _ = try cli.ok("case", "delete", caseID.rawValue, "--yes")
        try store.merge([remote])
        #expect(try cli.run("case", "show", caseID.rawValue).stdout.contains("deleted on one device"))
        let kept = try cli.ok("resolve", caseID.rawValue, "deleted", "--value", "false")
        #expect(kept["deleted"] as? Bool == false)
        #expect((kept["fields"] as? [String: Any])?["outcome"] as? String == "Settled after all")
    }
}

@testable import CaseSyncCLI

struct WallClockTests {
    @Test("ISO timestamps match Foundation's formatter", arguments: [Int64(0), 951_782_400_000, 1_763_800_000_123, 4_102_444_799_000, -86_400_000])
    func isoMatchesFoundation(milliseconds: Int64) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        #expect(WallClock.iso(milliseconds) == formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000)))
    }
}

/// Issue #19: feedback, and every record kind deleted and restored.
extension CaseLifecycleTests {
    @Test func feedbackIsRecordedForAPartyOfTheCaseWithARatingFromOneToFive() throws {
        let cli = try CLIRunner()
        defer { cli.remove() }
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        let caseID = try #require(try cli.ok("case", "new", "--title", "Feedback case")["id"] as? String)
        let other = try #require(try cli.ok("case", "new", "--title", "Another case")["id"] as? String)
        let party = try #require(try cli.ok("party", "add", caseID, "--role", "family", "--name", "F. Family")["short"] as? String)
        let stranger = try #require(try cli.ok("party", "add", other, "--role", "patient", "--name", "P. Patient")["short"] as? String)

        let given = try cli.ok("feedback", "add", caseID, "--rating", "4", "--party", party, "--comments", "Felt heard")
        let fields = try #require(given["fields"] as? [String: Any])
        #expect(fields["rating"] as? Int == 4 && fields["submitted"] as? String == "2026-11-22" && fields["comments"] as? String == "Felt heard")
        let outOfRange = try cli.run("feedback", "add", caseID, "--rating", "7")
        #expect(outOfRange.status == 1 && outOfRange.stderr.contains("--rating must be from 1 to 5"), "\(outOfRange.stderr)")
        let wrongCase = try cli.run("feedback", "add", caseID, "--rating", "3", "--party", stranger)
        #expect(wrongCase.status == 1 && wrongCase.stderr.contains("is not a party of case"), "\(wrongCase.stderr)")
        let reference = try #require((try cli.ok("case", "show", caseID)["case"] as? [String: Any]).flatMap { ($0["fields"] as? [String: Any])?["reference"] as? String })
        let notAParty = try cli.run("feedback", "add", caseID, "--rating", "3", "--party", reference)
        #expect(notAParty.status != 0, "a case's reference is not a party: \(notAParty.stderr)")
        let changed = try cli.ok("feedback", "set", try #require(given["short"] as? String), "rating=5")
        #expect((changed["fields"] as? [String: Any])?["rating"] as? Int == 5)
        #expect((try cli.ok("case", "show", caseID)["feedback"] as? [Any])?.count == 1)
    }

    @Test func everyRecordKindCanBeDeletedAndRestored() throws {
        let cli = try CLIRunner()
        defer { cli.remove() }
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        let caseID = try #require(try cli.ok("case", "new", "--title", "Deletions")["id"] as? String)
        let made: [(kind: String, section: String, short: String)] = [
            ("party", "parties", try #require(try cli.ok("party", "add", caseID, "--role", "family", "--name", "Duplicate")["short"] as? String)),
            ("session", "sessions", try #require(try cli.ok("session", "add", caseID, "--at", "2026-11-23 10:00")["short"] as? String)),
            ("note", "notes", try #require(try cli.ok("note", "add", caseID, "--text", "Filed by mistake")["short"] as? String)),
            ("action", "actions", try #require(try cli.ok("action", "add", caseID, "--text", "Wrong action")["short"] as? String)),
            ("feedback", "feedback", try #require(try cli.ok("feedback", "add", caseID, "--rating", "2")["short"] as? String)),
        ]
        for record in made {
            _ = try cli.ok(record.kind, "delete", record.short)
            #expect((try cli.ok("case", "show", caseID)[record.section] as? [Any])?.isEmpty == true, "\(record.kind) gone from the case")
            let again = try cli.run(record.kind, "delete", record.short)
            #expect(again.status == 2 && again.stderr.contains("already deleted"), "\(again.stderr)")
            #expect(try cli.ok("restore", record.short)["id"] != nil)
            #expect((try cli.ok("case", "show", caseID)[record.section] as? [Any])?.count == 1, "\(record.kind) back")
        }
        let live = try cli.run("restore", made[0].short)
        #expect(live.status == 1 && live.stderr.contains("is not deleted"), "\(live.stderr)")
        _ = try cli.ok("case", "delete", caseID, "--yes")
        #expect(try cli.run("case", "show", caseID).status == 2)
        _ = try cli.ok("restore", caseID)
        #expect(try cli.run("case", "show", caseID).status == 0, "a case comes back with its records")
        #expect(try cli.ok("status")["pending"] as? Int == 6, "every delete and restore is a change that syncs")
    }
}
