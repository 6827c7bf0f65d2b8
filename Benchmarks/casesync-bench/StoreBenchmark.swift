import ArgumentParser
import Foundation
import GRDB
import SyncModel
import SyncStore
#if canImport(Glibc)
import Glibc
#endif

/// `casesync-bench store`: the replica store's write path against bare SQLite, and listing.
///
/// 1. Creates N cases through `ReplicaStore.create` — dots, validation, canonical JSON,
///    indexed list columns, outbox — one transaction per 500 records (`store_rows_per_s`).
/// 2. Inserts the same (id, canonical JSON) rows into a fresh SQLite file with a prepared
///    statement, same batches, same WAL and `synchronous = FULL` (`sqlite_rows_per_s`).
/// 3. Times the release `casesync --json case list` over the store, three runs after both
///    writers closed: `list_s` is the median, `list_cold_s` the first; checks it prints
///    every case, after `casesync unlock` when the replica is encrypted (a mediator's sitting).
/// `--encryption off` measures a plain replica, for the cost of encryption in the same run
/// (`Benchmarks/alternate-encryption.sh`).
struct StoreBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store", abstract: "Store write rate against bare SQLite, and `case list` time.")

    @Option(help: "Number of case records.") var records = 100_000
    @Option(help: "Records per transaction.") var batch = 500
    @Option(help: "Seed for ids and values.") var seed: UInt64 = 7
    @Option(help: "Keep the stores in this (new) folder instead of a temporary one.") var keep: String?
    @Option(help: "Encrypt the replica at rest (on, the default of casesync init) or not (off).") var encryption = Encryption.on

    func run() throws {
        let directory = keep.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("casesync-bench-store-\(UUID().uuidString)")
        defer { if keep == nil { try? FileManager.default.removeItem(at: directory) } }
        let (storeSeconds, bareSeconds) = try writeBoth(in: directory)
        // The writers are closed (WAL checkpointed) and their pages flushed before `case list`
        // runs, as when a mediator lists cases later; the list is timed, not the write-back.
        sync()

        let binary = try builtBinary("casesync")
        let replica = directory.appendingPathComponent("replica").path
        if encryption == .on {
            _ = try SyncBenchmark.run(binary, ["--data", replica, "unlock", "--passphrase-file", try Encryption.passphraseFile(in: directory)])
        }
        defer { if encryption == .on { _ = try? SyncBenchmark.run(binary, ["--data", replica, "lock"]) } }
        // Three runs: the first is cold (first open after the writer closed); the median is reported.
        var listTimes: [Double] = []
        var output: [UInt8] = []
        for _ in 0..<3 {
            var seconds = 0.0
            output = try Self.capture(binary, ["--data", replica, "--json", "case", "list"], seconds: &seconds)
            listTimes.append(seconds)
        }
        let listSeconds = median(listTimes)
        let listed = Self.count(Array("\"id\":\"".utf8), in: output)
        guard listed == records else { throw ValidationError("case list printed \(listed) cases, expected \(records)") }

        let storeRate = Double(records) / storeSeconds
        let bareRate = Double(records) / bareSeconds
        print("records: \(records) in transactions of \(batch), encryption \(encryption.rawValue)")
        print("store write path: \(format(storeSeconds)) s, \(Int(storeRate)) records/s")
        print("bare SQLite insert of the same rows: \(format(bareSeconds)) s, \(Int(bareRate)) rows/s")
        print("ratio: \(format(storeRate / bareRate)) (target >= 0.33); casesync case list --json: median \(format(listSeconds)) s (target < 0.5), runs \(listTimes.map(format).joined(separator: ", ")), \(output.count / 1_000_000) MB")
        print(#"{"bench":"store","encryption":"\#(encryption.rawValue)","records":\#(records),"store_rows_per_s":\#(Int(storeRate)),"sqlite_rows_per_s":\#(Int(bareRate)),"ratio":\#(format(storeRate / bareRate)),"list_s":\#(format(listSeconds)),"list_cold_s":\#(format(listTimes[0]))}"#)
    }

    /// Writes through the store, then the same rows into bare SQLite; both databases are
    /// closed when this returns.
    func writeBoth(in directory: URL) throws -> (store: Double, bare: Double) {
        var store = try ReplicaStore.open(directory: directory.appendingPathComponent("replica"))
        try store.initialize(device: try DeviceID("bench-device"), name: "bench", at: 1_763_800_000_000)
        if encryption == .on { store = try store.encrypt(passphrase: Encryption.passphrase) }
        let storeStart = ContinuousClock.now
        try createCases(records, in: store, seed: seed, batch: batch)
        let storeSeconds = (ContinuousClock.now - storeStart).seconds
        // The same rows, read back so both sides insert identical bytes.
        let rows: [(String, Data)] = try store.writer.read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT id, state FROM record").map { ($0[0], $0[1]) }
        }
        let bareSeconds = try bareSQLiteInsert(rows, path: directory.appendingPathComponent("bare.sqlite").path, batch: batch)
        return (storeSeconds, bareSeconds)
    }

    static func count(_ needle: [UInt8], in haystack: [UInt8]) -> Int {
        guard haystack.count >= needle.count else { return 0 }
        var found = 0
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == needle[0] && Array(haystack[index..<(index + needle.count)]) == needle {
                found += 1
                index += needle.count
            } else {
                index += 1
            }
        }
        return found
    }

    /// Runs `binary` with its stdout going to a file (so a slow reader cannot pace it) and
    /// returns what it printed.
    static func capture(_ binary: URL, _ arguments: [String], seconds: inout Double) throws -> [UInt8] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("casesync-bench-out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else { throw ValidationError("cannot create \(file.path)") }
        let output = try FileHandle(forWritingTo: file)
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.standardOutput = output
        let start = ContinuousClock.now
        try process.run()
        process.waitUntilExit()
        seconds = (ContinuousClock.now - start).seconds
        try output.close()
        guard process.terminationStatus == 0 else { throw ValidationError("casesync exited \(process.terminationStatus)") }
        return try [UInt8](Data(contentsOf: file))
    }
}

