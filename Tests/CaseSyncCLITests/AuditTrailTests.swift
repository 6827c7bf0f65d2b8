import CaseSyncTestSupport
import Foundation
import GRDB
import Testing

/// The node's tamper-evident, queryable audit trail (PROTOCOL.md §18), on the real binaries:
/// who did what with a case, from which device, when; admin actions and refusals; and
/// `audit verify` catching an entry edited, deleted or moved, and a log cut off after a backup.
@Suite(.serialized)
struct AuditTrailTests {
    static func entries(_ daemon: DaemonProcess, _ arguments: String...) throws -> [[String: Any]] {
        let shown = try daemon.admin(["audit", "show", "--json"] + arguments)
        #expect(shown.status == 0, "\(shown.stderr)")
        return (try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [[String: Any]]) ?? []
    }

    @Test func auditShowAnswersWhoAccessedACaseAndVerifyCatchesEditsDeletionsMovesAndCuts() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator"), ("sue", "supervisor")])
        defer { daemon.remove() }
        let laptop = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop")
        let desktop = try EnrolledReplica(daemon, user: "ann", name: "ann-desktop")
        let supervisor = try EnrolledReplica(daemon, user: "sue", name: "sue-desk")
        defer { [laptop, desktop, supervisor].forEach { $0.cli.remove() } }
        let caseID = try #require(try laptop.cli.ok("case", "new", "--title", "Audited")["id"] as? String)
        let other = try #require(try laptop.cli.ok("case", "new", "--title", "Another")["id"] as? String)
        let note = try #require(try laptop.cli.ok("note", "add", caseID, "--text", "AUDIT-SECRET-NOTE")["id"] as? String)
        for device in [laptop, desktop, supervisor] { try device.sync() }
        // A conflict, then its resolution on the desktop.
        _ = try laptop.cli.ok("case", "set", caseID, "title=From the laptop")
        _ = try desktop.cli.ok("case", "set", caseID, "title=From the desktop")
        for device in [laptop, desktop, laptop] { try device.sync() }
        _ = try desktop.cli.ok("resolve", caseID, "title", "--keep", "ann-laptop")
        try desktop.sync()
        // Admin actions and a refused login.
        #expect(try daemon.admin("user", "add", "rita", "--role", "reporter").status == 0)
        #expect(try daemon.admin("user", "set-role", "rita", "supervisor").status == 0)
        #expect(try daemon.admin("device", "revoke", "sue-desk").status == 0)
        #expect(try supervisor.cli.run("sync").status == 4)
        let backup = daemon.data.appendingPathComponent("audit-test.backup").path
        let backedUp = try daemon.admin("backup", "--to", backup)
        let headLine = try #require(backedUp.stdout.split(separator: "\n").first { $0.hasPrefix("Audit chain head") })
        let head = try #require(headLine.split(separator: " ").first { $0.contains(":") && $0.count > 60 }.map(String.init))

        // Who accessed the case: the laptop's pushes and pulls, the desktop's, the supervisor's
        // pull of it; not the entries of the other case alone; never its contents.
        let ofCase = try Self.entries(daemon, "--case", caseID)
        let actions = Set(ofCase.map { "\($0["action"] ?? "")/\($0["device"] ?? "")" })
        for expected in ["push/\(laptop.device)", "pull/\(desktop.device)", "pull/\(supervisor.device)", "conflict-resolved/\(desktop.device)"] {
            #expect(actions.contains(expected), "\(expected) in \(actions.sorted())")
        }
        #expect(ofCase.allSatisfy { ($0["records"] as? String)?.contains(caseID) == true || ($0["records"] as? String)?.contains(note) == true })
        let resolved = try #require(ofCase.first { $0["action"] as? String == "conflict-resolved" })
        #expect(resolved["user"] as? String == "ann" && (resolved["detail"] as? String)?.contains("title") == true)
        #expect(!(try daemon.admin("audit", "show").stdout.contains("AUDIT-SECRET")), "ids and field names only")
        #expect(try Self.entries(daemon, "--case", other).count < ofCase.count + 10)
        let admin = Set(try Self.entries(daemon).map { $0["action"] as? String ?? "" })
        for action in ["user-added", "role-changed", "token-issued", "enroll", "device-revoked", "login-refused", "backup"] {
            #expect(admin.contains(action), "\(action) is audited: \(admin.sorted())")
        }
        let byDevice = try Self.entries(daemon, "--device", "ann-desktop")
        #expect(!byDevice.isEmpty && byDevice.allSatisfy { $0["device"] as? String == desktop.device }, "--device takes a name")
        #expect(try Self.entries(daemon, "--user", "sue").allSatisfy { $0["user"] as? String == "sue" })
        #expect(try Self.entries(daemon, "--since", "2999-01-01").isEmpty)
        let refused = try daemon.admin("audit", "show", "--since", "yesterday")
        #expect(refused.status == 1 && refused.stderr.contains("--since"))

        let verified = try daemon.admin("audit", "verify", "--head", head)
        #expect(verified.status == 0 && verified.stdout.hasPrefix("ok:"), "\(verified.stdout) \(verified.stderr)")
        #expect(daemon.stop() == 0)

        // Each tampering on a copy of the node's database: the first broken entry is named.
        let database = daemon.data.appendingPathComponent("replica.sqlite").path
        let pristine = try Data(contentsOf: URL(fileURLWithPath: database))
        let count = try DatabaseQueue(path: database).read { db in try Int.fetchOne(db, sql: "SELECT MAX(id) FROM audit") ?? 0 }
        #expect(count > 10)
        for (tampering, sql, broken) in [
            ("edited", "UPDATE audit SET user = 'mallory' WHERE id = 5", "audit entry 5 "),
            ("deleted", "DELETE FROM audit WHERE id = 6", "audit entry 7 "),
            ("moved", "UPDATE audit SET id = -4 WHERE id = 4; UPDATE audit SET id = 4 WHERE id = 3; UPDATE audit SET id = 3 WHERE id = -4", "audit entry 3 "),
        ] {
            try pristine.write(to: URL(fileURLWithPath: database))
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
            let queue = try DatabaseQueue(path: database)
            try queue.write { db in try db.execute(sql: sql) }
            try queue.close()
            let result = try daemon.admin("audit", "verify")
            #expect(result.status == 10, "\(tampering): \(result.stdout)")
            #expect(result.stderr.contains(broken) && result.stderr.split(separator: "\n").count == 1, "\(tampering): \(result.stderr)")
        }
        // Cut off after the backup, the chain rebuilt so that it verifies on its own: the head
        // the backup printed is no longer in it.
        try pristine.write(to: URL(fileURLWithPath: database))
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: database + suffix) }
        let headID = try #require(Int(head.split(separator: ":")[0]))
        let queue = try DatabaseQueue(path: database)
        try queue.write { db in try db.execute(sql: "DELETE FROM audit WHERE id >= ?", arguments: [headID]) }
        try queue.close()
        #expect(try daemon.admin("audit", "verify").status == 0, "a cut-off end verifies on its own")
        let cut = try daemon.admin("audit", "verify", "--head", head)
        #expect(cut.status == 10 && cut.stderr.contains("no longer holds"), "\(cut.stderr)")
    }
}
