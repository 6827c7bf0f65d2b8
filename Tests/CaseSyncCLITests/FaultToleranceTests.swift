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
}
