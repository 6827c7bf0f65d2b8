/// What a field's values must look like.
public enum ValueType: Hashable, Sendable {
    /// Free text of at most `maxBytes` UTF-8 bytes; no control characters except tab and
    /// newlines (and those only when `multiline`).
    case text(maxBytes: Int, multiline: Bool)
    /// One of a fixed list of words.
    case choice([String])
    /// A calendar date, `YYYY-MM-DD`.
    case date
    /// An RFC 3339 timestamp with seconds and a zone, e.g. `2026-11-22T14:02:00Z`.
    case timestamp
    case boolean
    case integer(ClosedRange<Int>)
    /// The id of a record of the given type.
    case reference(RecordType)
    /// A user name: 1–64 characters of `a-z 0-9 . _ -`.
    case userName

    /// A short human description, used in error messages.
    public var summary: String {
        switch self {
        case let .text(maxBytes, _): return "text of at most \(maxBytes) bytes"
        case let .choice(words): return "one of " + words.joined(separator: ", ")
        case .date: return "a date YYYY-MM-DD"
        case .timestamp: return "a timestamp such as 2026-11-22T14:02:00Z"
        case .boolean: return "true or false"
        case let .integer(range): return "a whole number from \(range.lowerBound) to \(range.upperBound)"
        case let .reference(type): return "the id of a \(type.rawValue)"
        case .userName: return "a user name (a-z, 0-9, '.', '_', '-')"
        }
    }
}
