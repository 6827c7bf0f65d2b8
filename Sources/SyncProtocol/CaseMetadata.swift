import SyncModel

/// What a supervisor who is not one of its mediators sees of a restricted case: its
/// non-confidential metadata, a projection of the case record (PROTOCOL.md §13.5). It is not
/// a record state (no versions, no dots): a device keeps it beside its records, replaces it
/// with each newer one, and never merges or pushes it. The full case takes its place only
/// through break-glass access (`AccessGrant`).
public struct CaseMetadata: Sendable, Hashable {
    /// The fields projected, all of them registers with no confidential content.
    public static let fields = ["agreed", "closed", "kind", "opened", "reference", "site", "status"]

    /// The case's id.
    public let caseID: RecordID
    /// The change sequence of the case record it was projected from.
    public let seq: Int
    /// Whether the case is deleted (the device then forgets its metadata).
    public let deleted: Bool
    /// Each projected field that has a value, as text; a field in conflict shows its values
    /// in their order, joined by " | ".
    public let values: [String: String]

    /// Metadata as the node serves it.
    public init(caseID: RecordID, seq: Int, deleted: Bool, values: [String: String]) {
        self.caseID = caseID
        self.seq = seq
        self.deleted = deleted
        self.values = values
    }

    /// The metadata of case record `state`, numbered `seq`.
    public init(projecting state: RecordState, seq: Int) {
        var values: [String: String] = [:]
        if !state.isDeleted {
            for field in Self.fields {
                guard let register = state.register(field), !register.values.isEmpty else { continue }
                values[field] = register.values.sorted().map(\.description).joined(separator: " | ")
            }
        }
        self.init(caseID: state.id, seq: seq, deleted: state.isDeleted, values: values)
    }
}
