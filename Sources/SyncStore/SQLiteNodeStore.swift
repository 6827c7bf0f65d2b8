import Foundation
import GRDB
import NodeStorage
import SyncModel
import SyncProtocol

/// The sync node's storage in SQLite, the embedded default: one database file in the data
/// folder (`replica.sqlite`, WAL, durable on commit) holding the records with their change
/// sequence, the node's own device identity, users, devices, enrollment tokens, case access
/// and the audit log. Its schema has a migrator of its own (`SQLiteNodeStore.migrator`); the
/// database is reached only through this type.
///
/// Pushes and audit entries are group-committed (`GroupCommitter`): two hundred devices
/// pushing at once cost a few transactions and disk syncs, not two hundred.
public struct SQLiteNodeStore: NodeStore {
    /// The database: a `DatabasePool` on disk, a `DatabaseQueue` in tests. Package-wide so
    /// tests and benchmarks can set up states directly; the server never sees it.
    package let writer: any DatabaseWriter
    /// Set when opened to checkpoint in the background (a long-running node): requested
    /// after every push.
    let checkpointer: WALCheckpointer?
    let audits: AuditQueue
    let pushes: GroupCommitter<SQLitePushJob, PushOutcome>
    /// New change sequence numbers start above it: after a restore, the highest one the
    /// replaced database had given, so no cursor a device holds can pass over a new change.
    let sequenceFloor: Int

    /// Opens (creating if needed) the node's database in `directory`, as `replica.sqlite`.
    /// `checkpointInBackground` suits the serving node: see `WALCheckpointer`.
    public static func open(directory: URL, checkpointInBackground: Bool = false) throws -> SQLiteNodeStore {
        try ReplicaStore.makeDataFolder(directory)
        return try open(path: directory.appendingPathComponent("replica.sqlite").path, checkpointInBackground: checkpointInBackground)
    }

    /// Opens (creating if needed) the node's database at `path`.
    public static func open(path: String, checkpointInBackground: Bool = false) throws -> SQLiteNodeStore {
        var configuration = ReplicaStore.configuration()
        if checkpointInBackground {
            // The writer checkpoints only if the background checkpointer falls far behind.
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 65536") }
        }
        let pool = try ReplicaStore.openPool(path: path, configuration: configuration)
        return try SQLiteNodeStore(writer: pool, checkpointer: checkpointInBackground ? WALCheckpointer(path: path) : nil)
    }

    /// A node's database in memory, for tests.
    public static func inMemory() throws -> SQLiteNodeStore {
        try SQLiteNodeStore(writer: DatabaseQueue(configuration: ReplicaStore.configuration()))
    }

    /// Wraps `writer`, brings its schema up to date and gives a new database the node's
    /// identity (a `node-…` device id and a generation id). An up-to-date database is only read.
    init(writer: any DatabaseWriter, checkpointer: WALCheckpointer? = nil) throws {
        try Self.migrator.migrate(writer)
        try Self.establishIdentity(in: writer)
        self.writer = writer
        self.checkpointer = checkpointer
        audits = AuditQueue(writer: writer)
        pushes = GroupCommitter(writer: writer, maxBatch: 32) { db, job in try Self.apply(job, in: db) }
        sequenceFloor = try writer.read { db in try ReplicaStore.plainSetting(NodeSetting.sequenceFloor, in: db).flatMap(Int.init) ?? 0 }
    }

    /// The node writes for itself too (adding a mediator to the case they create), so it is
    /// a replica with a device id of its own; devices notice a restored node by its generation.
    static func establishIdentity(in writer: any DatabaseWriter) throws {
        let complete = try writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM replica WHERE id = 1") == true
                && ReplicaStore.plainSetting(NodeSetting.generation, in: db) != nil
        }
        guard !complete else { return }
        try writer.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM replica WHERE id = 1") != true {
                var generator = SystemRandomNumberGenerator()
                let device = try DeviceID("node-" + DeviceID.random(using: &generator).rawValue)
                try db.execute(sql: "INSERT INTO replica (id, device, name, counter, created) VALUES (1, ?, 'sync node', 0, ?)",
                               arguments: [device.rawValue, Int64(Date().timeIntervalSince1970 * 1000)])
            }
            if try ReplicaStore.plainSetting(NodeSetting.generation, in: db) == nil {
                try ReplicaStore.setPlainSetting(NodeSetting.generation, Self.newGeneration(), in: db)
            }
        }
    }

    /// See `NodeStore.nodeState`: one read of the node's settings (and relay limits); the restore
    /// window is given only while it is open at `time`.
    public func nodeState(at time: Int64) async throws -> NodeState {
        try await writer.read { db in
            NodeState(generation: try ReplicaStore.plainSetting(NodeSetting.generation, in: db) ?? "",
                      restoreWindow: try Self.restoreWindow(at: time, in: db),
                      backupTaken: try ReplicaStore.plainSetting(NodeSetting.backupTaken, in: db).flatMap(Int64.init))
        }
    }

    /// The node's own replica identity (its `node-…` device id and write counter).
    public func identity() throws -> ReplicaInfo {
        try writer.read { db in try ReplicaStore.replica(in: db) }
    }

    /// The stored state of a record, read synchronously (tests and administration).
    public func record(_ id: RecordID) throws -> RecordState? {
        try writer.read { db in try ReplicaStore.load(id, in: db, sealer: .plain) }
    }

    /// How many records the node holds.
    public func recordCount() throws -> Int {
        try writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") ?? 0 }
    }

    /// Runs SQLite's integrity check; returns its findings ("ok" when sound).
    public func integrityCheck() throws -> [String] {
        try writer.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }

    /// Runs the background checkpoints a store opened with `checkpointInBackground` asks
    /// for after its pushes, until the task is cancelled (`casesyncd serve` runs it as a
    /// service beside the HTTP server). Returns at once for a store opened without.
    /// `failed` hears of each checkpoint that failed (the log then waits for the next one).
    public func runCheckpoints(failed: @escaping @Sendable (any Error) -> Void) async {
        await checkpointer?.run(failed: failed)
    }

    /// Asks for a background checkpoint now (tests; nothing for a store opened without).
    public func requestCheckpoint() {
        checkpointer?.request()
    }

    static func newGeneration() -> String {
        var generator = SystemRandomNumberGenerator()
        return DeviceID.random(using: &generator).rawValue
    }
}
