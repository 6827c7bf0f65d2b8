import ArgumentParser
import Foundation
import SyncClient
import SyncModel
import SyncStore
#if canImport(Glibc)
import Glibc
#endif

/// `casesync-bench memory`: the node's peak resident memory (`VmHWM`) in the two shapes that
/// once made it balloon, each on a fresh release `casesyncd` so the figures do not mix:
/// 1. `--pushes` devices each push one batch as large as the node accepts (16 MiB), all
///    at once;
/// 2. a mediator is granted a case holding `--grant` records and their device's next
///    `SyncEngine.run` pulls its whole history (in pages of at most the limit).
/// The node's memory right after start is printed beside each, as the baseline.
struct MemoryBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "memory", abstract: "Node peak memory under parallel maximum-size pushes and a large grant.")

    @Option(help: "Devices pushing a maximum-size batch at once.") var pushes = 16
    @Option(help: "Records in the granted case.") var grant = 60_000
    @Option(help: "The node's largest request body (casesyncd's default).") var maxBody = 16 << 20

    func run() async throws {
        let casesyncd = try builtBinary("casesyncd")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("casesync-bench-memory-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }

        let (pushBase, pushPeak, pushedMB) = try await parallelPushes(casesyncd, data: root.appendingPathComponent("pushes").path)
        print("\(pushes) parallel pushes of \(format(pushedMB)) MB each: node peak RSS \(pushPeak) MB (at start \(pushBase) MB; target <= 150)")
        let (grantBase, grantPeak, pulled) = try await largeGrant(casesyncd, data: root.appendingPathComponent("grant").path)
        print("grant of a case with \(grant) records, pulled by the new mediator (\(pulled) records): node peak RSS \(grantPeak) MB (at start \(grantBase) MB; target <= 150)")
        print(#"{"bench":"memory","parallel_pushes":\#(pushes),"push_mb":\#(format(pushedMB)),"push_peak_rss_mb":\#(pushPeak),"grant_records":\#(grant),"grant_peak_rss_mb":\#(grantPeak),"start_rss_mb":\#(max(pushBase, grantBase))}"#)
    }

    /// Enrolls `devices` devices of a new `role` user, returning their clients.
    func enroll(_ casesyncd: URL, data: String, server: String, user: String, role: String, devices: Int) async throws -> [(DeviceID, SyncClient)] {
        _ = try SyncBenchmark.run(casesyncd, ["user", "add", user, "--role", role, "--data", data])
        var clients: [(DeviceID, SyncClient)] = []
        for index in 0..<devices {
            let token = try SyncBenchmark.run(casesyncd, ["enroll", user, "--data", data]).split(separator: "\n").last.map(String.init) ?? ""
            let device = try DeviceID(String(format: "\(user)-%02d", index))
            let enrollment = try await SyncClient(server: server).enroll(token: token, device: device, name: device.rawValue)
            clients.append((device, try SyncClient(server: server, device: device, secret: enrollment.secret, retry: RetryPolicy(attempts: 20), timeout: .seconds(600))))
        }
        return clients
    }

    func parallelPushes(_ casesyncd: URL, data: String) async throws -> (Int, Int, Double) {
        let (daemon, port) = try startDaemon(casesyncd, data: data)
        defer { kill(daemon.processIdentifier, SIGTERM); daemon.waitUntilExit() }
        let clients = try await enroll(casesyncd, data: data, server: "http://127.0.0.1:\(port)", user: "sue", role: "supervisor", devices: pushes)
        // Each device's batch: new cases, as many as fit under the body limit.
        var batches: [[[UInt8]]] = []
        var random = BenchRandom(seed: 5)
        for (device, _) in clients {
            var batch: [[UInt8]] = []
            var bytes = 16
            var index = 0
            while true {
                var state = RecordState(type: .case, id: RecordID.make(milliseconds: 1_763_800_000_000 + Int64(index), using: &random))
                try state.apply(CaseFixture.fields(index: index), stamp: Stamp(device: device, counter: index + 1, time: 1_763_800_000_000))
                let json = state.canonicalJSON()
                guard bytes + json.count + 1 < maxBody - 1024 else { break }
                bytes += json.count + 1
                batch.append(json)
                index += 1
            }
            batches.append(batch)
        }
        let base = LoadBenchmark.peakRSSMegabytes(daemon.processIdentifier)
        let megabytes = Double(batches[0].reduce(0) { $0 + $1.count + 1 }) / 1_048_576
        try await withThrowingTaskGroup(of: Int.self) { group in
            for (index, (_, client)) in clients.enumerated() {
                let batch = batches[index]
                group.addTask { try await client.push(canonical: batch).answers.count }
            }
            for try await answered in group where answered == 0 { throw ValidationError("a push was answered with no results") }
        }
        return (base, LoadBenchmark.peakRSSMegabytes(daemon.processIdentifier), megabytes)
    }

    func largeGrant(_ casesyncd: URL, data: String) async throws -> (Int, Int, Int) {
        let (daemon, port) = try startDaemon(casesyncd, data: data)
        defer { kill(daemon.processIdentifier, SIGTERM); daemon.waitUntilExit() }
        let server = "http://127.0.0.1:\(port)"
        let bob = try await enroll(casesyncd, data: data, server: server, user: "bob", role: "mediator", devices: 1)[0]
        let ann = try await enroll(casesyncd, data: data, server: server, user: "ann", role: "mediator", devices: 1)[0]

        // Bob's case and its notes, pushed as `casesync sync` would.
        let bobStore = try ReplicaStore.inMemory()
        _ = try bobStore.initialize(device: bob.0, name: bob.0.rawValue, at: 1_763_800_000_000)
        var random = BenchRandom(seed: 9)
        let caseID = RecordID.make(milliseconds: 1_763_800_000_000, using: &random)
        var items: [(type: RecordType, id: RecordID, changes: [FieldChange])] = [(.case, caseID, CaseFixture.fields(index: 1))]
        for index in 1..<grant {
            items.append((.note, RecordID.make(milliseconds: 1_763_800_000_000 + Int64(index), using: &random),
                          [.set("case", .text(caseID.rawValue)), .set("text", .text("Session note \(index): the family asked for the discharge checklist and a written apology."))]))
        }
        try bobStore.create(items, at: 1_763_800_000_000)
        _ = try await SyncEngine(store: bobStore, client: bob.1).run()

        let annStore = try ReplicaStore.inMemory()
        _ = try annStore.initialize(device: ann.0, name: ann.0.rawValue, at: 1_763_800_000_000)
        let annEngine = SyncEngine(store: annStore, client: ann.1)
        _ = try await annEngine.run()
        let base = LoadBenchmark.peakRSSMegabytes(daemon.processIdentifier)

        try bobStore.write(caseID, type: .case, at: 1_763_800_000_001) { state, stamp in
            try state.apply([.add("mediators", "ann")], stamp: stamp)
        }
        _ = try await SyncEngine(store: bobStore, client: bob.1).run()
        let summary = try await annEngine.run()
        guard summary.pulled == grant else { throw ValidationError("ann pulled \(summary.pulled) records, not \(grant)") }
        return (base, LoadBenchmark.peakRSSMegabytes(daemon.processIdentifier), summary.pulled)
    }
}
