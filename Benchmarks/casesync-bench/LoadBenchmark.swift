import ArgumentParser
import Foundation
import SyncClient
import SyncModel
import SyncStore
#if canImport(Glibc)
import Glibc
#endif

/// `casesync-bench load`: many devices syncing against the real release `casesyncd` over
/// loopback, through the client library (`SyncEngine` over libcurl, replicas in memory), so
/// the figures are the node's and not process start-up's.
///
/// Each device belongs to a mediator of its own and holds one case. A *sync* is what a
/// mediator's small change costs: one local edit, then `SyncEngine.run` (push the edited
/// record, pull to the end). Two shapes:
/// - **burst**: every device starts one sync at the same instant, `--bursts` times;
/// - **steady**: each device syncs every `--interval` seconds for `--seconds`, the devices
///   spread evenly over the interval.
/// A sync that throws is an error (retries included, as `casesync sync` retries 429/5xx);
/// one that takes longer than `--hang-after` is counted as a hang. A watchdog asks
/// `/healthz` every 250 ms throughout. The node's peak resident memory (`VmHWM`) is read at
/// the end.
struct LoadBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Many devices syncing at once against the real node: errors, hangs, latency, memory.")

    @Option(help: "Number of devices (each a mediator of its own).") var devices = 200
    @Option(help: "Seconds of steady load (0: burst only).") var seconds = 30
    @Option(help: "Seconds between a device's syncs in the steady load.") var interval = 5.0
    @Option(help: "Number of bursts.") var bursts = 3
    @Option(help: "A sync slower than this many seconds is a hang.") var hangAfter = 30.0
    @Option(help: "burst, steady or both.") var shape = "both"

    func validate() throws {
        guard devices > 0, bursts >= 0, seconds >= 0, interval > 0 else { throw ValidationError("--devices, --interval must be positive; --bursts, --seconds not negative") }
        guard ["burst", "steady", "both"].contains(shape) else { throw ValidationError("--shape must be burst, steady or both") }
    }

    func run() async throws {
        let casesyncd = try builtBinary("casesyncd")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("casesync-bench-load-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let node = root.appendingPathComponent("node").path

        // Accounts first, while the node is not running: one process adds every user.
        var tokens: [String] = []
        for index in 0..<devices {
            _ = try SyncBenchmark.run(casesyncd, ["user", "add", Self.user(index), "--role", "mediator", "--data", node])
            let token = try SyncBenchmark.run(casesyncd, ["enroll", Self.user(index), "--data", node]).split(separator: "\n").last.map(String.init) ?? ""
            tokens.append(token)
            if (index + 1) % 100 == 0 { FileHandle.standardError.write(Data("accounts: \(index + 1)/\(devices)\n".utf8)) }
        }
        let (daemon, port) = try startDaemon(casesyncd, data: node)
        defer { kill(daemon.processIdentifier, SIGTERM); daemon.waitUntilExit() }
        let server = "http://127.0.0.1:\(port)"

        // Enroll every device and make its first sync (not measured), a few at a time.
        let fleet = try await withThrowingTaskGroup(of: LoadDevice.self) { group -> [LoadDevice] in
            var made: [LoadDevice] = []
            for index in 0..<devices {
                if index >= 16, let device = try await group.next() { made.append(device) }
                let token = tokens[index]
                group.addTask { try await LoadDevice.enrolled(index: index, server: server, token: token, timeout: hangAfter) }
            }
            for try await device in group { made.append(device) }
            return made.sorted { $0.index < $1.index }
        }
        // Each enrollment changed the node's directory after the devices enrolled before it
        // had synced: one more sync each (not measured) fetches it as it now stands
        // (PROTOCOL.md §15), so the bursts measure small syncs. The one-off catch-up after
        // a wave of enrollments is a third request per device, measured apart in BENCHMARKS.md.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, device) in fleet.enumerated() {
                if index >= 16 { try await group.next() }
                group.addTask { _ = try await device.engine.run() }
            }
            try await group.waitForAll()
        }
        FileHandle.standardError.write(Data("enrolled and synced \(fleet.count) devices\n".utf8))

        let watchdog = Watchdog(server: server)
        let watching = Task { await watchdog.run() }

        var report: [String] = []
        var json: [String] = ["\"bench\":\"load\"", "\"devices\":\(devices)"]
        let pid = daemon.processIdentifier
        if shape != "steady" && bursts > 0 {
            // Bursts of syncs and, alternately, bursts of the same number of bare round trips
            // (two `/healthz` requests a device, as a sync makes two requests) on the same
            // connections: the limit the machine sets in this run.
            var samples = LoadSamples()
            var baseline = LoadSamples()
            var nodeCPU = 0.0
            var clientCPU = 0.0
            for _ in 0..<bursts {
                let (nodeBefore, clientBefore) = (Self.cpuSeconds(pid), Self.ownCPUSeconds())
                samples.add(await Self.burst(fleet, hangAfter: hangAfter) { await $0.timedSync(hangAfter: $1) })
                nodeCPU += Self.cpuSeconds(pid) - nodeBefore
                clientCPU += Self.ownCPUSeconds() - clientBefore
                try await Task.sleep(for: .milliseconds(500))
                baseline.add(await Self.burst(fleet, hangAfter: hangAfter) { await $0.timedRoundTrips(hangAfter: $1) })
                try await Task.sleep(for: .milliseconds(500))
            }
            samples.nodeCPUPerSync = nodeCPU / Double(max(1, bursts * devices))
            samples.clientCPUPerSync = clientCPU / Double(max(1, bursts * devices))
            report.append("burst (\(bursts) × \(devices) syncs): " + samples.summary)
            report.append("  bare round trips, same bursts: p50 \(format(baseline.percentile(0.5) * 1000)) ms, p99 \(format(baseline.percentile(0.99) * 1000)) ms; sync p99 / round-trip p99 = \(format(samples.percentile(0.99) / max(baseline.percentile(0.99), 1e-9)))")
            json.append("\"burst\":" + samples.json)
            json.append("\"burst_round_trip_p99_ms\":\(format(baseline.percentile(0.99) * 1000))")
        }
        if shape != "burst" && seconds > 0 {
            let cpuBefore = Self.cpuSeconds(pid)
            var samples = await Self.steady(fleet, seconds: seconds, interval: interval, hangAfter: hangAfter)
            samples.nodeCPUPerSync = (Self.cpuSeconds(pid) - cpuBefore) / Double(max(1, samples.latencies.count))
            report.append("steady (each device every \(interval) s for \(seconds) s): " + samples.summary)
            json.append("\"steady\":" + samples.json)
        }
        watching.cancel()
        let health = await watching.value
        let peak = Self.peakRSSMegabytes(daemon.processIdentifier)
        report.append("healthz: \(health.answered) answered, \(health.failures) failed, slowest \(format(health.slowest * 1000)) ms; node peak RSS \(peak) MB (target <= 150)")
        json.append("\"healthz_failures\":\(health.failures)")
        json.append("\"healthz_slowest_ms\":\(format(health.slowest * 1000))")
        json.append("\"node_peak_rss_mb\":\(peak)")
        for line in report { print(line) }
        print("{" + json.joined(separator: ",") + "}")
    }

    static func user(_ index: Int) -> String { String(format: "m%04d", index) }

    /// Every device starts `work` (one sync, or the bare round trips) when all are ready.
    static func burst(_ fleet: [LoadDevice], hangAfter: Double,
                      _ work: @escaping @Sendable (LoadDevice, Double) async -> LoadSamples.Outcome) async -> LoadSamples {
        let gate = StartGate(count: fleet.count)
        return await withTaskGroup(of: LoadSamples.Outcome.self) { group in
            for device in fleet {
                group.addTask {
                    await gate.arriveAndWait()
                    return await work(device, hangAfter)
                }
            }
            var samples = LoadSamples()
            for await outcome in group { samples.add(outcome) }
            return samples
        }
    }

    /// Each device syncs every `interval` seconds, starting at its own offset in the interval.
    static func steady(_ fleet: [LoadDevice], seconds: Int, interval: Double, hangAfter: Double) async -> LoadSamples {
        let end = ContinuousClock.now + .seconds(seconds)
        return await withTaskGroup(of: LoadSamples.self) { group in
            for device in fleet {
                group.addTask {
                    var samples = LoadSamples()
                    var next = ContinuousClock.now + .milliseconds(Int(interval * 1000 * Double(device.index) / Double(fleet.count)))
                    while next < end {
                        try? await Task.sleep(until: next)
                        samples.add(await device.timedSync(hangAfter: hangAfter))
                        next += .milliseconds(Int(interval * 1000))
                        // A device that fell behind syncs again at once, as a timer would.
                        if next < .now { next = .now }
                    }
                    return samples
                }
            }
            var all = LoadSamples()
            for await samples in group { all.add(samples) }
            return all
        }
    }

    /// User plus system CPU time the process has used, from `/proc/PID/stat`.
    static func cpuSeconds(_ pid: Int32) -> Double {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // Fields after the command name (which is in parentheses and may hold spaces).
        guard let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// CPU time this process (the simulated devices) has used.
    static func ownCPUSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func peakRSSMegabytes(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let kilobytes = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }?.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        return kilobytes / 1024
    }
}

/// One simulated device: an in-memory replica holding one case, and its sync engine.
struct LoadDevice: Sendable {
    let index: Int
    let store: ReplicaStore
    let engine: SyncEngine
    let caseID: RecordID

    static func enrolled(index: Int, server: String, token: String, timeout: Double) async throws -> LoadDevice {
        let store = try ReplicaStore.inMemory()
        let device = try DeviceID(String(format: "load-%04d", index))
        let time = Int64(Date().timeIntervalSince1970 * 1000)
        _ = try store.initialize(device: device, name: device.rawValue, at: time)
        let enrollment = try await SyncClient(server: server).enroll(token: token, device: device, name: device.rawValue)
        let client = try SyncClient(server: server, device: device, secret: enrollment.secret, timeout: .milliseconds(Int(timeout * 1000)))
        var random = BenchRandom(seed: UInt64(index) &+ 1)
        let caseID = RecordID.make(milliseconds: time, using: &random)
        try store.create([(.case, caseID, CaseFixture.fields(index: index))], at: time)
        let engine = SyncEngine(store: store, client: client)
        _ = try await engine.run()
        return LoadDevice(index: index, store: store, engine: engine, caseID: caseID)
    }

    /// Two bare `/healthz` round trips on the device's own connections, timed.
    func timedRoundTrips(hangAfter: Double) async -> LoadSamples.Outcome {
        let start = ContinuousClock.now
        do {
            for _ in 0..<2 {
                let answer = try await engine.client.transport.send(TransportRequest(.get, "/healthz"))
                guard answer.status == 200 else { return .failed((ContinuousClock.now - start).seconds, "healthz answered \(answer.status)") }
            }
            return .done((ContinuousClock.now - start).seconds)
        } catch {
            return .failed((ContinuousClock.now - start).seconds, "\(error)")
        }
    }

    /// One edit and one sync, timed.
    func timedSync(hangAfter: Double) async -> LoadSamples.Outcome {
        let start = ContinuousClock.now
        do {
            let time = Int64(Date().timeIntervalSince1970 * 1000)
            try store.write(caseID, type: .case, at: time) { state, stamp in
                try state.apply([.set("objectives", .text("Edited at \(time) by device \(index)"))], stamp: stamp)
            }
            let summary = try await engine.run()
            let seconds = (ContinuousClock.now - start).seconds
            guard summary.pushed == 1, summary.refused.isEmpty else { return .failed(seconds, "pushed \(summary.pushed), refused \(summary.refused.count)") }
            return seconds > hangAfter ? .hung(seconds) : .done(seconds)
        } catch {
            let seconds = (ContinuousClock.now - start).seconds
            return seconds >= hangAfter ? .hung(seconds) : .failed(seconds, "\(error)")
        }
    }
}

/// Latencies and failures of many syncs.
struct LoadSamples: Sendable {
    enum Outcome: Sendable {
        case done(Double)
        case failed(Double, String)
        case hung(Double)
    }

    var latencies: [Double] = []
    var errors = 0
    var hangs = 0
    var firstError: String?
    /// The node's CPU time (user + system) per sync, in seconds.
    var nodeCPUPerSync = 0.0
    /// The simulated devices' CPU time per sync (this process), in seconds.
    var clientCPUPerSync = 0.0

    mutating func add(_ outcome: Outcome) {
        switch outcome {
        case let .done(seconds): latencies.append(seconds)
        case let .failed(_, message):
            errors += 1
            if firstError == nil { firstError = message }
        case .hung: hangs += 1
        }
    }

    mutating func add(_ other: LoadSamples) {
        latencies += other.latencies
        errors += other.errors
        hangs += other.hangs
        if firstError == nil { firstError = other.firstError }
    }

    func percentile(_ p: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        let sorted = latencies.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
    }

    var summary: String {
        "\(latencies.count) ok, \(errors) errors, \(hangs) hangs; p50 \(format(percentile(0.5) * 1000)) ms, p95 \(format(percentile(0.95) * 1000)) ms, p99 \(format(percentile(0.99) * 1000)) ms, max \(format((latencies.max() ?? 0) * 1000)) ms"
            + "; CPU a sync: node \(format(nodeCPUPerSync * 1000)) ms" + (clientCPUPerSync > 0 ? ", devices \(format(clientCPUPerSync * 1000)) ms" : "")
            + (firstError.map { "; first error: \($0.prefix(200))" } ?? "")
    }

    var json: String {
        #"{"syncs":\#(latencies.count + errors + hangs),"errors":\#(errors),"hangs":\#(hangs),"p50_ms":\#(format(percentile(0.5) * 1000)),"p95_ms":\#(format(percentile(0.95) * 1000)),"p99_ms":\#(format(percentile(0.99) * 1000)),"node_cpu_ms_per_sync":\#(format(nodeCPUPerSync * 1000))}"#
    }
}

/// Lets `count` tasks start together: each waits until the last one has arrived.
actor StartGate {
    private var waiting: [CheckedContinuation<Void, Never>] = []
    private let count: Int

    init(count: Int) { self.count = count }

    func arriveAndWait() async {
        if waiting.count + 1 == count {
            for continuation in waiting { continuation.resume() }
            waiting = []
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }
}

/// Asks `/healthz` every 250 ms until cancelled.
struct Watchdog: Sendable {
    let server: String

    struct Result: Sendable {
        var answered = 0
        var failures = 0
        var slowest = 0.0
    }

    func run() async -> Result {
        var result = Result()
        guard let transport = try? CurlTransport(baseURL: server, timeout: .seconds(10), connections: 1) else { return result }
        while !Task.isCancelled {
            let start = ContinuousClock.now
            do {
                let answer = try await transport.send(TransportRequest(.get, "/healthz"))
                if answer.status == 200 { result.answered += 1 } else { result.failures += 1 }
            } catch {
                result.failures += 1
            }
            result.slowest = max(result.slowest, (ContinuousClock.now - start).seconds)
            try? await Task.sleep(for: .milliseconds(250))
        }
        return result
    }
}
