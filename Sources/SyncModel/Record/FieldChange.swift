/// One change a local write makes to a field.
public enum FieldChange: Hashable, Sendable {
    /// Replace a register's value (and so end any conflict it holds).
    case set(String, FieldValue)
    /// Add an element to a set field.
    case add(String, String)
    /// Remove an element from a set field (a no-op if absent).
    case remove(String, String)

    /// The field the change is about.
    public var field: String {
        switch self {
        case let .set(field, _), let .add(field, _), let .remove(field, _): return field
        }
    }
}
