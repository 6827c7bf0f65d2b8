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

extension ErrorTableTests {
    /// A data folder that cannot be made and a file that is not a database, on both tools:
    /// one line naming the folder or file and the fix (exit 1), no Foundation or SQLite text.
    @Test func unusableDataFoldersAreNamedNotDumped() throws {
        let damaged = FileManager.default.temporaryDirectory.appendingPathComponent("casesync-damaged-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: damaged, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: damaged) }
        try Data("not a database at all".utf8).write(to: damaged.appendingPathComponent("replica.sqlite"))
        let daemon = DaemonProcess.directory.appendingPathComponent("casesyncd")
        // /proc takes no new folders, even for root (CI runs as root).
        let rows: [(tool: URL, arguments: [String], says: String)] = [
            (CLIRunner.binary, ["--data", "/proc/casesync-x", "init"], "cannot create the data folder /proc/casesync-x"),
            (CLIRunner.binary, ["--data", damaged.path, "status"], "is not a CaseSync database"),
            (daemon, ["user", "add", "ann", "--role", "mediator", "--data", "/proc/casesync-x"], "cannot create the data folder"),
            (daemon, ["serve", "--port", "0", "--data", "/proc/casesync-x"], "cannot create the data folder"),
            (daemon, ["user", "list", "--data", damaged.path], "is not a CaseSync database"),
        ]
        for row in rows {
            let result = try DaemonProcess.run(row.tool, row.arguments)
            let line = "\(row.tool.lastPathComponent) \(row.arguments.joined(separator: " "))"
            #expect(result.status == 1, "\(line) exited \(result.status): \(result.stderr)")
            #expect(result.stderr.contains(row.says) && result.stderr.split(separator: "\n").count == 1, "\(line): \(result.stderr)")
            for raw in ["Error Domain", "CocoaError", "DatabaseError", "SQLite error", "internal error"] {
                #expect(!result.stderr.contains(raw), "\(line) shows raw text: \(result.stderr)")
            }
        }
        #expect(try Data(contentsOf: damaged.appendingPathComponent("replica.sqlite")) == Data("not a database at all".utf8), "the file is left as it was")
    }
}
