import ArgumentParser
import SyncModel
import SyncStore

/// `casesync feedback add|set|delete`: what a party said of the mediation (the report's
/// feedback section counts the ratings).
struct FeedbackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "feedback", abstract: "Record the parties' feedback on a mediation.", subcommands: [Add.self, Set.self, Delete.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record feedback on a case: a rating from 1 to 5, optionally a party and comments.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The case: its id, reference or short id.") var `case`: String
        @Option(help: "1 (poor) to 5 (excellent).") var rating: Int
        @Option(help: "The party who gave it: its id or short id (a party of this case).") var party: String?
        @Option(help: "What they said (confidential: never exported).") var comments: String?
        @Option(help: ArgumentHelp("When it was given (default: today).", valueName: "YYYY-MM-DD")) var submitted: String?

        func validate() throws {
            guard (1...5).contains(rating) else { throw ValidationError("--rating must be from 1 to 5") }
        }

        func run() throws {
            let invocation = try Invocation(options)
            var changes: [FieldChange] = [.set("rating", .integer(rating)), .set("submitted", .text(submitted ?? invocation.clock.today))]
            if let party {
                let caseID = try invocation.liveCase(`case`).id
                let partyID = try invocation.store.resolve(party, type: .party)
                guard let partyState = try invocation.store.record(partyID), partyState.type == .party, partyState.caseID == caseID, !partyState.isDeleted else {
                    throw CLIError(.usage, "party \(party) is not a party of case \(`case`); `casesync case show \(`case`)` lists its parties")
                }
                changes.append(.set("party", .text(partyID.rawValue)))
            }
            if let comments { changes.append(.set("comments", .text(comments))) }
            try invocation.add(.feedback, toCase: `case`, changes, noun: "feedback")
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change feedback: rating=4, comments=…")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The feedback: its id or short id.") var id: String
        @Argument(help: "FIELD=VALUE pairs.") var assignments: [String] = []

        func run() throws {
            try Invocation(options).set(id, type: .feedback, assignments)
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete feedback (a change that syncs; `casesync restore ID` undoes it).")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The feedback: its id or short id.") var id: String

        func run() throws {
            try Invocation(options).delete(id, type: .feedback)
        }
    }
}
