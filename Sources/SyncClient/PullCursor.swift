/// Where a device's pull stands: after every record of delivery sequence `delivery`, or —
/// when a page ended inside a delivery sequence (a granted case's whole history shares one)
/// — after the record with change sequence `after` in it.
///
/// Stored as text in the replica's settings: `"D"` or `"D:S"`. A cursor stored before pages
/// could split a delivery is a plain number and reads as `D` alone, which means the same.
public struct PullCursor: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The delivery sequence reached: all of it when `after` is nil.
    public let delivery: Int
    /// Inside delivery `delivery`, the change sequence of the last record served; nil when all
    /// of it was served.
    public let after: Int?

    /// A cursor after all of delivery `delivery`, or inside it after change sequence `after`.
    public init(delivery: Int, after: Int? = nil) {
        self.delivery = delivery
        self.after = after
    }

    /// Before every record: where a device's first pull starts.
    public static let start = PullCursor(delivery: 0)

    /// Reads the stored form; nil when it is not one.
    public init?(text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let delivery = Int(parts[0]), delivery >= 0 else { return nil }
        if parts.count == 2 {
            guard let after = Int(parts[1]), after >= 0 else { return nil }
            self.init(delivery: delivery, after: after)
        } else {
            self.init(delivery: delivery)
        }
    }

    /// The stored form.
    public var description: String { after.map { "\(delivery):\($0)" } ?? String(delivery) }

    /// Order of progress: inside a delivery (`after` set) comes before all of it (`after` nil).
    public static func < (lhs: PullCursor, rhs: PullCursor) -> Bool {
        if lhs.delivery != rhs.delivery { return lhs.delivery < rhs.delivery }
        switch (lhs.after, rhs.after) {
        case let (left?, right?): return left < right
        case (.some, nil): return true
        default: return false
        }
    }
}
