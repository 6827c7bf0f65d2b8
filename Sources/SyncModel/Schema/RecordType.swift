/// The six collections of DESIGN.md. Every type but `case` links to a case by its `case` field.
public enum RecordType: String, CaseIterable, Hashable, Comparable, Sendable {
    case `case`
    case party
    case session
    case note
    case action
    case feedback

    /// Parses a type name; throws `unknown_type` naming the valid ones.
    public init(named name: String) throws(ModelError) {
        guard let type = RecordType(rawValue: name) else {
            throw ModelError(.unknownType, "unknown record type \"\(name.prefix(40))\"; expected one of \(RecordType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = type
    }

    /// Orders types by name (`action` < `case` < `feedback` …), not by declaration order.
    public static func < (lhs: RecordType, rhs: RecordType) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// How a field merges.
public enum FieldKind: String, Hashable, Sendable {
    /// A single value; concurrent writes become a conflict.
    case register
    /// An add-wins observed-remove set; never conflicts.
    case set
}
