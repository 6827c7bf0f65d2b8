import CSQLiteConfig
import Foundation
import GRDB
import SyncModel

/// The SQLite store of a device's replica (a mediator's laptop; the sync node has its own,
/// `SQLiteNodeStore`, sharing the record table's code).
///
/// It holds every record's full state (canonical JSON) with the columns lists and access
/// checks need, the device's write counter, and an outbox of records changed since they were
/// last pushed. Every local write commits the new state, the advanced counter and the outbox
/// entry in one transaction, so an acknowledged write survives a crash (WAL,
/// `synchronous = FULL`) and is never lost from the outbox.
public struct ReplicaStore: Sendable {
    /// The database: a `DatabasePool` on disk, a `DatabaseQueue` in tests. Package-wide so
    /// tests and benchmarks can inspect it; apps go through the store's methods.
    package let writer: any DatabaseWriter

    /// Seals what can hold case content (`.plain` in a replica made without encryption).
    package let sealer: RecordSealer

    /// Opens (creating if needed) the store in `directory`, as `replica.sqlite`. An encrypted
    /// replica asks `unlock` for its data key, given the replica's lock (from the keyring, or
    /// `ReplicaLock.open(passphrase:)`); without `unlock` it throws `locked`.
    public static func open(directory: URL, unlock: ((ReplicaLock) throws -> DataKey)? = nil) throws -> ReplicaStore {
        try makeDataFolder(directory)
        return try open(path: directory.appendingPathComponent("replica.sqlite").path, unlock: unlock)
    }

    /// Creates the data folder `directory` (and its parents), readable by its owner only.
    /// Throws `StoreError` (`unusable`) naming the folder when it cannot be made.
    public static func makeDataFolder(_ directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StoreError(.unusable, "cannot create the data folder \(directory.path); check that its parent folder exists and is writable, or use another folder")
        }
    }

    /// Opens (creating if needed) the store at `path`; `unlock` as for `open(directory:unlock:)`.
    public static func open(path: String, unlock: ((ReplicaLock) throws -> DataKey)? = nil) throws -> ReplicaStore {
        let plain = try ReplicaStore(writer: openPool(path: path, configuration: deviceConfiguration()), sealer: .plain)
        return try plain.unlocked(with: unlock)
    }

    /// A pool on the database at `path` whose writer syncs every commit. (GRDB sets a pool's
    /// writer to `synchronous = NORMAL` when it sets up WAL mode, after `prepareDatabase`
    /// ran: the setting is made again once the pool is open.)
    /// SQLite's own errors on opening (a file that is not a database, one that cannot be
    /// opened or written) become `StoreError`s that name the file: no SQLite text reaches a user.
    static func openPool(path: String, configuration: Configuration) throws -> DatabasePool {
        do {
            let pool = try DatabasePool(path: path, configuration: configuration)
            try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
            return pool
        } catch let error as DatabaseError {
            switch error.resultCode {
            case .SQLITE_NOTADB, .SQLITE_CORRUPT:
                throw StoreError(.notADatabase, "\(path) is not a CaseSync database (damaged, or another file); move it aside and restore the folder from a backup")
            case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_READONLY, .SQLITE_AUTH:
                throw StoreError(.unusable, "cannot open \(path) for writing; check the file's and its folder's owner and permissions")
            default:
                throw error
            }
        }
    }

    /// A store in memory, for tests.
    public static func inMemory() throws -> ReplicaStore {
        try ReplicaStore(writer: DatabaseQueue(configuration: deviceConfiguration()), sealer: .plain)
    }

    /// Wraps `writer` and brings its schema up to date.
    init(writer: any DatabaseWriter, sealer: RecordSealer) throws {
        self.writer = writer
        self.sealer = sealer
        try ReplicaStore.migrator.migrate(writer)
    }

    /// The same database, sealing under `sealer` (schema already migrated).
    init(sharing store: ReplicaStore, sealer: RecordSealer) {
        writer = store.writer
        self.sealer = sealer
    }

    /// SQLite's process-wide settings, made once before the process opens its first
    /// database: memory statistics off (`csqlite_disable_memory_statistics`; a node's push
    /// spent a sixth of its insert time on the mutex they take).
    private static let processSettings: Void = {
        _ = csqlite_disable_memory_statistics()
    }()

    static func configuration() -> Configuration {
        _ = processSettings
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // Durable on commit: an acknowledged write survives power loss, not only a crash.
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // Deleted and overwritten content is zeroed, whatever the SQLite build's default:
            // a record the device must drop leaves nothing behind (see `eraseFreedSpace`).
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // Room for a whole push batch's pages (2,000 records of ~1.3 KB plus indexes):
            // with SQLite's default 2 MB, a large transaction spills dirty pages to the WAL
            // before it commits and writes them twice.
            try db.execute(sql: "PRAGMA cache_size = -16384")
        }
        return configuration
    }

    /// A device's configuration: the shared one, and sorts and VACUUM's copy kept in memory,
    /// so no temporary file ever holds a page of the replica (a device's sorts are small;
    /// the node, which sorts whole scopes, keeps SQLite's default).
    static func deviceConfiguration() -> Configuration {
        var configuration = configuration()
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA temp_store = MEMORY") }
        return configuration
    }

    /// Runs SQLite's integrity check; returns its findings ("ok" when sound).
    public func integrityCheck() throws -> [String] {
        try writer.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
    }
}
