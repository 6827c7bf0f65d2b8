import CaseSyncTestSupport
import Foundation
import Testing

/// A reporter's scripted pulls through the real binaries.
@Suite(.serialized)
struct ReportingEndToEndTests {
    @Test func aReporterPullsIncrementsAndASummaryWithoutConfidentialContent() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator"), ("rita", "reporter")])
        defer { daemon.remove() }
        let mediator = try CLIRunner.enrolled(daemon, user: "ann", name: "ann-laptop").cli
        let reporter = try CLIRunner.enrolled(daemon, user: "rita", name: "reports").cli
        defer { mediator.remove(); reporter.remove() }

        let first = try #require(try mediator.ok("case", "new", "--title", "First case", "--site", "North")["id"] as? String)
        _ = try mediator.ok("note", "add", first, "--text", "CONFIDENTIAL-NOTE-TEXT")
        _ = try mediator.ok("party", "add", first, "--role", "family", "--name", "CONFIDENTIAL-NAME", "--contact", "CONFIDENTIAL-CONTACT")
        #expect(try mediator.run("sync").status == 0)

        let cursorFile = reporter.data.appendingPathComponent("cases.seq").path
        let firstExport = try reporter.run("export", "--format", "csv", "--type", "case", "--since-file", cursorFile)
        #expect(firstExport.status == 0, "\(firstExport.stderr)")
        #expect(firstExport.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 2, "header and one case")
        #expect(firstExport.stdout.contains(first) && firstExport.stdout.contains("North"), "the case, by id and site")
        #expect(!firstExport.stdout.contains("First case"), "a title is free text: never reported")

        let second = try #require(try mediator.ok("case", "new", "--title", "Second case", "--site", "South")["id"] as? String)
        #expect(try mediator.run("sync").status == 0)
        let secondExport = try reporter.run("export", "--format", "csv", "--type", "case", "--since-file", cursorFile)
        let rows = secondExport.stdout.components(separatedBy: "\r\n").filter { !$0.isEmpty }
        #expect(rows.count == 2 && rows[1].contains(second) && !secondExport.stdout.contains(first), "only the new case")

        let all = try reporter.run("--json", "export", "--format", "json")
        let array = try #require(try JSONSerialization.jsonObject(with: Data(all.stdout.utf8)) as? [[String: Any]])
        #expect(array.count == 4, "two cases, a note and a party")

        let summary = try reporter.ok("report")
        #expect((summary["cases"] as? [String: Any])?["total"] as? Int == 2)
        let page = reporter.data.appendingPathComponent("summary.html").path
        #expect(try reporter.run("report", "--html", page).status == 0)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        for section in ["Cases opened per month", "Cases by kind", "Agreed actions: follow-up", "Open cases by stage", "Oldest open cases", "Filters:</b> all cases"] {
            #expect(html.contains(section), "the HTML report lacks \(section)")
        }
        #expect(!html.contains("<link") && !html.contains("<script") && !html.contains("src=") && !html.contains("url("), "the page opens offline: nothing fetched")
        let filtered = reporter.data.appendingPathComponent("north.html").path
        #expect(try reporter.run("report", "--site", "North", "--from", "2026-01-01", "--html", filtered).status == 0)
        #expect(try String(contentsOfFile: filtered, encoding: .utf8).contains("opened 2026-01-01 to …, site North"), "filters are shown")

        // Local mistakes are exit 1 with one line, before the node is asked anything.
        for (arguments, message) in [(["report", "--from", "01/10/2026"], "--from 01/10/2026 is not a date"),
                                     (["report", "--out", "/nonexistent/summary.txt"], "the folder /nonexistent does not exist"),
                                     (["export", "--format", "csv", "--type", "case", "--out", "/nonexistent/x.csv"], "the folder /nonexistent does not exist")] {
            let result = try reporter.run(arguments)
            #expect(result.status == 1 && result.stderr.contains(message) && !result.stderr.contains("NSCocoa") && result.stderr.split(separator: "\n").count == 1,
                    "\(arguments): \(result.status) \(result.stderr)")
        }

        for text in [firstExport.stdout, secondExport.stdout, all.stdout, html, try reporter.run("report").stdout] {
            for secret in ["CONFIDENTIAL-NOTE-TEXT", "CONFIDENTIAL-NAME", "CONFIDENTIAL-CONTACT"] { #expect(!text.contains(secret)) }
        }
        let refused = try mediator.run("export", "--format", "ndjson")
        #expect(refused.status == 4, "a mediator device may not export: \(refused.stderr)")
    }
}
