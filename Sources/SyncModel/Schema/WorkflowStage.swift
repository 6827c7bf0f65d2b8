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

    /// Whether a case at this stage has ended (closed or withdrawn): it moves on only by
    /// being reopened (PROTOCOL.md §14.1).
    public var hasEnded: Bool { self == .closed || self == .withdrawn }

    /// The stages a case moves through before it ends, in order.
    public static let active = allCases.filter { !$0.hasEnded }

    /// The date field a move to this stage fills in with the day of the move, unless given.
    public var dateField: String? {
        switch self {
        case .agreement: return "agreed"
        case .closed: return "closed"
        default: return nil
        }
    }
}
