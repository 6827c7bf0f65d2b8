import ArgumentParser
import Foundation
import Logging
import PostgresNodeStore
import SyncServer
import SyncStore

/// `--data DIR` (the node's data folder, SQLite) or `--database URL` (PostgreSQL): where the
/// node's storage is.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The node's data folder (default: $CASESYNCD_DATA or ./data).", valueName: "dir"))
    var data: String?

    @Option(help: ArgumentHelp("Keep the node in PostgreSQL instead of the data folder: postgres://USER@HOST[:PORT]/DB (default: $CASESYNCD_DATABASE_URL).",
                               valueName: "url"))
    var database: String?

    var directory: URL {
        if let data { return URL(fileURLWithPath: data) }
        if let env = ProcessInfo.processInfo.environment["CASESYNCD_DATA"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return URL(fileURLWithPath: "data")
    }

    /// The PostgreSQL database the node is kept in, when one is named (`--database`, else
    /// `CASESYNCD_DATABASE_URL` unless `--data` is given); nil for the data folder.
    var databaseURL: String? {
        if let database { return database }
        // `--data` on the command line names the folder, whatever the environment says.
        guard data == nil else { return nil }
        if let env = ProcessInfo.processInfo.environment["CASESYNCD_DATABASE_URL"], !env.isEmpty { return env }
        return nil
    }

    /// Refuses a command that only works on the data folder when a database URL is named
    /// (exit 1), saying what to use instead.
    func requireDataFolder(for command: String, instead: String) throws {
        guard databaseURL != nil else { return }
        throw DaemonError(status: .usage, message: "`casesyncd \(command)` works on a SQLite data folder; for a node in PostgreSQL \(instead)")
    }

    /// Opens the node's store for an administration command. On the data folder the command
    /// holds its admin lock shared while it runs, so a restore (which holds it exclusive) never
    /// swaps the database under a revocation that would then be lost.
    /// With `existing`, a folder that holds no node database is refused (exit 2) instead of
    /// given a new, empty one: listing or changing what is not there is a mistyped `--data`.
    func openNode(existing: Bool = false) async throws -> SyncNode {
        if let url = databaseURL {
            let (store, _) = try await PostgresStoreRunner.open(url: url, logger: PostgresStoreRunner.commandLogger)
            return try await SyncNode(store: store)
        }
        if existing, !FileManager.default.fileExists(atPath: directory.appendingPathComponent("replica.sqlite").path) {
            throw DaemonError(status: .notFound, message: "\(directory.path) holds no node database; give the node's folder with --data (or CASESYNCD_DATA)")
        }
        try ReplicaStore.makeDataFolder(directory)
        // Never released: held until the command's process ends.
        _ = try DataFolderLock(directory, file: "admin.lock", shared: true, purpose: "an administration command")
        return try await SyncNode(store: SQLiteNodeStore.open(directory: directory))
    }
}

/// Opens a PostgreSQL store for a command: its connection pool runs in the task returned
/// (cancel it to close the pool; an administration command leaves it to the process's end),
/// and the schema is brought up to date.
enum PostgresStoreRunner {
    /// An administration command reports a failure in its one line: the pool's notes of
    /// each reconnection attempt stay out of its output.
    static var commandLogger: Logger {
        var logger = Logger(label: "casesyncd")
        logger.logLevel = .error
        return logger
    }

    static func open(url: String, logger: Logger, serving: Bool = false) async throws -> (PostgresNodeStore, Task<Void, Never>) {
        let store = try PostgresNodeStore(url: url, logger: logger, serving: serving)
        let pool = Task { await store.run() }
        do {
            try await store.prepare()
        } catch {
            pool.cancel()
            throw error
        }
        return (store, pool)
    }
}
