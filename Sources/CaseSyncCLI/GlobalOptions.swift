import ArgumentParser
import Foundation
import SyncStore

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The replica's data folder (default: $CASESYNC_HOME or ~/.casesync).", valueName: "dir"))
    var data: String?

    @Flag(name: .long, help: "Print exactly one JSON value on stdout, for scripts.")
    var json = false

    /// The data folder to use.
    var directory: URL {
        if let data { return URL(fileURLWithPath: data) }
        if let home = ProcessInfo.processInfo.environment["CASESYNC_HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".casesync")
    }

    /// Opens the store, unlocking an encrypted replica (`ReplicaUnlocker`); refuses a folder
    /// that was never initialised (without creating files).
    func openStore(creating: Bool = false) throws -> ReplicaStore {
        let directory = creating ? directory : try existingDirectory()
        return try ReplicaStore.open(directory: directory, unlock: ReplicaUnlocker().unlock)
    }

    /// The data folder, if it holds a replica.
    func existingDirectory() throws -> URL {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("replica.sqlite").path) else {
            throw CLIError(.usage, "no replica in \(directory.path); run `casesync init` (or pass --data DIR)")
        }
        return directory
    }
}
