import SyncModel

/// One line of a case list, read from indexed columns without decoding the record state.
public struct CaseSummary: Hashable, Sendable {
    public let id: RecordID
    public let reference: String
    public let title: String
    public let status: String
    public let site: String?
    public let conflicted: Bool
    /// Latest wall-clock time of any write to the case, milliseconds since the Unix epoch.
    public let changed: Int64
}
