/// The state of one field of a record: a register or a set, as the schema says.
public enum FieldState: Hashable, Sendable {
    case register(Register)
    case set(AddWinsSet)

    /// Which kind of field this is.
    public var kind: FieldKind {
        switch self {
        case .register: return .register
        case .set: return .set
        }
    }

    /// Every stamp in the field: the writes it holds.
    public var stamps: [Stamp] {
        switch self {
        case let .register(register): return register.entries.map(\.stamp)
        case let .set(set): return set.elements.flatMap(\.stamps)
        }
    }
}

/// A named field of a record.
public struct RecordField: Hashable, Sendable {
    public let name: String
    public internal(set) var state: FieldState

    public init(name: String, state: FieldState) {
        self.name = name
        self.state = state
    }
}
