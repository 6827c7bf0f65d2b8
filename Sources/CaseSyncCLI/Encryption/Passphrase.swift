import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where a passphrase comes from: a file (`--passphrase-file F`, `CASESYNC_PASSPHRASE_FILE`)
/// for scripts and CI, or the terminal, typed without echo.
enum Passphrase {
    /// The variable scripts set to the path of a file holding the passphrase.
    static let fileVariable = "CASESYNC_PASSPHRASE_FILE"

    /// The file `option` names, else the one `CASESYNC_PASSPHRASE_FILE` names, else nil.
    static func file(option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if let option { return option }
        if let path = environment[fileVariable], !path.isEmpty { return path }
        return nil
    }

    /// The passphrase a file holds: its first line, without the line end.
    /// - Throws: a usage error naming the file when it cannot be read or is empty.
    static func read(file path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CLIError(.usage, "cannot read the passphrase file \(path); check the path and its permissions")
        }
        let text = String(decoding: data, as: UTF8.self)
        let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        let passphrase = line.hasSuffix("\r") ? String(line.dropLast()) : line
        guard !passphrase.isEmpty else {
            throw CLIError(.usage, "the passphrase file \(path) is empty; put the passphrase on its first line")
        }
        return passphrase
    }

    /// Whether a person is at a terminal to type a passphrase.
    static var canPrompt: Bool { isatty(STDIN_FILENO) == 1 }

    /// Asks on the terminal, echo off; nil when there is no terminal.
    static func prompt(_ text: String) -> String? {
        guard canPrompt else { return nil }
        FileHandle.standardError.write(Data(text.utf8))
        var saved = termios()
        let hasTerminal = tcgetattr(STDIN_FILENO, &saved) == 0
        if hasTerminal {
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet)
        }
        defer {
            if hasTerminal { _ = tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved) }
            FileHandle.standardError.write(Data("\n".utf8))
        }
        return readLine(strippingNewline: true)
    }

    /// A new passphrase: from `file` when given, else typed twice on the terminal.
    /// - Throws: a usage error when neither is possible or the two typings differ.
    static func new(file: String?, what: String = "a passphrase for this replica") throws -> String {
        if let file { return try read(file: file) }
        guard let first = prompt("Choose \(what) (at least \(8) characters): ") else {
            throw CLIError(.usage, "no terminal to ask for \(what); give --passphrase-file FILE or set \(fileVariable)")
        }
        guard let second = prompt("Type it again: "), second == first else {
            throw CLIError(.usage, "the two passphrases differ; run the command again")
        }
        return first
    }
}
