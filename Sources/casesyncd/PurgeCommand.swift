import ArgumentParser
import Foundation
import NodeStorage

/// `casesyncd purge CASE --reason TEXT`: disposal of one case, for good (PROTOCOL.md §13.4).
struct PurgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Remove a case and all its records from the node and, at their next sync, from every device.",
        discussion: "Cannot be undone: the node keeps only a marker (ids, time, reason), and refuses the case from any device that still holds it. Backups taken before keep it until they are rotated (see Deploy/OPERATIONS.md). Asks for the case's reference on a terminal; --yes for scripts.")

    @OptionGroup var options: DataOptions
    @Argument(help: "The case's id or reference.") var `case`: String
    @Option(help: "Why, for the audit log and the purge marker (no case content).") var reason: String
    @Flag(help: "Do not ask for confirmation.") var yes = false

    func validate() throws {
        guard !reason.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("--reason must say why the case is purged") }
    }

    func run() async throws {
        let node = try await options.openNode(existing: true)
        if !yes {
            try Confirmation.require("Purge case \(`case`) and every record of it, for good? Type the case's id or reference again to confirm:", answer: `case`,
                                     notOnTerminal: "purge cannot be undone; add --yes to confirm when not on a terminal")
        }
        let purge = try await node.store.purgeCase(`case`, reason: reason, at: Timestamp.now(), closedBefore: nil)
        print("Purged \(purge.reference ?? purge.caseID.rawValue) (\(purge.caseID)): \(purge.records) record\(purge.records == 1 ? "" : "s"); the devices of \(purge.usersTold) user\(purge.usersTold == 1 ? "" : "s") drop it at their next sync.")
    }
}
