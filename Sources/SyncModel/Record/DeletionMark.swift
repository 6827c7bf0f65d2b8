/// A write that deletes (`deleted == true`) or restores (`false`) a record: its tombstone.
///
/// Deletion is a register of its own, so a delete never erases field values: a delete
/// concurrent with an edit leaves both visible as a conflict. `seen` is the record's version
/// vector when the mark was written (its own dot included); an edit whose dot it lacks
/// happened concurrently with, or after, the delete. Invariant: `seen.contains(dot)`.
public struct DeletionMark: Hashable, Sendable, Dotted {
    /// The delete or restore write: its dot and wall-clock time.
    public let stamp: Stamp
    /// `true` for a delete, `false` for a restore.
    public let deleted: Bool
    /// The record's version vector right after this write, its own dot included.
    public let seen: VersionVector

    /// A mark from its parts; nothing is checked here (validation checks the invariant above).
    public init(stamp: Stamp, deleted: Bool, seen: VersionVector) {
        self.stamp = stamp
        self.deleted = deleted
        self.seen = seen
    }

    /// The dot of the write, which identifies the mark in the tombstone register.
    public var dot: Dot { stamp.dot }

    /// Canonical tie-break for two marks claiming one dot (an invalid history).
    static func precedes(_ lhs: DeletionMark, _ rhs: DeletionMark) -> Bool {
        if lhs.deleted != rhs.deleted { return !lhs.deleted }
        if lhs.stamp.time != rhs.stamp.time { return lhs.stamp.time < rhs.stamp.time }
        return lhs.seen.description < rhs.seen.description
    }
}
