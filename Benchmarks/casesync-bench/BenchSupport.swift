import ArgumentParser
import Foundation
import GRDB
import SyncModel
import SyncStore

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double {
        let (whole, attoseconds) = components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}

/// Seconds with four decimals, for reports.
func format(_ seconds: Double) -> String {
    String((seconds * 10_000).rounded() / 10_000)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

/// Deterministic generator (SplitMix64) so runs are comparable.
struct BenchRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

/// The release executable `name` (`casesync`, `casesyncd`) built beside this benchmark;
/// throws, naming the build command, when it is not there.
func builtBinary(_ name: String) throws -> URL {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent(name)
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
        throw ValidationError("\(binary.path) not found: build it first (swift build -c release)")
    }
    return binary
}

/// Starts `casesyncd serve --port 0` on `data` and returns it with the port it printed.
func startDaemon(_ casesyncd: URL, data: String) throws -> (Process, Int) {
    try startDaemon(casesyncd, store: ["--data", data])
}

/// `casesyncd serve` on the store `store` names (`--data DIR` or `--database URL`).
func startDaemon(_ casesyncd: URL, store: [String]) throws -> (Process, Int) {
    let daemon = Process()
    daemon.executableURL = casesyncd
    daemon.arguments = ["serve"] + store + ["--port", "0"]
    let output = Pipe()
    daemon.standardOutput = output
    daemon.standardError = FileHandle.nullDevice
    try daemon.run()
    var seen = ""
    while true {
        let chunk = output.fileHandleForReading.availableData
        guard !chunk.isEmpty else { throw ValidationError("casesyncd exited: \(seen)") }
        seen += String(decoding: chunk, as: UTF8.self)
        if let line = seen.split(separator: "\n").first(where: { $0.contains("listening on http://") }),
           let text = line.split(separator: ":").dropFirst(2).first?.split(separator: " ").first, let port = Int(text) {
            return (daemon, port)
        }
    }
}

/// The limit the benchmarks compare against: the same (id, canonical JSON) rows inserted
/// into a fresh SQLite file with a prepared statement, 500 per transaction, WAL and
/// `synchronous = FULL`. Returns the seconds it took.
func bareSQLiteInsert(_ rows: [(String, Data)], path: String, batch: Int = 500) throws -> Double {
    let bare = try DatabasePool(path: path)
    // After the pool is open: GRDB sets its writer to NORMAL when it sets up WAL mode.
    try bare.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
    try bare.write { db in try db.execute(sql: "CREATE TABLE record (id TEXT PRIMARY KEY NOT NULL, state BLOB NOT NULL)") }
    let start = ContinuousClock.now
    var index = 0
    while index < rows.count {
        let end = min(index + batch, rows.count)
        try bare.write { db in
            let statement = try db.makeStatement(sql: "INSERT INTO record (id, state) VALUES (?, ?)")
            for row in rows[index..<end] { try statement.execute(arguments: [row.0, row.1]) }
        }
        index = end
    }
    return (ContinuousClock.now - start).seconds
}

/// Creates `count` cases through the store's own write path (`ReplicaStore.create`: dots,
/// validation, outbox), `batch` records per transaction. `restrictedMediator`, when given,
/// is added to the mediators of every restricted case (one in seven), so that a supervisor
/// of that name may hold every case (PROTOCOL.md §13).
func createCases(_ count: Int, in store: ReplicaStore, seed: UInt64, batch: Int = 500, restrictedMediator: String? = nil) throws {
    try createRecords(count, perCase: 1, in: store, seed: seed, batch: batch, restrictedMediator: restrictedMediator)
}

/// `count` records as a device makes them, `perCase` to a case: each case then its parties,
/// notes and actions, ids in creation order (time-ordered, as `casesync` makes them). With
/// `mediator`, that user is among every case's mediators (a mediator's own cases); with
/// `restrictedMediator`, among the restricted ones' only (so that a supervisor may hold them).
func createRecords(_ count: Int, perCase: Int, in store: ReplicaStore, seed: UInt64, batch: Int = 500,
                   mediator: String? = nil, restrictedMediator: String? = nil) throws {
    var random = BenchRandom(seed: seed)
    let perCase = max(1, perCase)
    var caseID: RecordID?
    var caseIndex = -1
    let items: [(type: RecordType, id: RecordID, changes: [FieldChange])] = try (0..<count).map { index in
        let id = RecordID.make(milliseconds: 1_763_800_000_000 + Int64(index), using: &random)
        let position = index % perCase
        if position == 0 {
            caseIndex += 1
            caseID = id
            var fields = CaseFixture.fields(index: caseIndex)
            if let mediator { fields.append(.add("mediators", mediator)) }
            if let restrictedMediator, CaseFixture.isRestricted(index: caseIndex) { fields.append(.add("mediators", restrictedMediator)) }
            return (.case, id, fields)
        }
        guard let caseID else { throw ValidationError("no case for record \(index)") }
        let link = FieldChange.set("case", .text(caseID.rawValue))
        switch position % 3 {
        case 1: return (.party, id, [link, .set("role", .text("family")), .set("name", .text("Party \(index)")), .set("consentToMediate", .boolean(true))])
        case 2: return (.note, id, [link, .set("visibility", .text("shared")), .set("text", .text("Session summary \(index): both parties attended and agreed next steps."))])
        default: return (.action, id, [link, .set("text", .text("Review the discharge checklist (\(index))")), .set("due", .text("2027-01-\(CaseFixture.twoDigits(1 + index % 28))"))])
        }
    }
    try store.create(items, at: 1_763_800_000_000, transactionSize: batch)
}

/// Whether a benchmark's device replicas are encrypted at rest (the default, as
/// `casesync init` makes them) or plain (`init --no-encryption`), so that the cost of
/// encryption is measured against the plain build in the same run.
enum Encryption: String, ExpressibleByArgument, CaseIterable {
    case on, off

    /// The passphrase every benchmark replica is encrypted under.
    static let passphrase = "benchmark passphrase"

    /// Writes `passphrase` into a file in `folder` (mode 0600) and returns its path, for
    /// `CASESYNC_PASSPHRASE_FILE` and `--passphrase-file`.
    static func passphraseFile(in folder: URL) throws -> String {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let path = folder.appendingPathComponent("passphrase").path
        guard FileManager.default.createFile(atPath: path, contents: Data((passphrase + "\n").utf8), attributes: [.posixPermissions: 0o600]) else {
            throw ValidationError("cannot write \(path)")
        }
        return path
    }

    /// The `casesync init` arguments that make a replica this way.
    func initArguments(passphraseFile: String) -> [String] {
        self == .on ? ["--passphrase-file", passphraseFile] : ["--no-encryption"]
    }

    /// Opens the replica in `directory` as `casesync` would, unlocking it when encrypted.
    func open(_ directory: URL) throws -> ReplicaStore {
        try ReplicaStore.open(directory: directory) { lock in try lock.open(passphrase: Self.passphrase) }
    }
}
