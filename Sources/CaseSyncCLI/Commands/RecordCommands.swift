import ArgumentParser
import SyncModel
import SyncStore

/// `casesync party add`.
struct PartyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "party", abstract: "Record the parties of a case.", subcommands: [Add.self, Set.self, Delete.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a party to a case.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The case: its id, reference or short id.") var `case`: String
        @Option(help: "patient, family, clinician, practitioner, institution, representative or other.") var role: String
        @Option(help: "The party's name (confidential: never exported).") var name: String
        @Option(help: "How to reach them (confidential).") var contact: String?
        @Option(help: "Their organisation.") var organization: String?
        @Option(help: "Consent to mediate: yes or no.") var consentToMediate: String?
        @Option(help: "Consent to share information: yes or no.") var consentToShare: String?

        func run() throws {
            let invocation = try Invocation(options)
            var changes: [FieldChange] = [.set("role", .text(role)), .set("name", .text(name))]
            if let contact { changes.append(.set("contact", .text(contact))) }
            if let organization { changes.append(.set("organization", .text(organization))) }
            let schema = RecordSchema.for(.party)
            if let consentToMediate {
                changes.append(.set("consentToMediate", try FieldAssignment.typedValue(consentToMediate, spec: try schema.spec("consentToMediate"))))
            }
            if let consentToShare {
                changes.append(.set("consentToShare", try FieldAssignment.typedValue(consentToShare, spec: try schema.spec("consentToShare"))))
            }
            try invocation.add(.party, toCase: `case`, changes, noun: "party")
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a party: contact=…, consentToShare=false, …")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The party: its id or short id.") var id: String
        @Argument(help: "FIELD=VALUE pairs.") var assignments: [String] = []

        func run() throws {
            try Invocation(options).set(id, type: .party, assignments)
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a party (a change that syncs; `casesync restore ID` undoes it).")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The party: its id or short id.") var id: String

        func run() throws {
            try Invocation(options).delete(id, type: .party)
        }
    }
}

/// `casesync session add`.
struct SessionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "session", abstract: "Record mediation sessions.", subcommands: [Add.self, Set.self, Delete.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a session to a case.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The case: its id, reference or short id.") var `case`: String
        @Option(help: "When: 2026-11-22T14:00, 2026-11-22 14:00 (local) or RFC 3339.") var at: String
        @Option(help: "joint, caucus or private.") var kind: String?
        @Option(help: "Where it takes place.") var location: String?
        @Option(help: "What happened.") var summary: String?
        @Option(name: .customLong("attendee"), help: "Someone present; repeat for several.") var attendees: [String] = []

        func run() throws {
            let invocation = try Invocation(options)
            let spec = try RecordSchema.for(.session).spec("at")
            var changes: [FieldChange] = [.set("at", try FieldAssignment.typedValue(at, spec: spec))]
            if let kind { changes.append(.set("kind", .text(kind))) }
            if let location { changes.append(.set("location", .text(location))) }
            if let summary { changes.append(.set("summary", .text(summary))) }
            changes += attendees.map { .add("attendees", $0) }
            try invocation.add(.session, toCase: `case`, changes, noun: "session")
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a session: summary=…, attendees+=NAME, …")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The session: its id or short id.") var id: String
        @Argument(help: "FIELD=VALUE pairs.") var assignments: [String] = []

        func run() throws {
            try Invocation(options).set(id, type: .session, assignments)
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a session (a change that syncs; `casesync restore ID` undoes it).")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The session: its id or short id.") var id: String

        func run() throws {
            try Invocation(options).delete(id, type: .session)
        }
    }
}

/// `casesync note add`.
struct NoteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "note", abstract: "Keep notes on a case.", subcommands: [Add.self, Set.self, Delete.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a note to a case.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The case: its id, reference or short id.") var `case`: String
        @Option(help: "The note (confidential: never exported).") var text: String
        @Option(help: "shared, mediator or caucus.") var visibility: String?
        @Option(help: "The session it belongs to (its id or short id).") var session: String?
        @Option(help: "Who wrote it (default: this device's name).") var author: String?

        func run() throws {
            let invocation = try Invocation(options)
            var changes: [FieldChange] = [.set("text", .text(text)), .set("author", .text(author ?? invocation.replica.name))]
            if let visibility { changes.append(.set("visibility", .text(visibility))) }
            if let session {
                let sessionID = try invocation.store.resolve(session, type: .session)
                changes.append(.set("session", .text(sessionID.rawValue)))
            }
            try invocation.add(.note, toCase: `case`, changes, noun: "note")
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change a note: visibility=caucus, text=…")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The note: its id or short id.") var id: String
        @Argument(help: "FIELD=VALUE pairs.") var assignments: [String] = []

        func run() throws {
            try Invocation(options).set(id, type: .note, assignments)
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a note (a change that syncs; `casesync restore ID` undoes it).")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The note: its id or short id.") var id: String

        func run() throws {
            try Invocation(options).delete(id, type: .note)
        }
    }
}

/// `casesync action …`: agreed remediation steps, SMART (owner, due, measure, status), and
/// their follow-up (reviews, completion, escalation to a replacement action).
struct ActionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "action", abstract: "Record agreed remediation actions and follow them up.",
        subcommands: [Add.self, List.self, Review.self, Escalate.self, Set.self, Delete.self])

    struct Add: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add an agreed action to a case (status open).")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The case: its id, reference or short id.") var `case`: String
        @Option(help: "What will be done.") var text: String
        @Option(help: "Who is responsible.") var owner: String?
        @Option(help: "By when, YYYY-MM-DD.") var due: String?
        @Option(help: "How success will be measured.") var measure: String?

        func run() throws {
            let invocation = try Invocation(options)
            var changes: [FieldChange] = [.set("text", .text(text)), .set("status", .text("open"))]
            if let owner { changes.append(.set("owner", .text(owner))) }
            if let due { changes.append(.set("due", .text(due))) }
            if let measure { changes.append(.set("measure", .text(measure))) }
            try invocation.add(.action, toCase: `case`, changes, noun: "action")
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Change an action: status=met, reviewed=2026-12-01, due=…")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The action: its id or short id.") var id: String
        @Argument(help: "FIELD=VALUE pairs.") var assignments: [String] = []

        func run() throws {
            let invocation = try Invocation(options)
            let changes = try FieldAssignment.parse(assignments, type: .action)
            // `status=met reviewed=D`: the action was met on the review's day.
            var reviewDay = invocation.clock.today
            if case let .set(_, .text(day))? = changes.last(where: { $0.field == "reviewed" }) { reviewDay = day }
            let day = reviewDay
            let state = try invocation.update(id, type: .action) { current in
                ActionFollowUp.withCompletion(changes, currentStatus: current.text("status"), completed: current.text("completed"), today: day)
            }
            let view = RecordView(state: state)
            invocation.emit(json: view.json, human: "Updated action \(view.shortID): \(view.plain("status")).")
        }
    }

    struct Review: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Record a review of an action: its status on the day, with an optional note.",
            discussion: "Each review is kept in the action's history (`casesync case show`); met also records the completion day.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The action: its id or short id.") var id: String
        @Option(help: "open, in-progress, met, missed or waived.") var status: String
        @Option(help: "What the review found (kept with the action; never exported).") var note: String?
        @Option(help: "The day of the review, YYYY-MM-DD (default: today).") var date: String?

        func validate() throws {
            guard ["open", "in-progress", "met", "missed", "waived"].contains(status) else {
                throw ValidationError("--status \(status) is not open, in-progress, met, missed or waived (escalate with `casesync action escalate`)")
            }
        }

        func run() throws {
            let invocation = try Invocation(options)
            let day = date ?? invocation.clock.today
            let changes: [FieldChange] = [
                .set("status", .text(status)), .set("reviewed", .text(day)),
                .add("reviews", ActionFollowUp.reviewEntry(date: day, status: status, note: note)),
            ]
            let state = try invocation.update(id, type: .action) { current in
                ActionFollowUp.withCompletion(changes, currentStatus: current.text("status"), completed: current.text("completed"), today: day)
            }
            let view = RecordView(state: state)
            invocation.emit(json: view.json, human: "Reviewed action \(view.shortID) on \(day): \(status).")
        }
    }

    struct Escalate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a missed action escalated and record the action agreed in its place.",
            discussion: "The old action gets status escalated and a link (replacedBy) to the new one, which starts open.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The action: its id or short id.") var id: String
        @Option(help: "What will now be done.") var text: String
        @Option(help: "Who is responsible (default: the old action's owner).") var owner: String?
        @Option(help: "By when, YYYY-MM-DD.") var due: String?
        @Option(help: "How success will be measured (default: the old action's measure).") var measure: String?
        @Option(help: "Why it was escalated (kept in the old action's history; never exported).") var note: String?

        func run() throws {
            let invocation = try Invocation(options)
            let oldID = try invocation.store.resolve(id, type: .action)
            guard let old = try invocation.store.record(oldID), !old.isDeleted, let caseID = old.caseID else {
                throw CLIError(.notFound, "action \(id) is deleted; `casesync restore \(id)` brings it back")
            }
            let status = old.text("status") ?? "open"
            guard ActionFollowUp.unfinished.contains(status) || status == "missed" else {
                throw CLIError(.usage, "action \(id) is \(status); only an open, in-progress or missed action is escalated")
            }
            var changes: [FieldChange] = [.set("case", .text(caseID.rawValue)), .set("text", .text(text)), .set("status", .text("open"))]
            if let owner = owner ?? old.text("owner") { changes.append(.set("owner", .text(owner))) }
            if let due { changes.append(.set("due", .text(due))) }
            if let measure = measure ?? old.text("measure") { changes.append(.set("measure", .text(measure))) }
            var generator = SystemRandomNumberGenerator()
            let newID = RecordID.make(milliseconds: invocation.clock.milliseconds, using: &generator)
            // The replacement first: a failure between the two writes leaves a new open action,
            // never an escalated one whose link points nowhere.
            let replacement = try invocation.store.write(newID, type: .action, creating: true, at: invocation.clock.milliseconds) { state, stamp in
                try state.apply(changes, stamp: stamp)
            }
            let today = invocation.clock.today
            let escalated = try invocation.update(id, type: .action) { _ in
                [.set("status", .text("escalated")), .set("reviewed", .text(today)), .set("replacedBy", .text(newID.rawValue)),
                 .add("reviews", ActionFollowUp.reviewEntry(date: today, status: "escalated", note: note ?? "replaced by \(RecordView.shortID(newID))"))]
            }
            invocation.emit(json: .sortedObject([("escalated", RecordView(state: escalated).json), ("replacement", RecordView(state: replacement).json)]),
                            human: "Escalated action \(RecordView.shortID(oldID)); its replacement is action \(RecordView.shortID(newID)) (open).")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an action (a change that syncs; `casesync restore ID` undoes it).")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The action: its id or short id.") var id: String

        func run() throws {
            try Invocation(options).delete(id, type: .action)
        }
    }
}
