import CaseSyncTestSupport
import Foundation
import Testing

/// Two real `casesyncd` processes on one PostgreSQL database behind a balancer that sends
/// each connection to either node (as nginx does with both as an upstream), and real
/// `casesync` replicas that never know which node they talk to.
@Suite(.serialized, .enabled(if: DaemonProcess.freshDatabaseURL() != nil, "set CASESYNC_TEST_DATABASE_URL (make test starts a cluster when PostgreSQL is installed)"))
struct ScaleOutTests {
    /// Three devices of one mediator, each step one of them at random: a note, sometimes an
    /// edit of the case's site (concurrent with the others' edits), then a sync through the
    /// balancer; 200 syncs in all, one node restarted half-way while the other serves. Then
    /// each device writes the objectives offline, and everyone syncs: every device shows the
    /// same case, byte for byte, with every note and the three objectives kept as a conflict.
    @Test func threeDevicesSwitchingBetweenTwoNodesConvergeWithEveryConflictKept() throws {
        let url = try #require(DaemonProcess.freshDatabaseURL())
        let first = DaemonProcess(database: url)
        let second = DaemonProcess(database: url)
        defer { first.remove(); second.remove() }
        #expect(try first.admin("user", "add", "ann", "--role", "mediator").status == 0)
        try first.start()
        try second.start()
        let balancer = try FaultyProxy(upstreamPorts: [first.port, second.port], seed: 0x5CA1E)
        defer { balancer.stop() }
        balancer.setFaults(false)
        let server = "http://127.0.0.1:\(balancer.port)"
        // Each enrolled with a token from either node: the token is a row of the database.
        let devices = try ["ann-laptop", "ann-phone", "ann-desk"].enumerated().map { index, name in
            try CLIRunner.enrolled(index % 2 == 0 ? first : second, user: "ann", name: name, server: server, encrypted: false)
        }
        defer { devices.forEach { $0.cli.remove() } }
        let caseID = try #require(try devices[0].cli.ok("case", "new", "--title", "Scale-out")["id"] as? String)
        for device in devices { #expect(try device.cli.run("sync").status == 0) }

        var generator = SeededGenerator(seed: 0xD1CE)
        var notes: Set<String> = []
        for step in 0..<200 {
            if step == 100 {
                #expect(balancer.connections(to: first.port) > 10 && balancer.connections(to: second.port) > 10, "both nodes served")
                // A node restarts while the other serves: the balancer passes over it while it is down.
                #expect(second.stop() == 0)
                #expect(try devices[step % 3].cli.run("sync").status == 0, "the other node serves alone")
                try second.start()
                balancer.setUpstreams([first.port, second.port])
            }
            let device = devices[Int(generator.next() % 3)]
            let note = try device.cli.ok("note", "add", caseID, "--text", "step \(step) on \(device.device)")
            notes.insert(try #require(note["id"] as? String))
            if generator.next() % 4 == 0 {
                _ = try device.cli.ok("case", "set", caseID, "site=Site \(step)")
            }
            let synced = try device.cli.run("sync")
            #expect(synced.status == 0, "sync \(step): \(synced.stderr)")
        }
        #expect(balancer.connections(to: second.port) > 10, "the restarted node served again")
        for (index, device) in devices.enumerated() {
            _ = try device.cli.ok("case", "set", caseID, "objectives=Objectives of device \(index)")
        }
        for _ in 0..<2 { for device in devices { #expect(try device.cli.run("sync").status == 0) } }

        let views = try devices.map { try $0.cli.run("--json", "case", "show", caseID).stdout }
        #expect(views[0] == views[1] && views[1] == views[2], "every device shows the same case, byte for byte")
        let shown = try #require(try JSONSerialization.jsonObject(with: Data(views[0].utf8)) as? [String: Any])
        let shownNotes = Set((shown["notes"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
        #expect(shownNotes == notes, "every note of the 200 steps, none twice")
        let theCase = try #require(shown["case"] as? [String: Any])
        let conflicts = theCase["conflicts"] as? [[String: Any]] ?? []
        let objectives = try #require(conflicts.first { $0["field"] as? String == "objectives" })
        let sides = objectives["sides"] as? [[String: Any]] ?? []
        #expect(Set(sides.compactMap { $0["device"] as? String }) == Set(devices.map(\.device)), "the three objectives are kept side by side")
        for device in devices { #expect(try device.cli.ok("status")["pending"] as? Int == 0) }
    }
}

/// xorshift64: the same steps every run.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
