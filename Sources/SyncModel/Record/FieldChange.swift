/// One change a local write makes to a field.
public enum FieldChange: Hashable, Sendable {
    /// Replace a register's value (and so end any conflict it holds).
    case set(String, FieldValue)
    /// Add an element to a set field.
    case add(String, String)
    /// Remove an element from a set field (a no-op if absent).
    case remove(String, String)
    /// Empty an optional register: every value this state holds is dropped and only the
    /// version vector records the write, so a value written concurrently elsewhere (one
    /// this write has not seen) survives the merge, as a concurrent add survives a remove.
    case clear(String)

    /// The field the change is about.
    public var field: String {
        switch self {
        case let .set(field, _), let .add(field, _), let .remove(field, _), let .clear(field): return field
        }
    }
}
