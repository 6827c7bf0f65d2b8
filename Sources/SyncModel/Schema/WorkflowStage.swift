/// The workflow stages of a case (`case.status`), in the order a mediation moves through them.
public enum WorkflowStage: String, CaseIterable, Hashable, Sendable {
    case intake
    case preparation
    case opening
    case exploration
    case negotiation
    case agreement
    case followUp = "follow-up"
    case closed
    case withdrawn

    /// The date field a move to this stage fills in with the day of the move, unless given.
    public var dateField: String? {
        switch self {
        case .agreement: return "agreed"
        case .closed: return "closed"
        default: return nil
        }
    }
}
