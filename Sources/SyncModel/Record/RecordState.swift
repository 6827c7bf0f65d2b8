/// The full state of one record as replicas store and exchange it.
///
/// A state is a join-semilattice element: `merged(with:)` is commutative, associative and
/// idempotent, so replicas that have received the same writes hold byte-identical states
/// whatever the order, duplication or delay of delivery. Invariants (checked by `validate`):
/// fields sorted by name and non-empty; every stamp's dot is covered by `version`; no dot
/// appears twice within one field.
public struct RecordState: Hashable, Sendable {
    /// The record's collection; never changes, and merging states of two types fails.
    public let type: RecordType
    /// The record's id; never changes once the record exists (merge requires equal ids).
    public let id: RecordID
    /// Every write to this record this state has seen.
    public internal(set) var version: VersionVector
    /// The fields, stored flat (see `FieldTable`).
    var table: FieldTable
    /// The tombstone register; empty for a record never deleted.
    public internal(set) var deletion: [DeletionMark]

    /// An empty state: the record as known to a replica that has seen none of its writes.
    public init(type: RecordType, id: RecordID) {
        self.type = type
        self.id = id
        version = VersionVector()
        table = FieldTable()
        deletion = []
    }

    /// A state from its parts; fields are sorted here. Call `validate()` on anything untrusted.
    public init(type: RecordType, id: RecordID, version: VersionVector, fields: [RecordField], deletion: [DeletionMark] = []) {
        self.type = type
        self.id = id
        self.version = version
        var builder = FieldTableBuilder(expectedWrites: fields.count)
        for field in fields { builder.append(field) }
        table = builder.finish()
        self.deletion = deletion.sorted { $0.dot < $1.dot }
    }

    /// Fields holding at least one value, sorted by name.
    public var fields: [RecordField] { table.fields }

    /// The state of field `name`, if it holds anything.
    public func field(_ name: String) -> FieldState? {
        table.slotIndex(named: name).map { table.fieldState(of: table.slots[$0]) }
    }

    /// The register of field `name`, if it is a register holding a value.
    public func register(_ name: String) -> Register? {
        if case let .register(register)? = field(name) { return register }
        return nil
    }

    /// The set of field `name`; empty when nothing was ever added.
    public func set(_ name: String) -> AddWinsSet {
        if case let .set(set)? = field(name) { return set }
        return AddWinsSet(sortedElements: [])
    }

    /// The members of set field `name` in canonical order (`set(name).members`, without
    /// building the set).
    public func members(_ name: String) -> [String] {
        guard let index = table.slotIndex(named: name), table.slots[index].isSet else { return [] }
        let slot = table.slots[index]
        var members: [String] = []
        var start = slot.writeStart
        while start < slot.writeEnd {
            members.append(table.string(table.writes[start].textRange))
            start = table.elementEnd(from: start, in: slot)
        }
        return members
    }

    /// The value to show for register `name` (see `Register.displayValue`).
    public func value(_ name: String) -> FieldValue? {
        guard let index = table.slotIndex(named: name) else { return nil }
        let slot = table.slots[index]
        guard !slot.isSet, slot.writeCount > 0 else { return nil }
        return table.value(of: table.displayWrite(of: slot))
    }

    /// The text to show for register `name`.
    public func text(_ name: String) -> String? {
        value(name)?.description
    }

    /// The case this record belongs to: its own id for a case, its `case` field otherwise.
    public var caseID: RecordID? {
        if type == .case { return id }
        guard case let .text(raw)? = value("case") else { return nil }
        return RecordID.parse(raw)
    }

    /// Whether a surviving tombstone says deleted. A delete in conflict still counts as
    /// deleted (hidden from lists) but is reported by `conflicts`.
    public var isDeleted: Bool {
        deletion.contains { $0.deleted }
    }

    /// Whether any write to this record has been seen.
    public var isEmpty: Bool { version.isEmpty }

    /// The latest wall-clock time of any write this state holds (for "last changed" displays).
    public var lastChanged: Int64 {
        var latest: Int64 = 0
        for write in table.writes { latest = max(latest, write.time) }
        for mark in deletion { latest = max(latest, mark.stamp.time) }
        return latest
    }

    /// Equal when type, id, version, tombstones and field writes are equal, however they are stored.
    public static func == (lhs: RecordState, rhs: RecordState) -> Bool {
        lhs.type == rhs.type && lhs.id == rhs.id && lhs.version == rhs.version && lhs.deletion == rhs.deletion
            && lhs.table.holdsSameWrites(as: rhs.table)
    }

    /// Hashes what `==` compares, the field writes included.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(id)
        hasher.combine(version)
        hasher.combine(deletion)
        table.hashWrites(into: &hasher)
    }
}
