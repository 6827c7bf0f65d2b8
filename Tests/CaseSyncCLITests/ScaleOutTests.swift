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

extension ScaleOutTests {
    /// A node in a data folder, with a mediator's and a supervisor's devices synced through a
    /// proxy, moved into PostgreSQL with `casesyncd migrate --to`: the copy checks out, a second
    /// move into the same database is refused, and once the proxy points at a node on the
    /// database both devices sync on with their enrollment and cursors, the audit chain whole.
    @Test func aNodeMovedIntoPostgreSQLKeepsItsDevicesSyncing() throws {
        let url = try #require(DaemonProcess.freshDatabaseURL())
        let folderNode = try DaemonProcess.started(users: [("ann", "mediator"), ("sue", "supervisor")])
        defer { folderNode.remove() }
        let proxy = try FaultyProxy(upstreamPorts: [folderNode.port], seed: 7)
        defer { proxy.stop() }
        proxy.setFaults(false)
        let server = "http://127.0.0.1:\(proxy.port)"
        let laptop = try CLIRunner.enrolled(folderNode, user: "ann", name: "ann-laptop", server: server, encrypted: false)
        let desk = try CLIRunner.enrolled(folderNode, user: "sue", name: "sue-desk", server: server, encrypted: false)
        defer { [laptop, desk].forEach { $0.cli.remove() } }
        let caseID = try #require(try laptop.cli.ok("case", "new", "--title", "Moved node")["id"] as? String)
        _ = try laptop.cli.ok("note", "add", caseID, "--text", "before the move")
        #expect(try laptop.cli.run("sync").status == 0)
        #expect(try desk.cli.ok("sync")["pulled"] as? Int == 2)
        // A site, and a purged case with its marker and drops: rows of other tables to copy.
        #expect(try folderNode.admin("site", "add", "North Hospital").status == 0)
        let purged = try #require(try laptop.cli.ok("case", "new", "--title", "Purged before the move")["id"] as? String)
        #expect(try laptop.cli.run("sync").status == 0)
        #expect(try folderNode.admin("purge", purged, "--reason", "retention", "--yes").status == 0)
        #expect(try laptop.cli.run("sync").status == 0)
        #expect(try desk.cli.run("sync").status == 0)
        #expect(folderNode.stop() == 0)

        let casesyncd = DaemonProcess.directory.appendingPathComponent("casesyncd")
        let moved = try DaemonProcess.run(casesyncd, ["migrate", "--data", folderNode.data.path, "--to", url, "--json"])
        #expect(moved.status == 0, "\(moved.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(moved.stdout.utf8)) as? [String: Any])
        let counts = try #require(summary["counts"] as? [String: Int])
        #expect(counts["record"] == 2 && counts["user"] == 2 && counts["device"] == 2 && counts["site"] == 1 && counts["purge"] == 1)
        #expect((counts["dropNotice"] ?? 0) >= 2, "the purge's drops, for the mediator and the supervisor")
        let again = try DaemonProcess.run(casesyncd, ["migrate", "--data", folderNode.data.path, "--to", url])
        #expect(again.status == 1 && again.stderr.contains("already holds a sync node") && again.stderr.split(separator: "\n").count == 1, "\(again.stderr)")

        let databaseNode = DaemonProcess(database: url)
        defer { databaseNode.remove() }
        try databaseNode.start()
        proxy.setUpstreams([databaseNode.port])
        _ = try laptop.cli.ok("note", "add", caseID, "--text", "after the move")
        #expect(try laptop.cli.ok("sync")["pushed"] as? Int == 1)
        #expect(try desk.cli.ok("sync")["pulled"] as? Int == 1, "the supervisor's cursor carried over: only the new note")
        let views = try [laptop, desk].map { try $0.cli.run("--json", "case", "show", caseID).stdout }
        #expect(views[0] == views[1])
        #expect(views[0].contains("before the move") && views[0].contains("after the move"))
        // The site is the same site whatever the case of its letters; the purged case stays purged.
        let sameSite = try databaseNode.admin("site", "add", "north hospital")
        #expect(sameSite.status == 1 && (sameSite.stderr.contains("exists") || sameSite.stderr.contains("already")), "\(sameSite.stderr)")
        #expect(!views[0].contains("Purged before the move"))
        let verified = try databaseNode.admin("audit", "verify")
        #expect(verified.status == 0, "\(verified.stderr)")
        #expect(try databaseNode.admin("audit", "show", "--json").stdout.contains("\"migrate\""))
    }
}

extension ScaleOutTests {
    /// The restore procedure of Deploy/SCALE-OUT.md with PostgreSQL's own tools: a dump taken
    /// after the first note, a second note pushed after it, the dump restored over the
    /// database, then `casesyncd restore --database`: the laptop re-sends what the dump
    /// lacked, and the supervisor's desk, which had both notes, ends with both again.
    @Test func aDatabaseRestoredWithPgRestoreGetsBackWhatDevicesHold() throws {
        let base = try #require(ProcessInfo.processInfo.environment["CASESYNC_TEST_DATABASE_URL"])
        let tools = try #require(try FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql").sorted().last.map { "/usr/lib/postgresql/\($0)/bin" },
                                 "PostgreSQL's tools are not installed")
        let url = try #require(DaemonProcess.freshDatabaseURL())
        let schema = try #require(url.components(separatedBy: "search_path%3D").last)
        let node = DaemonProcess(database: url)
        defer { node.remove() }
        #expect(try node.admin("user", "add", "ann", "--role", "mediator").status == 0)
        #expect(try node.admin("user", "add", "sue", "--role", "supervisor").status == 0)
        try node.start()
        // The address devices know stays; the restarted node has a new port behind it.
        let proxy = try FaultyProxy(upstreamPorts: [node.port], seed: 3)
        defer { proxy.stop() }
        proxy.setFaults(false)
        let server = "http://127.0.0.1:\(proxy.port)"
        let laptop = try CLIRunner.enrolled(node, user: "ann", name: "ann-laptop", server: server, encrypted: false)
        let desk = try CLIRunner.enrolled(node, user: "sue", name: "sue-desk", server: server, encrypted: false)
        defer { [laptop, desk].forEach { $0.cli.remove() } }
        let caseID = try #require(try laptop.cli.ok("case", "new", "--title", "Restored")["id"] as? String)
        _ = try laptop.cli.ok("note", "add", caseID, "--text", "in the dump")
        #expect(try laptop.cli.run("sync").status == 0)

        let dump = FileManager.default.temporaryDirectory.appendingPathComponent("casesync-\(schema).dump").path
        defer { try? FileManager.default.removeItem(atPath: dump) }
        let dumped = try DaemonProcess.run(URL(fileURLWithPath: tools + "/pg_dump"), ["--schema", schema, "--format", "custom", "--file", dump, base])
        #expect(dumped.status == 0, "\(dumped.stderr)")
        _ = try laptop.cli.ok("note", "add", caseID, "--text", "after the dump")
        #expect(try laptop.cli.run("sync").status == 0)
        #expect(try desk.cli.ok("sync")["pulled"] as? Int == 3)

        // While a node serves, marking the database restored is refused: that node would go
        // on with the generation it read at start.
        let early = try node.admin("restore", "--window", "1d")
        #expect(early.status == 1 && early.stderr.contains("stop every node") && !early.stdout.contains("generation"), "\(early.stderr)")
        #expect(node.stop() == 0)
        let restored = try DaemonProcess.run(URL(fileURLWithPath: tools + "/pg_restore"), ["--clean", "--if-exists", "--dbname", base, dump])
        #expect(restored.status == 0, "\(restored.stderr)")
        let marked = try node.admin("restore", "--window", "1d")
        #expect(marked.status == 0 && marked.stdout.contains("generation"), "\(marked.stderr)")
        try node.start()
        proxy.setUpstreams([node.port])
        // A device enrolled now sees what the dump held: the second note is gone from the node.
        let tablet = try CLIRunner.enrolled(node, user: "sue", name: "sue-tablet", server: server, encrypted: false)
        defer { tablet.cli.remove() }
        #expect(try tablet.cli.run("sync").status == 0)
        let rewound = try tablet.cli.run("--json", "case", "show", caseID).stdout
        #expect(rewound.contains("in the dump") && !rewound.contains("after the dump"))
        #expect(try laptop.cli.run("sync").status == 0, "the laptop re-sends what it holds")
        #expect(try desk.cli.run("sync").status == 0)
        #expect(try tablet.cli.run("sync").status == 0)
        for device in [laptop, desk, tablet] {
            let shown = try device.cli.run("--json", "case", "show", caseID).stdout
            #expect(shown.contains("in the dump") && shown.contains("after the dump"), "\(device.device) holds both notes")
        }
        let again = try laptop.cli.ok("sync")
        #expect(again["pushed"] as? Int == 0 && again["pulled"] as? Int == 0, "and then nothing more moves")
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

/// What an operator sees when the database URL is wrong or the database is not there: one
/// line naming what to check, with the exit code of DESIGN.md, and nothing written.
struct DatabaseURLErrorTests {
    let casesyncd = DaemonProcess.directory.appendingPathComponent("casesyncd")

    @Test(arguments: ["mysql://casesync@localhost/casesync", "postgres://localhost/casesync", "postgres://casesync@localhost/",
                      "postgres://casesync@localhost/casesync?sslmode=sometimes", "postgres://casesync@localhost/casesync?options=-csearch_path%3DBad-Name"])
    func aURLThatIsNotADatabasesIsAUsageError(url: String) throws {
        let result = try DaemonProcess.run(casesyncd, ["user", "list", "--database", url])
        #expect(result.status == 1, "\(url): \(result.stderr)")
        #expect(result.stderr.hasPrefix("casesyncd: ") && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    /// Nothing listens there: exit 3 (unreachable) within the store's 15 s, in one line.
    @Test func aDatabaseThatCannotBeReachedIsUnreachableInOneLine() throws {
        let started = ContinuousClock.now
        let result = try DaemonProcess.run(casesyncd, ["user", "list", "--database", "postgres://casesync@127.0.0.1:1/casesync"])
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1 && result.stderr.contains("check that PostgreSQL runs"), "\(result.stderr)")
        #expect(ContinuousClock.now - started < .seconds(60))
    }
}
