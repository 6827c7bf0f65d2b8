import ArgumentParser
import Foundation
import SyncModel
import SyncProtocol
import SyncStore

/// `casesync case …`: open, list, show, edit, move and delete cases.
struct CaseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case",
        abstract: "Open, list, show and change cases.",
        subcommands: [New.self, List.self, Show.self, Set.self, Status.self, Reopen.self, Delete.self]
    )

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open a case at intake.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "What the dispute is about, in a few words.") var title: String
        @Option(help: "clinical-dispute, malpractice, workplace-conduct, family-clinician or other.") var kind: String?
        @Option(help: "The hospital, clinic or ward.") var site: String?
        @Option(help: "standard or restricted.") var confidentiality: String?
        @Option(help: "The case reference (default: a new MED-YEAR-XXXX-XXXX).") var reference: String?
        @Option(help: "The day the case was opened, YYYY-MM-DD (default: today).") var opened: String?
        @Option(name: .customLong("mediator"), help: "A mediator's user name; repeat for several.") var mediators: [String] = []

        func run() throws {
            let invocation = try Invocation(options)
            var generator = SystemRandomNumberGenerator()
            let clock = invocation.clock
            var changes: [FieldChange] = [
                .set("title", .text(title)),
                .set("status", .text(WorkflowStage.intake.rawValue)),
                .set("opened", .text(opened ?? clock.today)),
                .set("stageEntered", .text(opened ?? clock.today)),
                .set("reference", .text(reference ?? CaseWorkflow.newReference(year: clock.year, using: &generator))),
            ]
            if let kind { changes.append(.set("kind", .text(kind))) }
            if let site { changes.append(.set("site", .text(site))) }
            if let confidentiality { changes.append(.set("confidentiality", .text(confidentiality))) }
            changes += mediators.map { .add("mediators", $0) }
            let (checked, warnings) = try invocation.knownValues().checkedCase(changes)
            let id = RecordID.make(milliseconds: clock.milliseconds, using: &generator)
            let state = try invocation.store.write(id, type: .case, creating: true, at: clock.milliseconds) { state, stamp in
                try state.apply(checked, stamp: stamp)
            }
            invocation.warn(warnings)
            let view = RecordView(state: state)
            invocation.emit(json: view.json, human: "Opened case \(state.text("reference") ?? "") (\(view.shortID)): \(title)")
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List live cases.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "Only cases at this workflow stage.") var status: String?
        @Option(help: "Only cases at this site.") var site: String?

        func validate() throws {
            if let status { _ = try CaseWorkflow.stage(status, option: "--status") }
        }

        func run() throws {
            let store = try options.openStore()
            _ = try store.replica()
            try OfflineLease.enforce(store, now: WallClock().milliseconds)
            // A site as the node spells it; a value the node does not list still matches
            // cases written before it kept a list, and a typo that matches none says so.
            let known = try KnownValues(store)
            let cases = try store.cases(status: status, site: site.map { (try? known.site($0, option: "--site")) ?? $0 })
            if cases.isEmpty, let site { _ = try known.site(site, option: "--site") }
            if options.json {
                var writer = CanonicalJSONWriter(capacity: cases.count * 200 + 2)
                writer.byte(UInt8(ascii: "["))
                // Written field by field (keys in canonical order): lists can hold 100,000 cases.
                for (index, summary) in cases.enumerated() {
                    if index > 0 { writer.byte(UInt8(ascii: ",")) }
                    writer.raw("{\"changed\":")
                    if summary.metadataOnly { writer.raw("null") } else { writer.string(WallClock.iso(summary.changed)) }
                    writer.raw(",\"conflicted\":")
                    writer.boolean(summary.conflicted)
                    writer.raw(",\"id\":")
                    writer.recordID(summary.id)
                    writer.raw(",\"metadataOnly\":")
                    writer.boolean(summary.metadataOnly)
                    writer.raw(",\"reference\":")
                    writer.string(summary.reference)
                    writer.raw(",\"short\":")
                    writer.string(RecordView.shortID(summary.id))
                    writer.raw(",\"site\":")
                    if let site = summary.site { writer.string(site) } else { writer.raw("null") }
                    writer.raw(",\"status\":")
                    writer.string(summary.status)
                    writer.raw(",\"title\":")
                    writer.string(summary.title)
                    writer.byte(UInt8(ascii: "}"))
                }
                writer.raw("]\n")
                FileHandle.standardOutput.write(Data(writer.bytes))
                return
            }
            guard !cases.isEmpty else {
                print(status == nil && site == nil ? "No cases yet. Open one with `casesync case new --title \"…\"`." : "No cases match.")
                return
            }
            var table = TextTable("ID", "REFERENCE", "STATUS", "SITE", "TITLE")
            for summary in cases {
                table.add(RecordView.shortID(summary.id), summary.reference, summary.status, (summary.site ?? "").cell(24),
                          summary.metadataOnly ? "(restricted: metadata only)" : summary.title.cell() + (summary.conflicted ? "  ⚠ conflict" : ""))
            }
            print(table.text)
            print("\n  \(cases.count) case\(cases.count == 1 ? "" : "s")")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a case with its parties, sessions, notes, actions and conflicts.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The case: its id, reference or short id.") var id: String

        func run() throws {
            let invocation = try Invocation(options)
            let caseID: RecordID
            do {
                caseID = try invocation.store.resolve(id, type: .case)
            } catch let error as StoreError where error.code == .notFound {
                // A restricted case a supervisor holds only the metadata of.
                guard let metadataID = try invocation.store.metadataCase(named: id), let metadata = try invocation.store.caseMetadata(metadataID) else { throw error }
                invocation.emit(json: Self.json(metadata), human: Self.human(metadata))
                return
            }
            guard let state = try invocation.store.record(caseID) else { throw CLIError(.notFound, "no case \(id)") }
            if state.isDeleted && !state.hasConflicts { throw CLIError(.notFound, "case \(id) is deleted") }
            let related = try invocation.store.records(inCase: caseID)
            let grants = try invocation.store.accessGrants(of: caseID)
            let groups: [(RecordType, String)] = [(.party, "parties"), (.session, "sessions"), (.note, "notes"), (.action, "actions"), (.feedback, "feedback")]
            let names = invocation.deviceNames
            if options.json {
                var pairs: [(String, JSONOutput)] = [("case", RecordView(state: state, deviceNames: names).json), ("access", .array(grants.map(AccessView.json)))]
                for (type, key) in groups {
                    pairs.append((key, .array(related.filter { $0.type == type }.map { RecordView(state: $0, deviceNames: names).json })))
                }
                print(JSONOutput.sortedObject(pairs).text)
                return
            }
            print(Self.human(state, related: related, grants: grants, names: names))
        }

        static func json(_ metadata: CaseMetadata) -> JSONOutput {
            .sortedObject([("id", .string(metadata.caseID.rawValue)), ("metadataOnly", .boolean(true)),
                           ("case", .sortedObject(CaseMetadata.fields.compactMap { field in metadata.values[field].map { (field, JSONOutput.string($0)) } }))])
        }

        static func human(_ metadata: CaseMetadata) -> String {
            var out = ["Case \(metadata.values["reference"] ?? "")  (restricted: metadata only)", "  id \(metadata.caseID)  (short \(RecordView.shortID(metadata.caseID)))", ""]
            for field in ["status", "kind", "site", "opened", "agreed", "closed"] {
                if let value = metadata.values[field] { out.append("  \(field.padding(toLength: 8, withPad: " ", startingAt: 0)) \(value)") }
            }
            out += ["", "Its contents are held by its mediators only. If you must see them (duty of care, a safeguarding concern):",
                    "  casesync access request \(metadata.values["reference"] ?? metadata.caseID.rawValue) --reason \"…\""]
            return out.joined(separator: "\n")
        }

        static func human(_ state: RecordState, related: [RecordState], grants: [AccessGrant] = [], names: [DeviceID: String]) -> String {
            let view = RecordView(state: state, deviceNames: names)
            var out = ["Case \(state.text("reference") ?? "")  \(state.text("title") ?? "")" + (state.isDeleted ? "  [DELETED]" : ""),
                       "  id \(state.id)  (short \(view.shortID))", "", view.fieldLines]
            let conflicted = [state] + related.filter(\.hasConflicts)
            let conflictText = conflicted.filter(\.hasConflicts).map { record in
                (record.type == .case ? "" : "  in \(record.type.rawValue) \(RecordView.shortID(record.id)):\n") + RecordView(state: record, deviceNames: names).conflictLines
            }
            if !conflictText.isEmpty {
                out += ["", "⚠ Conflicts — concurrent changes kept side by side until you choose:"] + conflictText
            }
            func section(_ title: String, _ type: RecordType, _ headers: [String], _ row: (RecordState) -> [String]) {
                let records = related.filter { $0.type == type }
                guard !records.isEmpty else { return }
                var table = TextTable(headers: ["ID"] + headers)
                for record in records { table.rows.append([RecordView.shortID(record.id)] + row(record).map { $0.cell() } + (record.hasConflicts ? ["⚠"] : [])) }
                out += ["", "\(title) (\(records.count))", table.text]
            }
            let plain = { (record: RecordState, field: String) in RecordView(state: record).plain(field) }
            section("Parties", .party, ["ROLE", "NAME", "ORGANIZATION", "CONSENT"]) { record in
                [plain(record, "role"), plain(record, "name"), plain(record, "organization"),
                 record.value("consentToMediate") == .boolean(true) ? "mediate" + (record.value("consentToShare") == .boolean(true) ? ", share" : "") : ""]
            }
            section("Sessions", .session, ["AT", "KIND", "LOCATION", "SUMMARY"]) { record in
                [plain(record, "at"), plain(record, "kind"), plain(record, "location"), plain(record, "summary")]
            }
            section("Notes", .note, ["VISIBILITY", "AUTHOR", "TEXT"]) { record in
                [plain(record, "visibility"), plain(record, "author"), plain(record, "text")]
            }
            section("Actions", .action, ["STATUS", "DUE", "DONE", "OWNER", "TEXT", "MEASURE"]) { record in
                let replacement = record.text("replacedBy").flatMap { try? RecordID($0) }.map { " → " + RecordView.shortID($0) } ?? ""
                return [plain(record, "status") + replacement, plain(record, "due"), plain(record, "completed"), plain(record, "owner"), plain(record, "text"), plain(record, "measure")]
            }
            let reviewLines = related.filter { $0.type == .action }.flatMap { action in
                ActionRow.reviews(of: action).map { "  \(RecordView.shortID(action.id))  \($0)" }
            }
            if !reviewLines.isEmpty { out += ["", "Action reviews"] + reviewLines }
            section("Feedback", .feedback, ["RATING", "SUBMITTED"]) { record in
                [plain(record, "rating"), plain(record, "submitted")]
            }
            if !grants.isEmpty {
                var table = TextTable("SUPERVISOR", "FROM", "UNTIL", "REASON")
                for grant in grants { table.add(grant.user, WallClock.human(grant.granted), WallClock.human(grant.until), grant.reason.cell()) }
                out += ["", "Break-glass access (\(grants.count))", table.text]
            }
            return out.joined(separator: "\n")
        }
    }

    struct Set: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change fields of a case: FIELD=VALUE, or mediators+=NAME / mediators-=NAME.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The case: its id, reference or short id.") var id: String
        @Argument(help: "FIELD=VALUE pairs.") var assignments: [String] = []

        func run() throws {
            let invocation = try Invocation(options)
            let state = try CaseWorkflow.write(try FieldAssignment.parse(assignments, type: .case), toCase: id, invocation: invocation)
            let view = RecordView(state: state)
            invocation.emit(json: view.json, human: "Updated case \(state.text("reference") ?? view.shortID).")
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a case to a workflow stage (agreement and closed also record the day).",
            discussion: "The workflow rules (PROTOCOL.md §14): a case closes from agreement or follow-up; a closed or withdrawn case moves only by `casesync case reopen`; moving back warns, and moving back before agreement clears the agreement date.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The case: its id, reference or short id.") var id: String
        @Argument(help: "intake, preparation, opening, exploration, negotiation, agreement, follow-up, closed or withdrawn.") var stage: String
        @Option(help: "For agreement or closed: the day it happened, YYYY-MM-DD (default: today).") var date: String?

        func validate() throws {
            let stage = try CaseWorkflow.stage(stage, option: nil)
            if date != nil && stage.dateField == nil { throw ValidationError("--date applies only to agreement and closed") }
        }

        func run() throws {
            let invocation = try Invocation(options)
            var changes: [FieldChange] = [.set("status", .text(stage))]
            if let date, let field = WorkflowStage(rawValue: stage)?.dateField { changes.append(.set(field, .text(date))) }
            let state = try CaseWorkflow.write(changes, toCase: id, invocation: invocation)
            let view = RecordView(state: state)
            let dateNote = WorkflowStage(rawValue: stage)?.dateField.flatMap { field in state.text(field).map { " (\(field) \($0))" } } ?? ""
            invocation.emit(json: view.json, human: "Case \(state.text("reference") ?? view.shortID) is now at \(stage)\(dateNote).")
        }
    }

    struct Reopen: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reopen a closed or withdrawn case (clears its closing date).",
            discussion: "Default stage: follow-up when the case has an agreement date, else exploration. Reopening to a stage before agreement also clears the agreement date.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The case: its id, reference or short id.") var id: String
        @Option(help: "The stage to reopen at.") var to: String?

        func validate() throws {
            if let to { _ = try CaseWorkflow.stage(to, option: "--to") }
        }

        func run() throws {
            let invocation = try Invocation(options)
            let current = try invocation.liveCase(id)
            let stage = to ?? (current.text("agreed") == nil ? WorkflowStage.exploration.rawValue : WorkflowStage.followUp.rawValue)
            let state = try CaseWorkflow.write([.set("status", .text(stage))], toCase: id, reopening: true, invocation: invocation)
            let view = RecordView(state: state)
            invocation.emit(json: view.json, human: "Reopened case \(state.text("reference") ?? view.shortID) at \(stage).")
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a case (a change that syncs; `casesync restore ID` undoes it).",
            discussion: "Asks for confirmation on a terminal; --yes for scripts. A concurrent edit elsewhere becomes a conflict, never a silent loss.")

        @OptionGroup var options: GlobalOptions
        @Argument(help: "The case: its id, reference or short id.") var id: String
        @Flag(help: "Do not ask for confirmation.") var yes = false

        func run() throws {
            let invocation = try Invocation(options)
            let caseID = try invocation.store.resolve(id, type: .case)
            if !yes {
                let current = try invocation.liveCase(id)
                let name = current.text("reference") ?? RecordView.shortID(caseID)
                guard isatty(STDIN_FILENO) == 1 else { throw CLIError(.usage, "deleting case \(name) needs confirmation: add --yes when not on a terminal") }
                let records = try invocation.store.records(inCase: caseID).filter { !$0.isDeleted }.count
                FileHandle.standardError.write(Data("Delete case \(name) (\(current.text("title") ?? "")) with its \(records) record\(records == 1 ? "" : "s")? [y/N] ".utf8))
                guard let answer = readLine()?.trimmingCharacters(in: .whitespaces).lowercased(), answer == "y" || answer == "yes" else {
                    throw CLIError(.usage, "not confirmed; case \(name) was not deleted")
                }
            }
            let state = try invocation.store.write(caseID, type: .case, at: invocation.clock.milliseconds) { state, stamp in
                guard !state.isDeleted else { throw CLIError(.notFound, "case \(id) is already deleted") }
                try state.delete(stamp: stamp)
            }
            let view = RecordView(state: state)
            invocation.emit(json: view.json, human: "Deleted case \(state.text("reference") ?? view.shortID) (`casesync restore \(view.shortID)` undoes it).")
        }
    }
}
