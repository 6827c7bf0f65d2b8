import Foundation

/// The confirmation an administration command that cannot be undone asks for (`purge`,
/// `retention`): typed on a terminal, or `--yes` given in scripts.
enum Confirmation {
    /// Asks `question` on a terminal and returns if the answer is `answer`; throws (exit 1)
    /// when not confirmed, or when stdin is not a terminal (saying `notOnTerminal`).
    static func require(_ question: String, answer: String, notOnTerminal: String) throws {
        guard isatty(STDIN_FILENO) == 1 else { throw DaemonError(status: .usage, message: notOnTerminal) }
        FileHandle.standardError.write(Data("\(question) ".utf8))
        guard readLine()?.trimmingCharacters(in: .whitespaces) == answer else {
            throw DaemonError(status: .usage, message: "not confirmed; nothing was purged")
        }
    }
}
