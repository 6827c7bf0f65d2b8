/// A field of a record that holds concurrent writes a person must choose between.
public struct Conflict: Hashable, Sendable {
    /// Why the field is in conflict.
    public enum Kind: String, Hashable, Sendable {
        /// Two or more different values were written concurrently.
        case concurrentValues = "concurrent_values"
        /// The record was deleted while someone else edited it (field `deleted`).
        case deleteVersusEdit = "delete_versus_edit"
    }

    /// One competing write: which field it wrote (for a delete conflict, the edited field or
    /// `deleted`), where and when, and what.
    public struct Side: Hashable, Sendable {
        /// The field the write touched: the conflicted field, or in a delete conflict `deleted` or an
        /// edited field.
        public let field: String
        /// The write's dot and wall-clock time, shown to the person resolving the conflict.
        public let stamp: Stamp
        /// What the write holds: the value written, the set element added, or a tombstone's `true`/`false`.
        public let value: FieldValue
    }

    /// The field to name when resolving: a register field, or `deleted`.
    public let field: String
    /// Whether the sides are concurrent values or a delete against edits.
    public let kind: Kind
    /// The competing writes, sorted by dot.
    public let sides: [Side]
}

extension RecordState {
    /// Every conflict this state holds, sorted by field name.
    public var conflicts: [Conflict] {
        var result: [Conflict] = []
        for field in fields {
            guard case let .register(register) = field.state, register.isConflicted else { continue }
            result.append(Conflict(field: field.name, kind: .concurrentValues, sides: register.entries.map {
                Conflict.Side(field: field.name, stamp: $0.stamp, value: $0.value)
            }))
        }
        if let deletionConflict { result.append(deletionConflict) }
        return result.sorted { $0.field < $1.field }
    }

    /// Whether any field is in conflict (cheaper than building the list).
    public var hasConflicts: Bool {
        table.slots.contains { table.isConflicted($0) } || deletionConflict != nil
    }

    private var deletionConflict: Conflict? {
        let deletes = deletion.filter(\.deleted)
        guard !deletes.isEmpty else { return nil }
        let marks = deletion.map { Conflict.Side(field: RecordSchema.deletedField, stamp: $0.stamp, value: .boolean($0.deleted)) }
        if deletes.count != deletion.count {
            return Conflict(field: RecordSchema.deletedField, kind: .concurrentValues, sides: marks)
        }
        var edits: [Conflict.Side] = []
        for field in fields {
            switch field.state {
            case let .register(register):
                for entry in register.entries where deletes.contains(where: { !$0.seen.contains(entry.dot) }) {
                    edits.append(Conflict.Side(field: field.name, stamp: entry.stamp, value: entry.value))
                }
            case let .set(set):
                for element in set.elements {
                    for stamp in element.stamps where deletes.contains(where: { !$0.seen.contains(stamp.dot) }) {
                        edits.append(Conflict.Side(field: field.name, stamp: stamp, value: .text(element.value)))
                    }
                }
            }
        }
        guard !edits.isEmpty else { return nil }
        return Conflict(field: RecordSchema.deletedField, kind: .deleteVersusEdit, sides: (marks + edits).sorted { ($0.stamp, $0.field) < ($1.stamp, $1.field) })
    }
}
