/// How two version vectors relate.
public enum CausalOrder: String, Sendable {
    /// Both have seen exactly the same writes.
    case equal
    /// The left side has seen a strict subset of what the right side has seen.
    case before
    /// The left side has seen a strict superset of what the right side has seen.
    case after
    /// Each side has seen a write the other has not.
    case concurrent
}
