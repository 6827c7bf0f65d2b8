import CaseSyncTestSupport
import Foundation
import Testing

/// The offline lease (PROTOCOL.md §19), on the real binaries with the device's clock pinned
/// (`CASESYNC_NOW`): past its lease without reaching the node a device locks its case data,
/// keeps `status` and `sync`, and opens again once a sync succeeds.
@Suite(.serialized)
struct OfflineLeaseTests {
    static func iso(_ date: Date) -> String { date.formatted(.iso8601) }

    @Test func aDevicePastItsLeaseLocksItsCaseDataUntilItSyncs() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator")])
        defer { daemon.remove() }
        let refused = try daemon.admin("enroll", "ann", "--lease", "30m")
        #expect(refused.status == 1 && refused.stderr.contains("--lease"), "a lease under an hour is refused: \(refused.stderr)")

        var cli = try CLIRunner()
        defer { cli.remove() }
        let start = Date()
        cli.environment["CASESYNC_NOW"] = Self.iso(start)
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        let token = try #require(try daemon.admin("enroll", "ann", "--lease", "14d").stdout.split(separator: "\n").last.map(String.init))
        #expect(try cli.run("enroll", "--server", "http://127.0.0.1:\(daemon.port)", "--token", token).status == 0)
        let caseID = try #require(try cli.ok("case", "new", "--title", "Leased")["id"] as? String)
        _ = try cli.ok("sync")

        // Thirteen days offline: open, and status says until when.
        cli.environment["CASESYNC_NOW"] = Self.iso(start.addingTimeInterval(13 * 86_400))
        #expect(try cli.run("case", "show", caseID).status == 0)
        let open = try cli.ok("status")
        #expect(open["locked"] as? Bool == false && (open["leaseUntil"] as? String)?.isEmpty == false)

        // Fifteen days: every command on case data is refused, in one line; status and sync work.
        cli.environment["CASESYNC_NOW"] = Self.iso(start.addingTimeInterval(15 * 86_400))
        for arguments in [["case", "list"], ["case", "show", caseID], ["note", "add", caseID, "--text", "offline too long"], ["conflicts"]] {
            let locked = try cli.run(arguments)
            #expect(locked.status == 4, "\(arguments): \(locked.stderr)")
            #expect(locked.stderr.contains("offline lease of 14 days") && locked.stderr.contains("casesync sync"), "\(locked.stderr)")
            #expect(locked.stderr.split(separator: "\n").count == 1)
        }
        #expect(try cli.ok("status")["locked"] as? Bool == true)
        #expect(try cli.ok("status")["pending"] as? Int == 0, "the refused note was not written")
        _ = try cli.ok("sync")
        #expect(try cli.run("case", "show", caseID).status == 0, "a successful sync opens it again")

        // A clock set back more than a day before the last sync does not extend the lease.
        cli.environment["CASESYNC_NOW"] = Self.iso(start.addingTimeInterval(13 * 86_400))
        let behind = try cli.run("case", "list")
        #expect(behind.status == 4 && behind.stderr.contains("clock is behind"), "\(behind.stderr)")

        // A replica never enrolled has no node and no lease.
        var alone = try CLIRunner()
        defer { alone.remove() }
        alone.environment["CASESYNC_NOW"] = Self.iso(start)
        _ = try alone.ok("init", "--device-name", "rig")
        alone.environment["CASESYNC_NOW"] = Self.iso(start.addingTimeInterval(400 * 86_400))
        #expect(try alone.run("case", "list").status == 0)
    }
}
