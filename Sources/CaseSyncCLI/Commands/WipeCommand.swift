import ArgumentParser
import Foundation
import SyncClient

/// `casesync wipe`: erase every case record from this device on purpose (a laptop handed
/// on, or a mediator leaving), with the same secure deletion as a drop (PROTOCOL.md §13.1).
/// The device stays enrolled; its next sync pulls from the start whatever it may hold.
struct WipeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wipe",
        abstract: "Erase every case record from this device, leaving no trace in its data folder.",
        discussion: "Asks for confirmation on a terminal (--yes for scripts). Refused while changes are queued, unless --discard-queued: sync first. The device stays enrolled; a later sync pulls again what it may hold.")

    @OptionGroup var options: GlobalOptions
    @Flag(help: "Do not ask for confirmation.") var yes = false
    @Flag(help: "Erase even changes not yet pushed to the node (they are lost).") var discardQueued = false

    func run() throws {
        let invocation = try Invocation(options, leaseFree: true)
        let counts = try invocation.store.counts()
        if counts.pending > 0 && !discardQueued {
            throw CLIError(.usage, "\(counts.pending) change\(counts.pending == 1 ? " is" : "s are") queued and would be lost: run `casesync sync` first, or add --discard-queued")
        }
        if !yes {
            guard isatty(STDIN_FILENO) == 1 else { throw CLIError(.usage, "wipe erases \(counts.records) records; add --yes to confirm when not on a terminal") }
            let records = "\(counts.records) record\(counts.records == 1 ? "" : "s")", cases = "\(counts.cases) case\(counts.cases == 1 ? "" : "s")"
            FileHandle.standardError.write(Data("Erase \(records) (\(cases)) from this device? Type erase to confirm: ".utf8))
            guard readLine()?.trimmingCharacters(in: .whitespaces) == "erase" else { throw CLIError(.usage, "not confirmed; nothing was erased") }
        }
        let erased = try SyncEngine.eraseCaseData(of: invocation.store, undeliveredIn: options.directory)
        invocation.emit(json: .sortedObject([("erased", .integer(erased))]),
                        human: "Erased \(erased) record\(erased == 1 ? "" : "s") from this device; it stays enrolled (`casesync sync` pulls again what it may hold).")
    }
}
