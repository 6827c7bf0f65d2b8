import ArgumentParser
import Foundation
import NodeStorage
import SyncModel
import SyncProtocol

/// `casesyncd retention --closed-before DATE [--dry-run]`: purges every case closed before a
/// date, as a retention schedule asks (PROTOCOL.md §13.4).
struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention",
        abstract: "Purge every case closed before a date (its `closed` date; status closed).",
        discussion: "--dry-run lists them and purges nothing. Each purge is as `casesyncd purge` does it, with the reason \"retention: closed before DATE\". Asks for confirmation on a terminal; --yes for scripts.")

    @OptionGroup var options: DataOptions
    @Option(help: ArgumentHelp("Purge cases closed before this day.", valueName: "YYYY-MM-DD")) var closedBefore: String
    @Flag(help: "List what would be purged; change nothing.") var dryRun = false
    @Flag(help: "Do not ask for confirmation.") var yes = false

    func validate() throws {
        guard CivilDate.days(closedBefore) != nil else {
            throw ValidationError("--closed-before must be a day, YYYY-MM-DD (for example 2020-01-01)")
        }
    }

    func run() async throws {
        let node = try await options.openNode(existing: true)
        let cases = try await node.store.casesClosed(before: closedBefore)
        for closed in cases {
            print("\(closed.caseID)\t\(closed.reference ?? "")\tclosed \(closed.closed)")
        }
        guard !dryRun else {
            print("\(cases.count) case\(cases.count == 1 ? "" : "s") closed before \(closedBefore) would be purged (dry run: nothing changed).")
            return
        }
        guard !cases.isEmpty else {
            print("No case closed before \(closedBefore).")
            return
        }
        if !yes {
            try Confirmation.require("Purge these \(cases.count) cases for good? Type purge to confirm:", answer: "purge",
                                     notOnTerminal: "retention purges \(cases.count) cases for good; add --yes to confirm when not on a terminal (or --dry-run to list them)")
        }
        var (purged, records) = (0, 0)
        for closed in cases {
            do {
                records += try await node.store.purgeCase(closed.caseID.rawValue, reason: "retention: closed before \(closedBefore)", at: Timestamp.now(), closedBefore: closedBefore).records
                purged += 1
            } catch let error as NodeError where error.code == .refused {
                print("Skipped \(closed.reference ?? closed.caseID.rawValue): it was reopened or changed since it was listed.")
            }
        }
        print("Purged \(purged) case\(purged == 1 ? "" : "s") closed before \(closedBefore) (\(records) records); devices drop them at their next sync.")
    }
}
