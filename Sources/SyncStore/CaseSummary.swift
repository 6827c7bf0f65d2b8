import SyncModel

/// One line of a case list, read from indexed columns without decoding the record state
/// (in an encrypted replica, from the opened state).
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

extension CaseSummary {
    /// Whether the summary passes `case list`'s filters as the SQL ones do: the status
    /// exactly, the site without regard to ASCII case (SQLite's NOCASE).
    func matches(status: String?, site: String?) -> Bool {
        if let status, self.status != status { return false }
        if let site {
            guard let own = self.site, Self.asciiFolded(own) == Self.asciiFolded(site) else { return false }
        }
        return true
    }

    private static func asciiFolded(_ text: String) -> [UInt8] {
        text.utf8.map { (65...90).contains($0) ? $0 + 32 : $0 }
    }
}
