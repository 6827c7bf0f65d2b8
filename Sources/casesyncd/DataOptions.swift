import ArgumentParser
import Foundation
import SyncServer
import SyncStore

/// `--data DIR`: the node's data folder.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The node's data folder (default: $CASESYNCD_DATA or ./data).", valueName: "dir"))
    var data: String?

    var directory: URL {
        if let data { return URL(fileURLWithPath: data) }
        if let env = ProcessInfo.processInfo.environment["CASESYNCD_DATA"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return URL(fileURLWithPath: "data")
    }

    /// Opens the node's store for an administration command. The command holds the data
    /// folder's admin lock shared while it runs, so a restore (which holds it exclusive) never
    /// swaps the database under a revocation that would then be lost.
    /// With `existing`, a folder that holds no node database is refused (exit 2) instead of
    /// given a new, empty one: listing or changing what is not there is a mistyped `--data`.
    func openNode(existing: Bool = false) async throws -> SyncNode {
        if existing, !FileManager.default.fileExists(atPath: directory.appendingPathComponent("replica.sqlite").path) {
            throw DaemonError(status: .notFound, message: "\(directory.path) holds no node database; give the node's folder with --data (or CASESYNCD_DATA)")
        }
        try ReplicaStore.makeDataFolder(directory)
        // Never released: held until the command's process ends.
        _ = try DataFolderLock(directory, file: "admin.lock", shared: true, purpose: "an administration command")
        return try await SyncNode(store: SQLiteNodeStore.open(directory: directory))
    }
}
