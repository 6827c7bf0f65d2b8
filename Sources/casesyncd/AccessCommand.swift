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
        @Flag(help: "Print a JSON array of {case, from, reason, state, supervisor, until}.") var json = false

        func run() async throws {
            let store = try await options.openNode(existing: true).store
            let now = Timestamp.now()
            _ = try await store.endExpiredGrants(at: now)
            let grants = try await store.accessGrants()
            if json {
                try ListOutput.print(grants.map { grant in
                    ["case": grant.caseID.rawValue, "supervisor": grant.user, "from": Timestamp.text(grant.granted), "until": Timestamp.text(grant.until),
                     "state": grant.ended ? "ended" : "open", "reason": grant.reason]
                })
                return
            }
            print("CASE\tSUPERVISOR\tFROM\tUNTIL\tSTATE\tREASON")
            for grant in grants {
                let state = grant.ended ? "ended" : "open"
                print("\(grant.caseID)\t\(grant.user)\t\(Timestamp.text(grant.granted))\t\(Timestamp.text(grant.until))\t\(state)\t\(ListOutput.cell(grant.reason))")
            }
        }
    }
}
