import SyncModel

/// Why a device must drop records it holds: its user lost the right to hold them
/// (PROTOCOL.md §13, "Dropping what a device may no longer hold").
public enum DropReason: String, Sendable, Hashable, CaseIterable {
    /// The user is no longer one of the case's mediators.
    case mediatorRemoved = "mediator-removed"
    /// The case was made `restricted`: only its mediators may hold it.
    case caseRestricted = "case-restricted"
    /// A note was narrowed (to `mediator` or `caucus` visibility) past this user.
    case noteNarrowed = "note-narrowed"
    /// The service purged the case (`casesyncd purge`, retention): nothing of it is kept.
    case purged
    /// A supervisor's break-glass access to the case ended (PROTOCOL.md §13.5).
    case accessEnded = "access-ended"

    /// The end of a sentence saying why records left a device, for people.
    public var explanation: String {
        switch self {
        case .mediatorRemoved: "you are no longer a mediator of the case"
        case .caseRestricted: "the case was made restricted to its mediators"
        case .noteNarrowed: "a note was narrowed to its author or to the case's mediators"
        case .purged: "the service purged the case (disposal after retention)"
        case .accessEnded: "your break-glass access to the case ended"
        }
    }
}

/// One entry of a pull page's `drop` list: the device removes a whole case with all its
/// records (`record` nil), or one record of it, at the change sequence `seq` at which its
/// user lost the right. Drops come in cursor order with the records, so a device that was
/// offline through several changes converges: it applies a page's drops before its records.
public struct DropNotice: Sendable, Hashable {
    /// The change sequence of the change that took the right away.
    public let seq: Int
    /// The case concerned.
    public let caseID: RecordID
    /// The one record to drop, or nil for the case and every record of it.
    public let record: RecordID?
    /// Why, for the sync's report.
    public let reason: DropReason

    /// A drop as the node serves it.
    public init(seq: Int, caseID: RecordID, record: RecordID?, reason: DropReason) {
        self.seq = seq
        self.caseID = caseID
        self.record = record
        self.reason = reason
    }
}
