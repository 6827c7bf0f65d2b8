/// A write that deletes (`deleted == true`) or restores (`false`) a record: its tombstone.
///
/// Deletion is a register of its own, so a delete never erases field values: a delete
/// concurrent with an edit leaves both visible as a conflict. `seen` is the record's version
/// vector when the mark was written (its own dot included); an edit whose dot it lacks
/// happened concurrently with, or after, the delete. Invariant: `seen.contains(dot)`.
public struct DeletionMark: Hashable, Sendable, Dotted {
    public let stamp: Stamp
    public let deleted: Bool
    public let seen: VersionVector

    public init(stamp: Stamp, deleted: Bool, seen: VersionVector) {
        self.stamp = stamp
        self.deleted = deleted
        self.seen = seen
    }

    public var dot: Dot { stamp.dot }

    /// Canonical tie-break for two marks claiming one dot (an invalid history).
    static func precedes(_ lhs: DeletionMark, _ rhs: DeletionMark) -> Bool {
        if lhs.deleted != rhs.deleted { return !lhs.deleted }
        if lhs.stamp.time != rhs.stamp.time { return lhs.stamp.time < rhs.stamp.time }
        return lhs.seen.description < rhs.seen.description
    }
}
