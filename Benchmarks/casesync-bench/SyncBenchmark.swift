import ArgumentParser
import Foundation
import GRDB
import Logging
import NIOCore
import PostgresNIO
import PostgresNodeStore
import SyncModel
import SyncStore
#if canImport(Glibc)
import Glibc
#endif

/// `casesync-bench sync`: the release `casesyncd` and `casesync` binaries on loopback.
///
/// 1. Device A (a supervisor) holds N new cases (made through the store's write path) and
///    runs `casesync sync`: its push phase gives `push_records_per_s`.
/// 2. A bare insert of the same rows into the same database in the same run, one INSERT a
///    row and 500 to a transaction: `bare_rows_per_s` (SQLite: a fresh file beside the
///    node's; PostgreSQL, `--store postgres`: a schema of its own in the node's database,
///    and beside it the multi-row insert of 500 a statement, `bare_batch_rows_per_s`).
/// 3. A new device B runs its first `casesync sync`: `first_sync_s`, end to end.
/// 4. `casesync sync` on B with nothing to do, 20 times: `idle_sync_ms` is the median.
/// The daemon's peak resident memory (`VmHWM`) is read at the end: `daemon_peak_rss_mb`.
/// `--role mediator` makes the user a mediator of every case (their own cases, as a
/// mediator's devices push them); `--per-case 10` gives each case nine records of its own.
/// Both devices are encrypted at rest and unlocked for the sitting, as `casesync init` leaves
/// them; `--encryption off` makes them plain, for the cost of encryption in the same run.
struct SyncBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "sync", abstract: "Push, first sync and idle sync through the real binaries.")

    @Option(help: "Number of case records.") var records = 100_000
    @Option(help: "Seed for ids and values.") var seed: UInt64 = 11
    @Option(help: "Keep the data folders in this (new) folder; the node keeps running only for the run.") var keep: String?
    @Option(help: "Encrypt the device replicas at rest (on, the default of casesync init) or not (off).") var encryption = Encryption.on
    @Option(help: "The role of the user whose devices sync: supervisor (sees every case) or mediator (sees their own cases).") var role = BenchRole.supervisor
    @Option(help: "Records to a case: the case, then its parties, notes and actions (1: cases only).") var perCase = 1
    @Option(name: .customLong("store"), help: "Where the node keeps its data: sqlite (a data folder) or postgres (--database).") var storeKind = BenchStore.sqlite
    @Option(help: ArgumentHelp("The PostgreSQL database for --store postgres (default: $CASESYNC_BENCH_DATABASE_URL); the node and the bare insert each get a schema of their own there, dropped after the run.", valueName: "url"))
    var database: String?

    func validate() throws {
        if storeKind == .postgres, databaseURL == nil {
            throw ValidationError("--store postgres needs --database postgres://USER@HOST/DB (or CASESYNC_BENCH_DATABASE_URL); scripts/postgres-cluster.sh starts a throw-away one")
        }
    }

    var databaseURL: String? {
        database ?? ProcessInfo.processInfo.environment["CASESYNC_BENCH_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    func run() async throws {
        let casesync = try builtBinary("casesync")
        let casesyncd = try builtBinary("casesyncd")
        let root = keep.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("casesync-bench-sync-\(UUID().uuidString)")
        defer { if keep == nil { try? FileManager.default.removeItem(at: root) } }
        let node = root.appendingPathComponent("node").path
        let deviceA = root.appendingPathComponent("a").path
        let deviceB = root.appendingPathComponent("b").path

        // The node's store and the bare insert's: a folder and a file, or two schemas.
        let tag = UUID().uuidString.prefix(8).lowercased()
        let schemas = ["bench_node_\(tag)", "bench_bare_\(tag)"]
        let nodeStore: [String]
        if storeKind == .postgres, let base = databaseURL {
            nodeStore = ["--database", withSchema(base, schemas[0])]
        } else {
            nodeStore = ["--data", node]
        }
        defer { if storeKind == .postgres, keep == nil, let base = databaseURL { try? dropSchemas(schemas, url: base) } }
        _ = try Self.run(casesyncd, ["user", "add", "bench", "--role", role.rawValue] + nodeStore)
        let (daemon, port) = try startDaemon(casesyncd, store: nodeStore)
        defer { kill(daemon.processIdentifier, SIGTERM); daemon.waitUntilExit() }
        let server = "http://127.0.0.1:\(port)"
        let passphraseFile = try Encryption.passphraseFile(in: root)
        defer {
            if encryption == .on { for device in [deviceA, deviceB] { _ = try? Self.run(casesync, ["--data", device, "lock"]) } }
        }
        for device in [deviceA, deviceB] {
            _ = try Self.run(casesync, ["--data", device, "init", "--device-name", URL(fileURLWithPath: device).lastPathComponent] + encryption.initArguments(passphraseFile: passphraseFile))
            let token = try Self.run(casesyncd, ["enroll", "bench"] + nodeStore).split(separator: "\n").last.map(String.init) ?? ""
            _ = try Self.run(casesync, ["--data", device, "enroll", "--server", server, "--token", token])
        }

        // Device A's cases, written through the store as `casesync case new` would.
        let store = try encryption.open(URL(fileURLWithPath: deviceA))
        try createRecords(records, perCase: perCase, in: store, seed: seed,
                          mediator: role == .mediator ? "bench" : nil, restrictedMediator: role == .supervisor ? "bench" : nil)
        let rows: [(String, Data)] = try await store.writer.read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT id, state FROM record").map { ($0[0], $0[1]) }
        }

        let pushed = try Self.json(Self.run(casesync, ["--data", deviceA, "--json", "sync"]))
        guard pushed["pushed"] as? Int == records else { throw ValidationError("device A pushed \(pushed["pushed"] ?? "?")") }
        let pushSeconds = Double(pushed["pushMilliseconds"] as? Int ?? 0) / 1000
        let bareSeconds: Double
        // On PostgreSQL also the fastest way to insert the rows (multi-row), reported beside.
        var batchSeconds: Double?
        if storeKind == .postgres, let base = databaseURL {
            bareSeconds = try await barePostgresInsert(rows, url: withSchema(base, schemas[1]), schema: schemas[1], method: .perRow)
            batchSeconds = try await barePostgresInsert(rows, url: withSchema(base, schemas[1]), schema: schemas[1], method: .batch)
        } else {
            bareSeconds = try bareSQLiteInsert(rows, path: root.appendingPathComponent("bare.sqlite").path)
        }

        let firstStart = ContinuousClock.now
        let first = try Self.json(Self.run(casesync, ["--data", deviceB, "--json", "sync"]))
        let firstSeconds = (ContinuousClock.now - firstStart).seconds
        guard first["pulled"] as? Int == records else { throw ValidationError("device B pulled \(first["pulled"] ?? "?")") }

        // Timed around a bare posix_spawn + waitpid (output to a file), so the figure is
        // casesync's own wall time, not Foundation.Process's set-up and pipe handling.
        var idle: [Double] = []
        let answerFile = root.appendingPathComponent("idle.json").path
        for _ in 0..<20 {
            let idleStart = ContinuousClock.now
            try Self.spawn(casesync, ["--data", deviceB, "--json", "sync"], stdout: answerFile)
            idle.append((ContinuousClock.now - idleStart).seconds * 1000)
            let answer = try Self.json(String(contentsOfFile: answerFile, encoding: .utf8))
            guard answer["pulled"] as? Int == 0, answer["pushed"] as? Int == 0 else { throw ValidationError("idle sync moved records") }
        }
        let status = (try? String(contentsOfFile: "/proc/\(daemon.processIdentifier)/status", encoding: .utf8)) ?? ""
        let peakKB = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }?.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0

        let pushRate = Double(records) / pushSeconds
        let bareRate = Double(records) / bareSeconds
        let idleMedian = median(idle)
        let storeName = storeKind == .postgres ? "PostgreSQL" : "SQLite"
        print("records: \(records) (\(perCase) a case), \(role.rawValue), \(storeName), encryption \(encryption.rawValue); push \(format(pushSeconds)) s (\(Int(pushRate))/s), bare \(storeName) \(format(bareSeconds)) s (\(Int(bareRate))/s), ratio \(format(pushRate / bareRate)) (target >= 0.33)")
        let batchRate = batchSeconds.map { Double(records) / $0 }
        if let batchRate { print("multi-row bare PostgreSQL insert \(Int(batchRate))/s: push ratio to it \(format(pushRate / batchRate))") }
        print("first sync of a new device: \(format(firstSeconds)) s (target < 10); daemon peak RSS \(peakKB / 1024) MB (target < 150); idle sync median \(format(idleMedian)) ms (target < 50)")
        print(#"{"bench":"sync","store":"\#(storeKind.rawValue)","role":"\#(role.rawValue)","per_case":\#(perCase),"encryption":"\#(encryption.rawValue)","records":\#(records),"push_records_per_s":\#(Int(pushRate)),"bare_rows_per_s":\#(Int(bareRate)),\#(batchRate.map { #""bare_batch_rows_per_s":\#(Int($0)),"push_ratio_batch":\#(format(pushRate / $0)),"# } ?? "")"push_ratio":\#(format(pushRate / bareRate)),"first_sync_s":\#(format(firstSeconds)),"daemon_peak_rss_mb":\#(peakKB / 1024),"idle_sync_ms":\#(format(idleMedian))}"#)
    }

    static func run(_ binary: URL, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let output = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("\(binary.lastPathComponent) \(arguments.prefix(3).joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Runs `binary` with stdout to `path` and waits; throws unless it exits 0.
    static func spawn(_ binary: URL, _ arguments: [String], stdout path: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let argv = ([binary.path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, binary.path, &actions, nil, argv, environ)
        guard spawned == 0 else { throw ValidationError("cannot start \(binary.path): error \(spawned)") }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        guard status == 0 else { throw ValidationError("\(binary.lastPathComponent) \(arguments.joined(separator: " ")) failed (wait status \(status))") }
    }

    static func json(_ text: String) throws -> [String: Any] {
        (try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]) ?? [:]
    }
}

/// Where the benchmark's node keeps its data.
enum BenchStore: String, ExpressibleByArgument, CaseIterable {
    case sqlite, postgres
}

/// The role of the benchmark's user: a supervisor pulls in change order, a mediator through
/// their delivery order.
enum BenchRole: String, ExpressibleByArgument, CaseIterable {
    case supervisor, mediator
}
