/// The follow-up rules of an agreed action (PROTOCOL.md §14): a move to `met` records the
/// completion day, a move away from `met` clears it, and each review is kept as one element
/// of the add-wins set `reviews`, so reviews made on two devices both survive a merge.
public enum ActionFollowUp {
    /// The statuses of an action that still needs doing.
    public static let unfinished: Set<String> = ["open", "in-progress"]

    /// `changes` completed with the completion date: `completed` becomes `date` (default
    /// today) on a move to `met`, and is cleared on a move from `met` to anything else.
    public static func withCompletion(_ changes: [FieldChange], currentStatus: String?, completed: String?, today: String) -> [FieldChange] {
        guard case let .set(_, .text(status))? = changes.last(where: { $0.field == "status" }), status != currentStatus,
              !changes.contains(where: { $0.field == "completed" }) else { return changes }
        if status == "met" { return changes + [.set("completed", .text(today))] }
        if completed != nil { return changes + [.clear("completed")] }
        return changes
    }

    /// One review as `reviews` holds it: `DATE STATUS` or `DATE STATUS: NOTE`, at most
    /// 1,000 bytes on one line (the schema's short text), so that it sorts by date.
    public static func reviewEntry(date: String, status: String, note: String?) -> String {
        guard let note, !note.isEmpty else { return "\(date) \(status)" }
        return "\(date) \(status): \(note)"
    }

    /// A review entry read back: its date, status and note (nil parts when the entry was
    /// written by hand in another shape).
    public static func review(_ entry: String) -> (date: String, status: String, note: String?)? {
        let parts = entry.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, CalendarText.isDate(String(parts[0])) else { return nil }
        let rest = parts[1]
        guard let colon = rest.firstIndex(of: ":") else { return (String(parts[0]), String(rest), nil) }
        let note = rest[rest.index(after: colon)...].drop { $0 == " " }
        return (String(parts[0]), String(rest[..<colon]), note.isEmpty ? nil : String(note))
    }
}
