/// The workflow rules of a case (PROTOCOL.md §14, one table), as a pure function of what
/// the case holds now and what one local write changes: which stage moves are refused,
/// which are only warned about, and which dates the write fills in or clears.
///
/// The rules judge a person's write, where the intent is known. They are not applied to
/// merged states: two honest concurrent writes (one device closes the case while another
/// moves it back to negotiation) can make a state no single write could, and that is a
/// conflict for a person to resolve, not data to refuse.
public struct CaseWorkflowRule: Sendable {
    /// What the case holds before the write (its single values; nil when absent or in conflict).
    public struct Facts: Hashable, Sendable {
        public var status: WorkflowStage?
        public var opened: String?
        public var agreed: String?
        public var closed: String?
        /// Actions of the case still open or in progress (closing warns about them).
        public var unfinishedActions: Int

        public init(status: WorkflowStage?, opened: String?, agreed: String?, closed: String?, unfinishedActions: Int = 0) {
            self.status = status
            self.opened = opened
            self.agreed = agreed
            self.closed = closed
            self.unfinishedActions = unfinishedActions
        }

        /// The facts of a case state: its single register values.
        public init(_ state: RecordState, unfinishedActions: Int = 0) {
            self.init(status: state.text("status").flatMap(WorkflowStage.init(rawValue:)), opened: state.text("opened"),
                      agreed: state.text("agreed"), closed: state.text("closed"), unfinishedActions: unfinishedActions)
        }
    }

    /// A write the rules refuse; the command line words it and names the fix.
    public enum Violation: Error, Hashable, Sendable {
        /// A move out of `closed` or `withdrawn` other than by reopening.
        case endedCase(WorkflowStage)
        /// `closed` from a stage before agreement (a case that ends without one is withdrawn).
        case closeWithoutAgreement(from: WorkflowStage)
        /// Reopening a case that is not closed or withdrawn.
        case notEnded(WorkflowStage?)
        /// Reopening to `closed` or `withdrawn`.
        case reopenToEnded(WorkflowStage)
        /// A date before another that must come first (`agreed` before `opened`, …).
        case dateOrder(field: String, date: String, before: String, otherDate: String)
    }

    /// A write the rules let through but a person should hear about.
    public enum Warning: Hashable, Sendable {
        /// A move to an earlier stage (a negotiation that falls back to exploration).
        case movedBack(from: WorkflowStage, to: WorkflowStage)
        /// Moving back before agreement cleared the agreement date.
        case agreementCleared(String)
        /// Reopening cleared the closing date.
        case closedCleared(String)
        /// A date after today.
        case future(field: String, date: String)
        /// Closing with actions still open or in progress.
        case unfinishedActions(Int)
    }

    /// The write as it will be made, and what to tell the person.
    public struct Outcome: Hashable, Sendable {
        public var changes: [FieldChange]
        public var warnings: [Warning]
    }

    /// Checks `changes` against `facts` and completes them:
    /// - a stage change records `stageEntered` (the day given for agreement or closed, else `today`);
    /// - agreement and closed fill `agreed` and `closed` with `today` unless given (back from
    ///   follow-up to agreement keeps the agreement's day);
    /// - a move back before agreement clears `agreed`; reopening clears `closed`;
    /// - `agreed` and `closed` may not be before `opened`, nor `closed` before `agreed`
    ///   (checked for the pairs the write touches).
    ///
    /// `reopening` is `casesync case reopen`: the only way out of closed or withdrawn.
    public static func apply(_ changes: [FieldChange], to facts: Facts, today: String, reopening: Bool = false) throws(Violation) -> Outcome {
        var result = changes
        var warnings: [Warning] = []
        func given(_ field: String) -> FieldChange? { changes.last { $0.field == field } }
        func givenDate(_ field: String) -> String? {
            if case let .set(_, .text(date))? = given(field) { return date }
            return nil
        }
        let newStage: WorkflowStage? = {
            if case let .set(_, .text(word))? = given("status") { return WorkflowStage(rawValue: word) }
            return nil
        }()

        if reopening {
            guard let old = facts.status, old.hasEnded else { throw .notEnded(facts.status) }
            if let newStage, newStage.hasEnded { throw .reopenToEnded(newStage) }
        }
        if let stage = newStage, stage != facts.status {
            if let old = facts.status, !reopening {
                if old.hasEnded { throw .endedCase(old) }
                if stage == .closed, old != .agreement, old != .followUp { throw .closeWithoutAgreement(from: old) }
                if let from = WorkflowStage.active.firstIndex(of: old), let to = WorkflowStage.active.firstIndex(of: stage), to < from {
                    warnings.append(.movedBack(from: old, to: stage))
                }
            }
            // Back from follow-up to agreement, or reopened at agreement, keeps the day the
            // agreement was reached.
            let keepsAgreement = stage == .agreement && (facts.status == .followUp || reopening) && facts.agreed != nil
            if let dateField = stage.dateField, given(dateField) == nil, !keepsAgreement {
                result.append(.set(dateField, .text(today)))
            }
            if given("stageEntered") == nil {
                result.append(.set("stageEntered", .text(stage.dateField.flatMap(givenDate) ?? today)))
            }
            let beforeAgreement = WorkflowStage.active.firstIndex(of: stage).map { $0 < WorkflowStage.active.firstIndex(of: .agreement) ?? 0 } ?? false
            if beforeAgreement, let agreed = facts.agreed, given("agreed") == nil {
                result.append(.clear("agreed"))
                warnings.append(.agreementCleared(agreed))
            }
            if reopening, let closed = facts.closed, given("closed") == nil {
                result.append(.clear("closed"))
                warnings.append(.closedCleared(closed))
            }
            if stage == .closed, facts.unfinishedActions > 0 {
                warnings.append(.unfinishedActions(facts.unfinishedActions))
            }
        }

        // The dates as they will be after the write.
        func after(_ field: String, _ current: String?) -> String? {
            switch result.last(where: { $0.field == field }) {
            case let .set(_, .text(date))?: return date
            case .clear?: return nil
            default: return current
            }
        }
        // Only a pair the write touches is checked: dates that already contradict each
        // other (two honest concurrent writes merged) must not block unrelated work.
        func touched(_ fields: String...) -> Bool { result.contains { fields.contains($0.field) } }
        let opened = after("opened", facts.opened), agreed = after("agreed", facts.agreed), closed = after("closed", facts.closed)
        if touched("opened", "agreed"), let opened, let agreed, agreed < opened { throw .dateOrder(field: "agreed", date: agreed, before: "opened", otherDate: opened) }
        if touched("opened", "closed"), let opened, let closed, closed < opened { throw .dateOrder(field: "closed", date: closed, before: "opened", otherDate: opened) }
        if touched("agreed", "closed"), let agreed, let closed, closed < agreed { throw .dateOrder(field: "closed", date: closed, before: "agreed", otherDate: agreed) }
        for (field, date) in [("agreed", agreed), ("closed", closed)] {
            if let date, date > today, date != facts.value(field) { warnings.append(.future(field: field, date: date)) }
        }
        return Outcome(changes: result, warnings: warnings)
    }
}

extension CaseWorkflowRule.Facts {
    func value(_ field: String) -> String? {
        switch field {
        case "opened": return opened
        case "agreed": return agreed
        case "closed": return closed
        default: return nil
        }
    }
}
