import ArgumentParser
import Foundation
import SyncModel
import SyncStore

/// What the follow-up listings show of an action: its case's reference, so a list across
/// cases reads without looking each one up.
struct ActionRow {
    let state: RecordState
    let caseReference: String
    /// The stage of the action's case (`due` skips ended cases).
    let caseStatus: String

    /// Whether the action's case is closed or withdrawn: nothing of it is due any more.
    var caseEnded: Bool { WorkflowStage(rawValue: caseStatus)?.hasEnded ?? false }

    var status: String { state.text("status") ?? "open" }
    var due: String? { state.text("due") }
    var isUnfinished: Bool { ActionFollowUp.unfinished.contains(status) }

    func isOverdue(today: String) -> Bool { isUnfinished && (due.map { $0 < today } ?? false) }

    var json: JSONOutput {
        .sortedObject([("action", RecordView(state: state).json), ("caseReference", .string(caseReference))])
    }

    /// The live actions of this device's live cases, by due date (undated last), then id.
    /// `cases` are the case list, when the caller has read it already.
    static func all(in store: ReplicaStore, cases list: [CaseSummary]? = nil) throws -> [ActionRow] {
        let cases = Dictionary(try (list ?? store.cases()).filter { !$0.metadataOnly }.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return try store.liveRecords(of: .action).compactMap { state in
            guard let caseID = state.caseID, let summary = cases[caseID] else { return nil }
            return ActionRow(state: state, caseReference: summary.reference, caseStatus: summary.status)
        }.sorted { ($0.due ?? "~", $0.state.id.rawValue) < ($1.due ?? "~", $1.state.id.rawValue) }
    }

    /// An action's reviews in the order they happened: by their day, then by when each was
    /// written (set elements are stored by their bytes, which puts one day's reviews in
    /// alphabetical order).
    static func reviews(of action: RecordState) -> [String] {
        guard case let .set(set)? = action.field("reviews") else { return [] }
        func order(_ element: AddWinsSet.Element) -> (String, Int64, Int64) {
            let first = element.stamps.min { ($0.time, $0.dot.counter) < ($1.time, $1.dot.counter) }
            return (String(element.value.prefix(10)), first?.time ?? 0, first.map { Int64($0.dot.counter) } ?? 0)
        }
        return set.elements.sorted { order($0) < order($1) }.map(\.value)
    }

    static func table(_ rows: [ActionRow], today: String) -> String {
        var table = TextTable("ID", "CASE", "STATUS", "DUE", "OWNER", "TEXT")
        for row in rows {
            let view = RecordView(state: row.state)
            table.add(view.shortID, row.caseReference, row.status + (row.isOverdue(today: today) ? " (overdue)" : ""), row.due ?? "", view.plain("owner").cell(20), view.plain("text").cell())
        }
        return table.text
    }
}

extension ActionCommand {
    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List agreed actions across your cases, by due date.",
            discussion: "--due-before and --overdue list only actions still open or in progress.")

        @OptionGroup var options: GlobalOptions
        @Option(help: "Only unfinished actions due before this day, YYYY-MM-DD.") var dueBefore: String?
        @Flag(help: "Only unfinished actions past their due date.") var overdue = false
        @Option(help: "Only actions of this owner.") var owner: String?
        @Option(name: .customLong("case"), help: "Only actions of this case (id, reference or short id).") var caseName: String?
        @Option(help: "Only actions with this status.") var status: String?

        func validate() throws {
            if let dueBefore, CivilDate.days(dueBefore) == nil { throw ValidationError("--due-before \(dueBefore) is not a date; write it as YYYY-MM-DD") }
        }

        func run() throws {
            let invocation = try Invocation(options)
            let today = invocation.clock.today
            let caseID = try caseName.map { try invocation.store.resolve($0, type: .case) }
            let rows = try ActionRow.all(in: invocation.store).filter { row in
                (caseID == nil || row.state.caseID == caseID)
                    && (owner == nil || row.state.text("owner") == owner)
                    && (status == nil || row.status == status)
                    && (!overdue || row.isOverdue(today: today))
                    && (dueBefore.map { limit in row.isUnfinished && (row.due.map { $0 < limit } ?? false) } ?? true)
            }
            if options.json {
                print(JSONOutput.array(rows.map(\.json)).text)
                return
            }
            guard !rows.isEmpty else {
                print("No actions match.")
                return
            }
            print(ActionRow.table(rows, today: today))
            print("\n  \(rows.count) action\(rows.count == 1 ? "" : "s")")
        }
    }
}

/// `casesync due`: what needs attention in the coming days across this device's open cases
/// (not closed or withdrawn) — unfinished actions overdue or due soon, missed actions not
/// yet escalated or waived, and the sessions planned.
struct DueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "due",
        abstract: "What needs attention this week: actions overdue or due soon, missed actions, upcoming sessions.")

    @OptionGroup var options: GlobalOptions
    @Option(help: "How many days ahead to look.") var days = 7

    func validate() throws {
        guard (1...366).contains(days) else { throw ValidationError("--days takes 1 to 366") }
    }

    func run() throws {
        let invocation = try Invocation(options)
        let today = invocation.clock.today
        let until = CivilDate.days(today).map { CivilDate.string(days: $0 + days) } ?? today
        let cases = try invocation.store.cases()
        let actions = try ActionRow.all(in: invocation.store, cases: cases).filter { row in
            !row.caseEnded && ((row.isUnfinished && (row.due.map { $0 < until } ?? false)) || row.status == "missed")
        }
        let references = Dictionary(cases.filter { !(WorkflowStage(rawValue: $0.status)?.hasEnded ?? false) }.map { ($0.id, $0.reference) },
                                    uniquingKeysWith: { first, _ in first })
        let sessions = try invocation.store.liveRecords(of: .session).filter { session in
            guard let at = session.text("at"), let caseID = session.caseID, references[caseID] != nil else { return false }
            let day = String(at.prefix(10))
            return day >= today && day < until
        }.sorted { ($0.text("at") ?? "") < ($1.text("at") ?? "") }
        if options.json {
            print(JSONOutput.sortedObject([
                ("actions", .array(actions.map(\.json))),
                ("sessions", .array(sessions.map { session in
                    .sortedObject([("caseReference", .string(session.caseID.flatMap { references[$0] } ?? "")), ("session", RecordView(state: session).json)])
                })),
                ("until", .string(until)),
            ]).text)
            return
        }
        guard !actions.isEmpty || !sessions.isEmpty else {
            print("Nothing due before \(until).")
            return
        }
        if !actions.isEmpty {
            print("Actions overdue, due before \(until), or missed (\(actions.count))")
            print(ActionRow.table(actions, today: today))
        }
        if !sessions.isEmpty {
            if !actions.isEmpty { print("") }
            var table = TextTable("ID", "CASE", "AT", "KIND", "LOCATION")
            for session in sessions {
                let view = RecordView(state: session)
                table.add(view.shortID, session.caseID.flatMap { references[$0] } ?? "", view.plain("at"), view.plain("kind"), view.plain("location").cell(30))
            }
            print("Sessions before \(until) (\(sessions.count))")
            print(table.text)
        }
    }
}
