import ArgumentParser
import Foundation
import SyncModel
import SyncProtocol

/// `casesync`: offline case work for mediators, and (later) sync and reports.
public struct CaseSyncCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "casesync",
        abstract: "Record mediation cases offline and keep them in step with the sync node.",
        discussion: "Exit codes: 0 ok, 1 usage or validation error, 2 not found, 3 server unreachable, 4 not authorised, 5 refused by the server, 10 internal error.",
        version: "casesync \(ProductVersion.current)",
        subcommands: [
            InitCommand.self, CaseCommand.self, PartyCommand.self, SessionCommand.self, NoteCommand.self,
            ActionCommand.self, DueCommand.self, FeedbackCommand.self, RestoreCommand.self, EnrollCommand.self, SyncCommand.self, ExportCommand.self, ReportCommand.self, StatusCommand.self, ConflictsCommand.self, ResolveCommand.self,
            WipeCommand.self, AccessCommand.self, UnlockCommand.self, LockCommand.self, PassphraseCommand.self, EncryptCommand.self,
        ]
    )

    /// `--data` and `--json` may come before the subcommand too (`casesync --json case list`):
    /// ArgumentParser gives every command in the chain that declares them the same values.
    @OptionGroup var options: GlobalOptions

    public init() {}

    /// Parses `arguments`, runs the command, and returns the exit status. Help goes to stdout
    /// with status 0; every error is one line on stderr, mapped to DESIGN.md's exit codes.
    public static func main(arguments: [String]) async -> Int32 {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                return ExitStatus.success.rawValue
            }
            if let cliError = error as? CLIError { return report(cliError) }
            return report(CLIError(.usage, message(for: error) + " (see `casesync --help`)"))
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return ExitStatus.success.rawValue
        } catch {
            if let exit = error as? ExitCode { return exit.rawValue }
            // `help`, `--help` and a bare group name surface here, from ArgumentParser's own
            // help command or a group's default run: they print help and succeed.
            if !(error is CLIError), exitCode(for: error) == .success {
                print(fullMessage(for: error))
                return ExitStatus.success.rawValue
            }
            return report(CLIError.from(error))
        }
    }

    private static func report(_ error: CLIError) -> Int32 {
        let line = error.message.replacingOccurrences(of: "\n", with: " ")
        FileHandle.standardError.write(Data("casesync: \(line)\n".utf8))
        return error.status.rawValue
    }
}
