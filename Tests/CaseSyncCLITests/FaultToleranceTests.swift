import CaseSyncTestSupport
import Foundation
import Testing

/// Syncing through a proxy that drops, truncates and delays connections at random: once
/// the faults stop and every replica syncs, all converge with no write missing or doubled.
@Suite(.serialized)
struct FaultToleranceTests {
    @Test(arguments: [UInt64(0xC0FFEE), 42])
    func replicasConvergeAfterSyncingThroughAFaultyNetwork(seed: UInt64) throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator")])
        defer { daemon.remove() }
        let proxy = try FaultyProxy(upstreamPort: daemon.port, seed: seed)
        defer { proxy.stop() }

        // Two devices of one mediator, enrolled through the proxy while it is clean.
        proxy.setFaults(false)
        var replicas: [CLIRunner] = []
        for name in ["ann-laptop", "ann-phone"] {
            replicas.append(try CLIRunner.enrolled(daemon, user: "ann", name: name, server: "http://127.0.0.1:\(proxy.port)").cli)
        }
        defer { replicas.forEach { $0.remove() } }
        let caseID = try #require(try replicas[0].ok("case", "new", "--title", "Faulty network")["id"] as? String)
        #expect(try replicas[0].run("sync").status == 0)
        #expect(try replicas[1].run("sync").status == 0)

        // Faults on: both devices keep writing notes and syncing; a sync may fail (exit 3).
        proxy.setFaults(true)
        var written: Set<String> = []
        var outcomes: [Int32: Int] = [:]
        for round in 0..<12 {
            for (index, cli) in replicas.enumerated() {
                let note = try cli.ok("note", "add", caseID, "--text", "device \(index) round \(round)")
                written.insert(try #require(note["id"] as? String))
                let result = try cli.run("sync")
                outcomes[result.status, default: 0] += 1
                #expect(result.status == 0 || result.status == 3, "a faulty network means exit 0 or 3, not \(result.status): \(result.stderr)")
            }
        }

        // Faults off: two rounds of syncs bring everyone together.
        #expect(proxy.injected > 10, "the proxy must really have dropped, cut and delayed connections")
        proxy.setFaults(false)
        for _ in 0..<2 { for cli in replicas { #expect(try cli.run("sync").status == 0) } }
        let views = try replicas.map { try $0.run("--json", "case", "show", caseID).stdout }
        #expect(views[0] == views[1])
        let shown = try #require(try JSONSerialization.jsonObject(with: Data(views[0].utf8)) as? [String: Any])
        let notes = (shown["notes"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        #expect(notes.count == written.count, "no note doubled")
        #expect(Set(notes) == written, "no note missing")
        for cli in replicas { #expect(try cli.ok("status")["pending"] as? Int == 0) }
        #expect(outcomes.values.reduce(0, +) == 24)
    }

    @Test func aBatchOverTheNodesBodyLimitGoesInHalvesAndARecordTooLargeAloneIsSetAside() throws {
        let daemon = DaemonProcess()
        defer { daemon.remove() }
        #expect(try daemon.admin("user", "add", "ann", "--role", "mediator").status == 0)
        try daemon.start(options: ["--max-body", "65536", "--body-budget", "65536"])
        let (cli, _) = try CLIRunner.enrolled(daemon, user: "ann", name: "ann-laptop")
        defer { cli.remove() }
        let caseID = try #require(try cli.ok("case", "new", "--title", "Long notes")["id"] as? String)
        // Five notes of 30 KB: one batch of about 150 KB, over the node's 64 KiB limit.
        for index in 1...5 {
            _ = try cli.ok("note", "add", caseID, "--text", String(repeating: "\(index)", count: 30_000))
        }
        let synced = try cli.run("--json", "sync")
        #expect(synced.status == 0, "\(synced.stderr)")
        #expect(try synced.object()["pushed"] as? Int == 6)
        // One note of 80 KB cannot go in any batch: it is set aside and named, the rest goes.
        _ = try cli.ok("note", "add", caseID, "--text", String(repeating: "x", count: 80_000))
        _ = try cli.ok("case", "set", caseID, "site=North")
        let refused = try cli.run("sync")
        #expect(refused.status == 5, "\(refused.stderr)")
        #expect(refused.stderr.contains("too_large") && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        #expect(try cli.ok("status")["pending"] as? Int == 1, "only the note too large stays queued")
    }
}
