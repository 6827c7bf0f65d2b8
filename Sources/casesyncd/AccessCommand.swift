import ArgumentParser
import Foundation
import NodeStorage

/// `casesyncd access list`: every break-glass grant, for review (PROTOCOL.md §13.5).
struct AccessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "access", abstract: "Review break-glass access to cases.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List every break-glass grant: case, supervisor, from, until, state and reason.",
            discussion: "Supervisors ask with `casesync access request CASE --reason TEXT`; each grant is also in the audit log (`break-glass`, `access-ended`). Grants whose time is up are ended first, so the state shown is current.")
        @OptionGroup var options: DataOptions

        func run() async throws {
            let store = try await options.openNode(existing: true).store
            let now = Timestamp.now()
            _ = try await store.endExpiredGrants(at: now)
            print("CASE\tSUPERVISOR\tFROM\tUNTIL\tSTATE\tREASON")
            for grant in try await store.accessGrants() {
                let state = grant.ended ? "ended" : "open"
                print("\(grant.caseID)\t\(grant.user)\t\(Timestamp.text(grant.granted))\t\(Timestamp.text(grant.until))\t\(state)\t\(grant.reason.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " "))")
            }
        }
    }
}
