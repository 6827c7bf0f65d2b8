import CaseSyncTestSupport
import Foundation
import Testing

/// The case work rules of PROTOCOL.md §14 — stage moves, dates, action follow-up — and
/// `FIELD=` clears, driven through the real `casesync` binary.
@Suite(.serialized)
struct CaseWorkRulesTests {
    private func fields(_ record: [String: Any]) -> [String: Any] { record["fields"] as? [String: Any] ?? [:] }

    /// Must-show of #19: intake → agreement → follow-up → closure with feedback, a missed and
    /// escalated action, a reopened case and an undone delete.
    @Test func aCaseLivesThroughAgreementFollowUpClosureAndReopening() throws {
        var cli = try CLIRunner()
        defer { cli.remove() }
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        cli.environment["CASESYNC_NOW"] = "2026-01-05T09:00:00Z"
        let opened = try cli.ok("case", "new", "--title", "Missed follow-up appointment", "--reference", "MED-2026-LIFE")
        #expect(fields(opened)["stageEntered"] as? String == "2026-01-05", "a new case enters intake the day it opens")

        cli.environment["CASESYNC_NOW"] = "2026-01-12T09:00:00Z"
        let preparation = try cli.ok("case", "status", "MED-2026-LIFE", "preparation")
        #expect(fields(preparation)["stageEntered"] as? String == "2026-01-12", "each stage change is dated")
        let negotiation = try cli.ok("case", "status", "MED-2026-LIFE", "negotiation")
        #expect(fields(negotiation)["status"] as? String == "negotiation", "stages may be skipped forward")

        cli.environment["CASESYNC_NOW"] = "2026-02-02T09:00:00Z"
        let agreed = try cli.ok("case", "status", "MED-2026-LIFE", "agreement", "--date", "2026-01-30")
        #expect(fields(agreed)["agreed"] as? String == "2026-01-30")
        #expect(fields(agreed)["stageEntered"] as? String == "2026-01-30", "the agreement's day is the day it entered agreement")

        let letter = try #require(try cli.ok("action", "add", "MED-2026-LIFE", "--text", "Apology letter", "--owner", "ward-manager", "--due", "2026-02-10")["short"] as? String)
        let audit = try #require(try cli.ok("action", "add", "MED-2026-LIFE", "--text", "Audit of discharge letters", "--due", "2026-03-01")["short"] as? String)
        _ = try cli.ok("case", "status", "MED-2026-LIFE", "follow-up")

        // The letter is missed, reviewed, then escalated to a meeting.
        cli.environment["CASESYNC_NOW"] = "2026-02-12T09:00:00Z"
        let overdue = try #require(try cli.run("--json", "action", "list", "--overdue").json() as? [[String: Any]])
        #expect(overdue.compactMap { ($0["action"] as? [String: Any])?["short"] as? String } == [letter])
        let missed = try cli.ok("action", "review", letter, "--status", "missed", "--note", "not sent yet")
        #expect(fields(missed)["reviewed"] as? String == "2026-02-12")
        let escalation = try cli.ok("action", "escalate", letter, "--text", "Apology meeting with the ward manager", "--due", "2026-02-20")
        let old = try #require(escalation["escalated"] as? [String: Any]), replacement = try #require(escalation["replacement"] as? [String: Any])
        #expect(fields(old)["status"] as? String == "escalated")
        #expect(fields(old)["replacedBy"] as? String == replacement["id"] as? String, "the escalated action links to its replacement")
        #expect(fields(old)["reviews"] as? [String] == ["2026-02-12 escalated: replaced by \(try #require(replacement["short"] as? String))", "2026-02-12 missed: not sent yet"])
        #expect(fields(replacement)["status"] as? String == "open")
        #expect(fields(replacement)["owner"] as? String == "ward-manager", "the replacement keeps the owner")
        let history = try cli.run("case", "show", "MED-2026-LIFE")
        let missedLine = try #require(history.stdout.range(of: "missed: not sent yet")), escalatedLine = try #require(history.stdout.range(of: "escalated: replaced by"))
        #expect(missedLine.lowerBound < escalatedLine.lowerBound, "reviews show in the order they were made")

        // Both remaining actions met, with their completion days.
        cli.environment["CASESYNC_NOW"] = "2026-02-25T09:00:00Z"
        let meeting = try #require(replacement["short"] as? String)
        let met = try cli.ok("action", "review", meeting, "--status", "met", "--date", "2026-02-19")
        #expect(fields(met)["completed"] as? String == "2026-02-19")
        let escalateMet = try cli.run("action", "escalate", meeting, "--text", "Another meeting")
        #expect(escalateMet.status == 1 && escalateMet.stderr.contains("is met"), "a met action is not escalated: \(escalateMet.stderr)")
        // Closing with the audit still open warns, and closes.
        let closing = try cli.run("--json", "case", "status", "MED-2026-LIFE", "closed")
        #expect(closing.status == 0, "\(closing.stderr)")
        #expect(closing.stderr.contains("1 action still open or in progress"), "closing with open actions warns: \(closing.stderr)")
        #expect(fields(try closing.object())["closed"] as? String == "2026-02-25")
        _ = try cli.ok("feedback", "add", "MED-2026-LIFE", "--rating", "4", "--submitted", "2026-02-26")

        // A closed case moves only by reopening.
        let moved = try cli.run("case", "status", "MED-2026-LIFE", "negotiation")
        #expect(moved.status == 1)
        #expect(moved.stderr.contains("casesync case reopen MED-2026-LIFE"), "the error names the fix: \(moved.stderr)")
        cli.environment["CASESYNC_NOW"] = "2026-03-03T09:00:00Z"
        let reopened = try cli.run("--json", "case", "reopen", "MED-2026-LIFE")
        #expect(reopened.status == 0, "\(reopened.stderr)")
        let reopenedFields = fields(try reopened.object())
        #expect(reopenedFields["status"] as? String == "follow-up", "a case with an agreement reopens at follow-up")
        #expect(reopenedFields["closed"] == nil, "reopening clears the closing date")
        #expect(reopenedFields["agreed"] as? String == "2026-01-30", "and keeps the agreement")
        #expect(reopened.stderr.contains("closed 2026-02-25 cleared"))
        _ = try cli.ok("action", "review", audit, "--status", "met")
        let closedAgain = try cli.run("case", "status", "MED-2026-LIFE", "closed")
        #expect(closedAgain.status == 0 && !closedAgain.stderr.contains("warning"), "no warning once every action is done: \(closedAgain.stderr)")

        // An undone delete.
        let deleted = try cli.ok("case", "delete", "MED-2026-LIFE", "--yes")
        #expect(deleted["deleted"] as? Bool == true)
        #expect(try cli.run("case", "show", "MED-2026-LIFE").status == 2)
        let restored = try cli.ok("restore", "MED-2026-LIFE")
        #expect(restored["deleted"] as? Bool == false)
        #expect(fields(restored)["status"] as? String == "closed", "the restored case has every field it had")
    }

    @Test func stageMovesAndDatesFollowTheRules() throws {
        let cli = try CLIRunner()
        defer { cli.remove() }
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        _ = try cli.ok("case", "new", "--title", "Rules", "--reference", "MED-2026-RULE", "--opened", "2026-11-01")

        // Refused, exit 1, nothing changed.
        let refusals: [([String], String)] = [
            (["case", "status", "MED-2026-RULE", "closed"], "withdrawn"),
            (["case", "set", "MED-2026-RULE", "status=closed"], "withdrawn"),
            (["case", "status", "MED-2026-RULE", "agreement", "--date", "2026-10-31"], "agreed 2026-10-31 is before opened 2026-11-01"),
            (["case", "set", "MED-2026-RULE", "opened=2026-12-01", "closed=2026-11-20"], "closed 2026-11-20 is before opened 2026-12-01"),
            (["case", "reopen", "MED-2026-RULE"], "not closed or withdrawn"),
            (["case", "set", "MED-2026-RULE", "title="], "title is required"),
        ]
        for (arguments, message) in refusals {
            let result = try cli.run(arguments)
            #expect(result.status == 1, "\(arguments) exited \(result.status)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        #expect(fields(try cli.ok("case", "show", "MED-2026-RULE")["case"] as? [String: Any] ?? [:])["status"] as? String == "intake", "a refused move changes nothing")

        // Moving back warns; moving back before agreement clears the agreement date.
        _ = try cli.ok("case", "status", "MED-2026-RULE", "agreement")
        let back = try cli.run("--json", "case", "status", "MED-2026-RULE", "negotiation")
        #expect(back.status == 0)
        #expect(back.stderr.contains("moved back from agreement to negotiation") && back.stderr.contains("agreed cleared"), "\(back.stderr)")
        #expect(fields(try back.object())["agreed"] == nil)
        // Withdrawn from an open stage is allowed and keeps the dates; it then needs a reopen.
        _ = try cli.ok("case", "status", "MED-2026-RULE", "withdrawn")
        let reopened = try cli.ok("case", "reopen", "MED-2026-RULE", "--to", "exploration")
        #expect(fields(reopened)["status"] as? String == "exploration")
        #expect(try cli.run("case", "reopen", "MED-2026-RULE").status == 1, "an open case is not reopened")
        // A future agreement date warns.
        let future = try cli.run("case", "status", "MED-2026-RULE", "agreement", "--date", "2026-12-24")
        #expect(future.status == 0 && future.stderr.contains("agreed 2026-12-24 is after today"), "\(future.stderr)")
        // Back from follow-up to agreement keeps the agreement's day.
        _ = try cli.ok("case", "status", "MED-2026-RULE", "follow-up")
        #expect(fields(try cli.ok("case", "status", "MED-2026-RULE", "agreement"))["agreed"] as? String == "2026-12-24")
    }

    @Test func anEmptyValueClearsAnOptionalField() throws {
        let cli = try CLIRunner()
        defer { cli.remove() }
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        let opened = try cli.ok("case", "new", "--title", "Clear", "--site", "North Hospital")
        let id = try #require(opened["short"] as? String)
        _ = try cli.ok("case", "set", id, "outcome=Apology given")
        let cleared = try cli.ok("case", "set", id, "outcome=", "site=")
        #expect(fields(cleared)["outcome"] == nil && fields(cleared)["site"] == nil)
        #expect(fields(cleared)["title"] as? String == "Clear")
        let party = try #require(try cli.ok("party", "add", id, "--role", "family", "--name", "Mr Chen", "--contact", "07700 900000")["short"] as? String)
        #expect(fields(try cli.ok("party", "set", party, "contact="))["contact"] == nil)
        let action = try #require(try cli.ok("action", "add", id, "--text", "Call back", "--due", "2026-12-01")["short"] as? String)
        #expect(fields(try cli.ok("action", "set", action, "due="))["due"] == nil)
        let list = try cli.run("case", "list", "--site", "North Hospital")
        #expect(list.stdout.contains("No cases match"), "a cleared site is gone from the list index too")
        let note = try #require(try cli.ok("note", "add", id, "--text", "Caucus only", "--visibility", "caucus")["short"] as? String)
        let widened = try cli.run("note", "set", note, "visibility=")
        #expect(widened.status == 1 && widened.stderr.contains("decides who may hold"), "clearing visibility would widen a caucus note: \(widened.stderr)")
        #expect(fields(try cli.ok("case", "show", id)["notes"].flatMap { ($0 as? [[String: Any]])?.first } ?? [:])["visibility"] as? String == "caucus")
        let required = try cli.run("party", "set", party, "name=")
        #expect(required.status == 1 && required.stderr.contains("name is required"), "\(required.stderr)")
    }

    @Test func actionListAndDueShowWhatNeedsAttention() throws {
        var cli = try CLIRunner()
        defer { cli.remove() }
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        cli.environment["CASESYNC_NOW"] = "2026-06-10T09:00:00Z"
        _ = try cli.ok("case", "new", "--title", "One", "--reference", "MED-2026-ONE")
        _ = try cli.ok("case", "new", "--title", "Two", "--reference", "MED-2026-TWO")
        let late = try #require(try cli.ok("action", "add", "MED-2026-ONE", "--text", "Late", "--owner", "ward", "--due", "2026-06-01")["short"] as? String)
        let soon = try #require(try cli.ok("action", "add", "MED-2026-TWO", "--text", "Soon", "--owner", "pharmacy", "--due", "2026-06-14")["short"] as? String)
        let later = try #require(try cli.ok("action", "add", "MED-2026-TWO", "--text", "Later", "--due", "2026-07-30")["short"] as? String)
        let done = try #require(try cli.ok("action", "add", "MED-2026-ONE", "--text", "Done", "--due", "2026-06-02")["short"] as? String)
        let metOnReview = try cli.ok("action", "set", done, "status=met", "reviewed=2026-06-03")
        #expect(fields(metOnReview)["completed"] as? String == "2026-06-03", "met on the review's day")
        let missed = try #require(try cli.ok("action", "add", "MED-2026-ONE", "--text", "Missed", "--due", "2026-05-01")["short"] as? String)
        _ = try cli.ok("action", "review", missed, "--status", "missed")
        _ = try cli.ok("session", "add", "MED-2026-TWO", "--at", "2026-06-12 14:00", "--kind", "joint")
        _ = try cli.ok("session", "add", "MED-2026-TWO", "--at", "2026-06-30 14:00", "--kind", "joint")

        func shorts(_ arguments: String...) throws -> [String] {
            let rows = try #require(try cli.run(["--json", "action", "list"] + arguments).json() as? [[String: Any]])
            return rows.compactMap { ($0["action"] as? [String: Any])?["short"] as? String }
        }
        #expect(try shorts() == [missed, late, done, soon, later], "every action, by due date")
        #expect(try shorts("--overdue") == [late], "overdue: unfinished and past due")
        #expect(try shorts("--due-before", "2026-06-20") == [late, soon])
        #expect(try shorts("--owner", "pharmacy") == [soon])
        #expect(try shorts("--case", "MED-2026-ONE", "--status", "met") == [done])
        #expect(try cli.run("action", "list", "--due-before", "20/06/2026").status == 1)

        let due = try cli.run("--json", "due").object()
        let dueActions = (due["actions"] as? [[String: Any]] ?? []).compactMap { ($0["action"] as? [String: Any])?["short"] as? String }
        #expect(dueActions == [missed, late, soon], "due: missed, overdue and due within a week")
        #expect((due["sessions"] as? [Any])?.count == 1, "only this week's session")
        #expect(due["until"] as? String == "2026-06-17")
        let human = try cli.run("due")
        #expect(human.stdout.contains("MED-2026-ONE") && human.stdout.contains("(overdue)") && human.stdout.contains("Sessions before 2026-06-17 (1)"), "\(human.stdout)")
        // A withdrawn case needs nothing any more.
        _ = try cli.ok("case", "status", "MED-2026-ONE", "withdrawn")
        let afterWithdrawal = try cli.run("--json", "due").object()
        #expect((afterWithdrawal["actions"] as? [[String: Any]] ?? []).compactMap { ($0["action"] as? [String: Any])?["short"] as? String } == [soon])
    }

    @Test func deletingACaseAsksOnATerminalAndScriptsSayYes() throws {
        let cli = try CLIRunner()
        defer { cli.remove() }
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        _ = try cli.ok("case", "new", "--title", "Keep", "--reference", "MED-2026-KEEP")
        let unconfirmed = try cli.run("case", "delete", "MED-2026-KEEP")
        #expect(unconfirmed.status == 1 && unconfirmed.stderr.contains("--yes"), "\(unconfirmed.stderr)")
        #expect(try cli.run("case", "show", "MED-2026-KEEP").status == 0, "nothing was deleted")
        let confirmed = try cli.run("case", "delete", "MED-2026-KEEP", "--yes")
        #expect(confirmed.status == 0 && confirmed.stdout.contains("casesync restore"), "\(confirmed.stdout)")
    }
}
