import ArgumentParser
import Foundation
import SyncStore

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "backup", abstract: "Copy the node's database to FILE, consistently, while it serves (SQLite online backup).")
    @OptionGroup var options: DataOptions
    @Option(help: "The backup file to write (must not exist).") var to: String

    func run() throws {
        guard !FileManager.default.fileExists(atPath: to) else { throw ValidationError("\(to) exists; choose a new file") }
        // Opening would create an empty database, and back that up: a missing one is an error.
        guard FileManager.default.fileExists(atPath: options.directory.appendingPathComponent("replica.sqlite").path) else {
            throw DaemonError(status: .notFound, message: "\(options.directory.path) holds no node database to back up; give the node's folder with --data")
        }
        try SQLiteNodeStore.open(directory: options.directory).backup(to: to, at: Timestamp.now())
        print("Backed up \(options.directory.path) to \(to) (readable by this user only). Restore it with: casesyncd restore --from \(to) --data \(options.directory.path)")
    }
}
