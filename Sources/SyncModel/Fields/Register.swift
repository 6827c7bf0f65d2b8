/// One value written to a register, with the stamp of the write.
public struct RegisterEntry: Hashable, Sendable {
    public let stamp: Stamp
    public let value: FieldValue

    public init(stamp: Stamp, value: FieldValue) {
        self.stamp = stamp
        self.value = value
    }

    public var dot: Dot { stamp.dot }
}

/// A multi-value register: a single-valued field that keeps every concurrent write.
///
/// A local write replaces all entries with one new entry (it has seen them all). Merge keeps
/// entries the other side has not seen, so concurrent writes survive side by side until a
/// write that has seen all of them replaces them. Invariant: at least one entry, sorted by
/// dot, dots unique.
public struct Register: Hashable, Sendable {
    public internal(set) var entries: SmallArray<RegisterEntry>

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
