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
    /// The field's name as the schema spells it: its key in the state's `fields` JSON.
    public let name: String
    /// The field's values and their stamps: a register or a set, as the schema's kind says.
    public internal(set) var state: FieldState

    /// Pairs a name with a state; the schema is checked only when the record is validated.
    public init(name: String, state: FieldState) {
        self.name = name
        self.state = state
    }
}
