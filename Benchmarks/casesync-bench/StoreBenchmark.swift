import ArgumentParser
import Foundation
import GRDB
import SyncModel
import SyncStore

/// `casesync-bench store`: the replica store's write path against bare SQLite, and listing.
///
/// 1. Creates N cases through `ReplicaStore.create` — dots, validation, canonical JSON,
///    indexed list columns, outbox — one transaction per 500 records (`store_rows_per_s`).
/// 2. Inserts the same (id, canonical JSON) rows into a fresh SQLite file with a prepared
///    statement, same batches, same WAL and `synchronous = FULL` (`sqlite_rows_per_s`).
/// 3. Times the release `casesync --json case list` over the store (`list_s`), checking it
///    prints every case.
struct StoreBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "store", abstract: "Store write rate against bare SQLite, and `case list` time.")

    @Option(help: "Number of case records.") var records = 100_000
    @Option(help: "Records per transaction.") var batch = 500
    @Option(help: "Seed for ids and values.") var seed: UInt64 = 7
    @Option(help: "Keep the stores in this (new) folder instead of a temporary one.") var keep: String?

    func run() throws {
        let directory = keep.map { URL(fileURLWithPath: $0) } ?? FileManager.default.temporaryDirectory.appendingPathComponent("casesync-bench-store-\(UUID().uuidString)")
        defer { if keep == nil { try? FileManager.default.removeItem(at: directory) } }
        let store = try ReplicaStore.open(directory: directory.appendingPathComponent("replica"))
        try store.initialize(device: try DeviceID("bench-device"), name: "bench", at: 1_763_800_000_000)

        var random = BenchRandom(seed: seed)
        let items: [(type: RecordType, id: RecordID, changes: [FieldChange])] = (0..<records).map { index in
            (.case, RecordID.make(milliseconds: 1_763_800_000_000 + Int64(index), using: &random), CaseFixture.fields(index: index))
        }

        let storeStart = ContinuousClock.now
        var start = 0
        while start < items.count {
            let end = min(start + batch, items.count)
            try store.create(Array(items[start..<end]), at: 1_763_800_000_000)
            start = end
        }
        let storeSeconds = (ContinuousClock.now - storeStart).seconds

        // The same rows, read back so both sides insert identical bytes.
        let rows: [(String, Data)] = try store.writer.read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT id, state FROM record").map { ($0[0], $0[1]) }
        }
        let bare = try DatabasePool(path: directory.appendingPathComponent("bare.sqlite").path, configuration: {
            var configuration = Configuration()
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            return configuration
        }())
        try bare.write { db in try db.execute(sql: "CREATE TABLE record (id TEXT PRIMARY KEY NOT NULL, state BLOB NOT NULL)") }
        let bareStart = ContinuousClock.now
        start = 0
        while start < rows.count {
            let end = min(start + batch, rows.count)
            try bare.write { db in
                let statement = try db.makeStatement(sql: "INSERT INTO record (id, state) VALUES (?, ?)")
                for row in rows[start..<end] { try statement.execute(arguments: [row.0, row.1]) }
            }
            start = end
        }
        let bareSeconds = (ContinuousClock.now - bareStart).seconds

        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("casesync")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw ValidationError("\(binary.path) not found: build it first (swift build -c release)")
        }
        let listStart = ContinuousClock.now
        let output = try Self.capture(binary, ["--data", directory.appendingPathComponent("replica").path, "--json", "case", "list"])
        let listSeconds = (ContinuousClock.now - listStart).seconds
        let listed = Self.count(Array("\"id\":\"".utf8), in: output)
        guard listed == records else { throw ValidationError("case list printed \(listed) cases, expected \(records)") }

        let storeRate = Double(records) / storeSeconds
        let bareRate = Double(records) / bareSeconds
        print("records: \(records) in transactions of \(batch)")
        print("store write path: \(format(storeSeconds)) s, \(Int(storeRate)) records/s")
        print("bare SQLite insert of the same rows: \(format(bareSeconds)) s, \(Int(bareRate)) rows/s")
        print("ratio: \(format(storeRate / bareRate)) (target >= 0.33); casesync case list --json: \(format(listSeconds)) s (target < 0.5), \(output.count / 1_000_000) MB")
        print(#"{"bench":"store","records":\#(records),"store_rows_per_s":\#(Int(storeRate)),"sqlite_rows_per_s":\#(Int(bareRate)),"ratio":\#(format(storeRate / bareRate)),"list_s":\#(format(listSeconds))}"#)
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

    static func capture(_ binary: URL, _ arguments: [String]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw ValidationError("casesync exited \(process.terminationStatus)") }
        return [UInt8](data)
    }
}

