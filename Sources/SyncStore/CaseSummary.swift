import SyncModel

/// One line of a case list, read from indexed columns without decoding the record state.
public struct CaseSummary: Hashable, Sendable {
    /// The case's record id.
    public let id: RecordID
    /// The human-readable reference (`MED-2026-7F3A`); empty when the case has none.
    public let reference: String
    /// The case's title; empty when it has none.
    public let title: String
    /// The workflow stage (`status`); empty when unset.
    public let status: String
    /// The site; nil when unset.
    public let site: String?
    /// Whether the case record holds a conflict.
    public let conflicted: Bool
    /// Latest wall-clock time of any write to the case, milliseconds since the Unix epoch
    /// (0 for metadata only).
    public let changed: Int64
    /// Set for a restricted case this device holds only the metadata of (a supervisor's,
    /// PROTOCOL.md §13.5): no title, no records.
    public var metadataOnly = false
}
