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

    /// Opens the store; refuses a folder that was never initialised (without creating files).
    func openStore(creating: Bool = false) throws -> ReplicaStore {
        let file = directory.appendingPathComponent("replica.sqlite").path
        if !creating && !FileManager.default.fileExists(atPath: file) {
            throw CLIError(.usage, "no replica in \(directory.path); run `casesync init` (or pass --data DIR)")
        }
        return try ReplicaStore.open(directory: directory)
    }
}
