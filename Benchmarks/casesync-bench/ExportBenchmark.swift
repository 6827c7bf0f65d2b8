import ArgumentParser
import Foundation
import GRDB
import NodeStorage
import SyncModel
import SyncStore
#if canImport(Glibc)
import Glibc
#endif

/// `casesync-bench export`: a reporter exports N records from the real `casesyncd`, whose
/// resident memory is sampled every 20 ms throughout. A streamed export keeps it flat.
struct ExportBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Export N records through casesyncd and watch its memory.")

    @Option(help: "Number of case records.") var records = 100_000
    @Option(name: .customLong("format"), help: "ndjson or csv.") var exportFormat = "ndjson"

    func run() throws {
        let casesync = try builtBinary("casesync")
        let casesyncd = try builtBinary("casesyncd")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("casesync-bench-export-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let node = root.appendingPathComponent("node")
        let reporter = root.appendingPathComponent("reporter").path

        // The node's records, written straight into its store with sequence numbers, as pushes leave them.
        let store = try SQLiteNodeStore.open(directory: node)
        _ = try store.addUser("rita", role: .reporter, at: 1_763_800_000_000)
        var random = BenchRandom(seed: 5)
        let device = try DeviceID("bench-device")
        var index = 0
        while index < records {
            let end = min(index + 1000, records)
            try store.writer.write { db in
                for number in index..<end {
                    var state = RecordState(type: .case, id: RecordID.make(milliseconds: 1_763_800_000_000 + Int64(number), using: &random))
                    try state.apply(CaseFixture.fields(index: number), stamp: Stamp(device: device, counter: number + 1, time: 1_763_800_000_000))
                    try ReplicaStore.save(state, seq: number + 1, in: db)
                }
            }
            index = end
        }

        let (daemon, port) = try startDaemon(casesyncd, data: node.path)
        defer { kill(daemon.processIdentifier, SIGTERM); daemon.waitUntilExit() }
        // Encrypted as `casesync init` makes it, and unlocked for the sitting by init.
        _ = try SyncBenchmark.run(casesync, ["--data", reporter, "init", "--device-name", "reports"]
            + Encryption.on.initArguments(passphraseFile: try Encryption.passphraseFile(in: root)))
        defer { _ = try? SyncBenchmark.run(casesync, ["--data", reporter, "lock"]) }
        let token = try SyncBenchmark.run(casesyncd, ["enroll", "rita", "--data", node.path]).split(separator: "\n").last.map(String.init) ?? ""
        _ = try SyncBenchmark.run(casesync, ["--data", reporter, "enroll", "--server", "http://127.0.0.1:\(port)", "--token", token])

        let pid = daemon.processIdentifier
        let before = Self.residentKB(pid)
        let sampler = RSSSampler(pid: pid)
        sampler.start()
        let out = root.appendingPathComponent("export.\(exportFormat)").path
        let start = ContinuousClock.now
        var arguments = ["--data", reporter, "export", "--format", exportFormat, "--out", out]
        if exportFormat == "csv" { arguments += ["--type", "case"] }
        _ = try SyncBenchmark.run(casesync, arguments)
        let seconds = (ContinuousClock.now - start).seconds
        let peak = sampler.stop()
        let bytes = (try? FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        // Newline bytes: CSV lines end in CRLF, which Swift counts as one Character.
        let lines = try Data(contentsOf: URL(fileURLWithPath: out)).reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        let expected = exportFormat == "csv" ? records + 1 : records
        guard lines == expected else { throw ValidationError("export held \(lines) lines, expected \(expected)") }

        print("records: \(records) exported as \(exportFormat), \(bytes / 1_000_000) MB in \(format(seconds)) s")
        print("daemon resident memory: \(before / 1024) MB before, peak \(peak / 1024) MB during the export (sampled every 20 ms)")
        print(#"{"bench":"export","records":\#(records),"format":"\#(exportFormat)","export_s":\#(format(seconds)),"bytes":\#(bytes),"daemon_rss_before_mb":\#(before / 1024),"daemon_rss_peak_mb":\#(peak / 1024)}"#)
    }

    static func residentKB(_ pid: Int32) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        return status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
    }
}

/// Samples a process's resident memory on a background thread.
/// `@unchecked Sendable`: `peak` and `running` are only touched under `lock`.
final class RSSSampler: @unchecked Sendable {
    let pid: Int32
    private let lock = NSLock()
    private var peak = 0
    private var running = true

    init(pid: Int32) { self.pid = pid }

    func start() {
        Thread.detachNewThread { [self] in
            while true {
                let kb = ExportBenchmark.residentKB(pid)
                lock.lock()
                peak = max(peak, kb)
                let keepGoing = running
                lock.unlock()
                if !keepGoing { return }
                usleep(20_000)
            }
        }
    }

    func stop() -> Int {
        lock.lock()
        running = false
        let result = peak
        lock.unlock()
        return result
    }
}
