/// One value written to a register, with the stamp of the write.
public struct RegisterEntry: Hashable, Sendable {
    /// The write that put this value here: its dot and the writer's wall-clock time.
    public let stamp: Stamp
    /// What that write stored; checked against the field's value type when a state is validated.
    public let value: FieldValue

    /// Pairs a value with the stamp of the write that made it; nothing is checked here.
    public init(stamp: Stamp, value: FieldValue) {
        self.stamp = stamp
        self.value = value
    }

    /// The dot of the write, which identifies this entry in a merge (unique within a register).
    public var dot: Dot { stamp.dot }
}

/// A multi-value register: a single-valued field that keeps every concurrent write.
///
/// A local write replaces all entries with one new entry (it has seen them all). Merge keeps
/// entries the other side has not seen, so concurrent writes survive side by side until a
/// write that has seen all of them replaces them. Invariant: at least one entry, sorted by
/// dot, dots unique.
public struct Register: Hashable, Sendable {
    /// The surviving writes, sorted by dot: normally one, several while concurrent writes coexist.
    public internal(set) var entries: SmallArray<RegisterEntry>

    /// A register of `entries`, sorted here by dot; traps when `entries` is empty.
    public init(entries: [RegisterEntry]) {
        precondition(!entries.isEmpty, "a register holds at least one entry")
        self.entries = SmallArray(entries.sorted { $0.dot < $1.dot })
    }

    init(sortedEntries: SmallArray<RegisterEntry>) { entries = sortedEntries }

    /// The distinct values held, in canonical value order.
    public var values: [FieldValue] {
        if entries.count == 1 { return [entries[0].value] }
        var distinct: [FieldValue] = []
        for entry in entries where !distinct.contains(entry.value) { distinct.append(entry.value) }
        return distinct.sorted()
    }

    /// Two or more different values survive: a conflict a person must resolve. The same
    /// value written concurrently on two devices is not a conflict.
    public var isConflicted: Bool {
        guard entries.count > 1 else { return false }
        let first = entries[0].value
        return entries.dropFirst().contains { $0.value != first }
    }

    /// The value to show: the only one, or while in conflict the one written last by wall
    /// clock (ties broken by dot) — shown with a conflict marker, never silently chosen.
    public var displayValue: FieldValue {
        var latest = entries[0]
        for entry in entries.dropFirst() where (latest.stamp.time, latest.dot) < (entry.stamp.time, entry.dot) {
            latest = entry
        }
        return latest.value
    }
}
