import Foundation
import GRDB
import SyncModel

/// The SQLite store of one replica — a mediator's device or the sync node.
///
/// It holds every record's full state (canonical JSON) with the columns lists and access
/// checks need, the device's write counter, and an outbox of records changed since they were
/// last pushed. Every local write commits the new state, the advanced counter and the outbox
/// entry in one transaction, so an acknowledged write survives a crash (WAL,
/// `synchronous = FULL`) and is never lost from the outbox.
public struct ReplicaStore: Sendable {
    /// The database: a `DatabasePool` on disk, a `DatabaseQueue` in tests.
    public let writer: any DatabaseWriter
    /// Set when the store was opened to checkpoint in the background (a long-running sync
    /// node): writers should `request()` a checkpoint after they commit.
    public let checkpointer: WALCheckpointer?
    /// Group-committed audit entries (pulls, exports), see `AuditQueue`.
    public let audits: AuditQueue

    /// Opens (creating if needed) the store in `directory`, as `replica.sqlite`.
    /// `checkpointInBackground` suits a long-running process with many writes (the sync
    /// node): see `WALCheckpointer`.
    public static func open(directory: URL, checkpointInBackground: Bool = false) throws -> ReplicaStore {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return try open(path: directory.appendingPathComponent("replica.sqlite").path, checkpointInBackground: checkpointInBackground)
    }

    /// Opens (creating if needed) the store at `path`.
    public static func open(path: String, checkpointInBackground: Bool = false) throws -> ReplicaStore {
        var configuration = configuration()
        if checkpointInBackground {
            // The writer checkpoints only if the background checkpointer falls far behind.
            configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 65536") }
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        return try ReplicaStore(writer: pool, checkpointer: checkpointInBackground ? WALCheckpointer(path: path) : nil)
    }

    /// A store in memory, for tests.
    public static func inMemory() throws -> ReplicaStore {
        try ReplicaStore(writer: DatabaseQueue(configuration: configuration()))
    }

    /// Wraps `writer` and brings its schema up to date.
    public init(writer: any DatabaseWriter, checkpointer: WALCheckpointer? = nil) throws {
        self.writer = writer
        self.checkpointer = checkpointer
        audits = AuditQueue(writer: writer)
        try ReplicaStore.migrator.migrate(writer)
    }

    static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // Durable on commit: an acknowledged write survives power loss, not only a crash.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Room for a whole push batch's pages (2,000 records of ~1.3 KB plus indexes):
            // with SQLite's default 2 MB, a large transaction spills dirty pages to the WAL
            // before it commits and writes them twice.
            try db.execute(sql: "PRAGMA cache_size = -16384")
        }
        return configuration
    }

    /// For a sync node's store: drops the index that only a device's `case list` reads. It is
    /// the widest of the record table's indexes, and a node writes every record of every
    /// device. (Idempotent; a device never calls it.)
    public func dropDeviceListIndex() throws {
        try writer.write { try $0.execute(sql: "DROP INDEX IF EXISTS record_case_list") }
    }

    /// Runs SQLite's integrity check; returns its findings ("ok" when sound).
    public func integrityCheck() throws -> [String] {
        try writer.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }
}
