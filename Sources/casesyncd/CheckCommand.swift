import ArgumentParser
import Foundation
import SyncStore

struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "check", abstract: "Check the database's integrity; exits 10 if it is damaged.")
    @OptionGroup var options: DataOptions

    func run() throws {
        try options.requireDataFolder(for: "check", instead: "PostgreSQL checks its own pages (see `amcheck`)")
        // Opening would create an empty database, which checks ok: a missing one is an error.
        guard FileManager.default.fileExists(atPath: options.directory.appendingPathComponent("replica.sqlite").path) else {
            throw DaemonError(status: .notFound, message: "\(options.directory.path) holds no node database; give the node's folder with --data (or restore one with `casesyncd restore`)")
        }
        let findings = try SQLiteNodeStore.open(directory: options.directory).integrityCheck()
        guard findings == ["ok"] else { throw DaemonError(status: .internalError, message: "integrity check failed: " + findings.prefix(5).joined(separator: "; ")) }
        print("ok")
    }
}
