/// What a user may do on the sync node (DESIGN.md, "Users, roles and confidentiality").
public enum Role: String, CaseIterable, Hashable, Sendable {
    /// Reads and writes only the cases whose `mediators` set holds them, plus cases they create.
    case mediator
    /// Reads and writes all cases.
    case supervisor
    /// Read-only, redacted export and summary only.
    case reporter
    /// Manages users and devices; no case data.
    case admin

    /// Whether devices of this role push and pull case records.
    public var syncsCases: Bool { self == .mediator || self == .supervisor }
}
