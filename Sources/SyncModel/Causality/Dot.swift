/// The identity of one write: the device that made it and that device's counter at the time.
///
/// A device's counter grows by one with every local write, across all records, so a dot
/// names exactly one write anywhere in the system. Invariant: `counter >= 1`.
public struct Dot: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The replica that made the write.
    public let device: DeviceID
    /// That device's counter at the write, 1 … `maxCounter`; one counter serves all its records.
    public let counter: Int

    /// Largest counter accepted: 2^53 - 1, so every implementation can hold it in a JSON number.
    public static let maxCounter = 9_007_199_254_740_991

    /// A dot from its parts, unchecked; counters are checked when a state is read or validated.
    public init(device: DeviceID, counter: Int) {
        self.device = device
        self.counter = counter
    }

    /// `device:counter`, for logs and messages.
    public var description: String { "\(device.rawValue):\(counter)" }

    /// Canonical dot order: by device bytes, then by counter.
    public static func < (lhs: Dot, rhs: Dot) -> Bool {
        lhs.device == rhs.device ? lhs.counter < rhs.counter : lhs.device < rhs.device
    }
}

/// A dot with the writer's wall-clock time in milliseconds since the Unix epoch.
///
/// The time is shown to people ("changed on ann-laptop at 14:02") and never decides a merge.
public struct Stamp: Hashable, Comparable, Sendable {
    /// The write this stamp belongs to.
    public let dot: Dot
    /// The writer's wall-clock time, milliseconds since the Unix epoch (≥ 0 in a valid state).
    public let time: Int64

    /// A stamp for the write `dot` made at `time` (milliseconds since the Unix epoch).
    public init(dot: Dot, time: Int64) {
        self.dot = dot
        self.time = time
    }

    /// Shorthand for `init(dot:time:)` with the dot built from `device` and `counter`.
    public init(device: DeviceID, counter: Int, time: Int64) {
        self.init(dot: Dot(device: device, counter: counter), time: time)
    }

    /// Stamps order by dot; two stamps with the same dot are the same write.
    public static func < (lhs: Stamp, rhs: Stamp) -> Bool {
        lhs.dot == rhs.dot ? lhs.time < rhs.time : lhs.dot < rhs.dot
    }
}
