import ArgumentParser
import Foundation
import SyncClient
import SyncModel
import SyncProtocol
import SyncStore

/// `casesync access request CASE --reason TEXT [--for DURATION]`: a supervisor's break-glass
/// access (PROTOCOL.md §13.5).
struct AccessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "access",
        abstract: "Break-glass access to a restricted case or a case's mediator-only notes (supervisors).",
        subcommands: [Request.self])

    struct Request: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Ask the node for time-bounded access to a case, giving the reason.",
            discussion: """
                For a supervisor who must see a restricted case or a case's mediator-only notes (duty of care, a safeguarding \
                concern). Needs the node. The grant is written to the node's audit log with the reason, and the case's mediators \
                see it in `casesync case show`. Run `casesync sync` to receive the case; when the grant ends, the next sync \
                removes what it gave this device. Another's caucus notes stay theirs.
                """)

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The case: its id, reference or short id.") var caseText: String
        @Option(help: "Why you must see the case (audited, and shown to its mediators): say why, not what; no names.") var reason: String
        @Option(name: .customLong("for"), help: "How long the access lasts, e.g. 4h or 2d (at most 7d).") var duration = "24h"

        func validate() throws {
            guard DurationText.seconds(duration, upTo: AccessGrant.longest / 1000) != nil else {
                throw ValidationError("--for must look like 30m, 4h or 2d, at most 7d")
            }
            let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= AccessGrant.reasonLimit else {
                throw ValidationError("--reason must say why in 1-\(AccessGrant.reasonLimit) characters")
            }
        }

        func run() async throws {
            let invocation = try Invocation(options)
            let (client, _) = try invocation.enrolledClient()
            // The node knows the case by its id or reference; this device may know it by a
            // short id, from the case or, for a restricted case, from its metadata.
            let held = try? invocation.store.resolve(caseText, type: .case)
            let caseID = try held ?? invocation.store.metadataCase(named: caseText)
            let grant = try await client.requestAccess(to: caseID?.rawValue ?? caseText, reason: reason, seconds: DurationText.seconds(duration, upTo: AccessGrant.longest / 1000))
            let reference = try Self.reference(of: grant.caseID, in: invocation.store) ?? caseText
            invocation.emit(json: AccessView.json(grant),
                            human: "Break-glass access to case \(reference) granted until \(WallClock.human(grant.until)). It is audited, and the case's mediators see it. Run `casesync sync` to receive the case.")
        }

        static func reference(of caseID: RecordID, in store: ReplicaStore) throws -> String? {
            try store.record(caseID)?.text("reference") ?? store.caseMetadata(caseID)?.values["reference"]
        }
    }
}

/// How break-glass grants are shown.
enum AccessView {
    static func json(_ grant: AccessGrant) -> JSONOutput {
        .sortedObject([("case", .string(grant.caseID.rawValue)), ("granted", .string(WallClock.iso(grant.granted))), ("reason", .string(grant.reason)),
                       ("until", .string(WallClock.iso(grant.until))), ("user", .string(grant.user))])
    }
}
