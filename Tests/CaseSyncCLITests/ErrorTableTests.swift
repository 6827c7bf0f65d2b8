import CaseSyncTestSupport
import Foundation
import Testing

/// Every local mistake a person makes at the command line: exit 1 (or 2 for what is not
/// there), one line on stderr naming the fix, never a raw Foundation or SQLite text, and
/// nothing changed. The node's codes (3, 4, 5) are for the node only.
@Suite(.serialized)
struct ErrorTableTests {
    @Test func localMistakesExitOneWithOneLineNamingTheFix() throws {
        let cli = try CLIRunner()
        defer { cli.remove() }
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        _ = try cli.ok("case", "new", "--title", "Errors", "--reference", "MED-2026-ERRS")
        _ = try cli.ok("case", "new", "--title", "Gone", "--reference", "MED-2026-GONE")
        _ = try cli.ok("case", "delete", "MED-2026-GONE", "--yes")
        let before = try cli.run("--json", "case", "show", "MED-2026-ERRS").stdout

        let table: [(arguments: [String], status: Int32, says: String)] = [
            (["case", "set", "MED-2026-ERRS", "mediators+=Not A User"], 1, "is not a user name"),
            (["case", "new", "--title", "x", "--mediator", "Bad Name"], 1, "is not a user name"),
            (["case", "set", "MED-2026-ERRS", "kind=weird"], 1, "is not one of"),
            (["case", "set", "MED-2026-ERRS", "colour=red"], 1, "has no field"),
            (["case", "set", "MED-2026-ERRS", "title="], 1, "title is required"),
            (["case", "status", "MED-2026-ERRS", "closed"], 1, "withdrawn"),
            (["case", "status", "MED-2026-ERRS", "paused"], 1, "is not a stage"),
            (["case", "show", "MED-2026-NONE"], 2, "case list"),
            (["enroll", "--server", "127.0.0.1:8443", "--token", "t"], 1, "must start with https://"),
            (["enroll", "--server", "ftp://node", "--token", "t"], 1, "must start with https://"),
            (["report", "--from", "01/10/2026"], 1, "write it as YYYY-MM-DD"),
            (["report", "--from", "2026-03-01", "--to", "2026-02-01"], 1, "is before --from"),
            (["export", "--format", "csv", "--type", "case", "--out", "/nonexistent/x.csv"], 1, "does not exist"),
            (["export", "--format", "xml"], 1, "--format must be"),
            (["action", "list", "--due-before", "next week"], 1, "YYYY-MM-DD"),
            (["resolve", "MED-2026-GONE", "deleted", "--value", "no"], 1, "casesync restore MED-2026-GONE"),
            (["resolve", "MED-2026-ERRS", "title", "--keep", "bob-laptop"], 1, "no conflict on title"),
            (["case", "delete", "MED-2026-ERRS"], 1, "--yes"),
            (["sync"], 1, "enroll"),
        ]
        for row in table {
            let result = try cli.run(row.arguments)
            let line = row.arguments.joined(separator: " ")
            #expect(result.status == row.status, "casesync \(line) exited \(result.status), not \(row.status): \(result.stderr)")
            #expect(result.stderr.contains(row.says), "casesync \(line): \(result.stderr)")
            #expect(result.stderr.split(separator: "\n").count == 1, "one line: \(result.stderr)")
            for raw in ["Error Domain", "NSCocoa", "SQLite error", "internal error", "CommandError"] {
                #expect(!result.stderr.contains(raw), "casesync \(line) shows raw text: \(result.stderr)")
            }
        }
        #expect(try cli.run("--json", "case", "show", "MED-2026-ERRS").stdout == before, "no refused command changed the case")
    }
}
