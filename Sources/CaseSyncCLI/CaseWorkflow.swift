import ArgumentParser
import Foundation
import SyncModel
import SyncStore

/// The command line's side of the workflow rules (`CaseWorkflowRule`, PROTOCOL.md §14):
/// it applies them to a case write, words a refusal as a one-line error that names the fix,
/// and prints warnings on stderr.
enum CaseWorkflow {
    /// Writes `changes` to case `text` after the workflow rules have checked and completed
    /// them against the case as stored at the moment of the write; prints the warnings.
    static func write(_ changes: [FieldChange], toCase text: String, reopening: Bool = false, invocation: Invocation) throws -> RecordState {
        let caseID = try invocation.store.resolve(text, type: .case)
        let (changes, known) = try invocation.knownValues().checkedCase(changes)
        let unfinished = try invocation.store.records(inCase: caseID).filter {
            $0.type == .action && !$0.isDeleted && ActionFollowUp.unfinished.contains($0.text("status") ?? "open")
        }.count
        var warnings: [CaseWorkflowRule.Warning] = []
        let state = try invocation.store.write(caseID, type: .case, at: invocation.clock.milliseconds) { state, stamp in
            let outcome: CaseWorkflowRule.Outcome
            do {
                outcome = try CaseWorkflowRule.apply(changes, to: .init(state, unfinishedActions: unfinished), today: invocation.clock.today, reopening: reopening)
            } catch let violation as CaseWorkflowRule.Violation {
                throw CLIError(.usage, message(violation, case: text))
            }
            warnings = outcome.warnings
            try state.apply(outcome.changes, stamp: stamp)
        }
        invocation.warn(warnings.map { message($0, case: text) } + known)
        return state
    }

    /// The stage `text` names; refused (exit 1) listing the stages. `option` is the option
    /// it came from, if any, as the message names it.
    static func stage(_ text: String, option: String?) throws -> WorkflowStage {
        guard let stage = WorkflowStage(rawValue: text) else {
            throw ValidationError("\(option.map { "\($0) " } ?? "")\(text) is not a stage; stages: \(WorkflowStage.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return stage
    }

    static func message(_ violation: CaseWorkflowRule.Violation, case name: String) -> String {
        switch violation {
        case let .endedCase(stage):
            return "case \(name) is \(stage.rawValue); reopen it first: `casesync case reopen \(name)`"
        case let .closeWithoutAgreement(from):
            return "case \(name) is at \(from.rawValue): a case closes from agreement or follow-up; one that ends without agreement is withdrawn (`casesync case status \(name) withdrawn`)"
        case let .notEnded(stage):
            return "case \(name) is at \(stage?.rawValue ?? "no stage"), not closed or withdrawn: move it with `casesync case status \(name) STAGE`"
        case let .reopenToEnded(stage):
            return "a case cannot be reopened to \(stage.rawValue); give --to an open stage such as follow-up or negotiation"
        case let .dateOrder(field, date, before, otherDate):
            return "\(field) \(date) is before \(before) \(otherDate); give \(field) a date on or after \(otherDate)"
        }
    }

    static func message(_ warning: CaseWorkflowRule.Warning, case name: String) -> String {
        switch warning {
        case let .movedBack(from, to): return "case \(name) moved back from \(from.rawValue) to \(to.rawValue)"
        case let .agreementCleared(date): return "the agreement of \(date) no longer stands: agreed cleared"
        case let .closedCleared(date): return "closed \(date) cleared: the case is open again"
        case let .future(field, date): return "\(field) \(date) is after today"
        case let .unfinishedActions(count):
            return "case \(name) closed with \(count) action\(count == 1 ? "" : "s") still open or in progress (`casesync action list --case \(name)`)"
        }
    }

    /// A case reference that offline devices can make without colliding: the year and 40
    /// random bits in Crockford base 32, e.g. `MED-2026-7F3A-9K2C`.
    static func newReference<G: RandomNumberGenerator>(year: Int, using generator: inout G) -> String {
        let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        var bits = generator.next()
        var symbols: [Character] = []
        for _ in 0..<8 {
            symbols.append(alphabet[Int(bits & 31)])
            bits >>= 5
        }
        return "MED-\(year)-\(String(symbols[0..<4]))-\(String(symbols[4..<8]))"
    }
}
