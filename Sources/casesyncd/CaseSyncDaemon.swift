import ArgumentParser
import Foundation
import SyncModel
import SyncProtocol

/// `casesyncd`: the central sync node and its administration.
@main
struct CaseSyncDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "casesyncd",
        abstract: "The CaseSync sync node: merges what devices push, serves what they may pull.",
        discussion: "Exit codes: 0 ok, 1 usage or validation error, 2 not found, 4 not authorised, 10 internal error (also a damaged backup or a broken audit chain).",
        version: "casesyncd \(ProductVersion.current)",
        subcommands: [ServeCommand.self, UserCommand.self, EnrollCommand.self, DeviceCommand.self, AccessCommand.self, SiteCommand.self, PurgeCommand.self, RetentionCommand.self, BackupCommand.self, RestoreCommand.self, MigrateCommand.self, KeygenCommand.self, AuditCommand.self, CheckCommand.self]
    )

    /// Parses, runs, and maps errors to DESIGN.md's exit codes with one line on stderr.
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            fail(.usage, message(for: error) + " (see `casesyncd --help`)")
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error where !(error is any UserFacingError) && exitCode(for: error) == .success {
            // `help`, `--help` and a bare group name: ArgumentParser's help command or a
            // group's default run asks for help, which is a success.
            print(fullMessage(for: error))
            Foundation.exit(0)
        } catch let error as ValidationError {
            fail(.usage, error.message)
        } catch {
            // Every library error declares its exit status (`UserFacingError`), as for `casesync`.
            fail(ExitStatus(for: error), (error as? any UserFacingError)?.message ?? "internal error: \(type(of: error))")
        }
    }

    static func fail(_ status: ExitStatus, _ message: String) -> Never {
        FileHandle.standardError.write(Data("casesyncd: \(message)\n".utf8))
        Foundation.exit(status.rawValue)
    }
}

/// An error of a `casesyncd` command itself (a file it cannot use, a lock it cannot take).
struct DaemonError: Error, UserFacingError {
    let exitStatus: ExitStatus
    let message: String

    init(status: ExitStatus, message: String) {
        exitStatus = status
        self.message = message
    }
}
