/// The writes a replica has seen of one record: for each device, the highest counter seen.
///
/// Because records travel as full states, a replica that has seen a device's write `n` to a
/// record has also seen all of that device's earlier writes to it; the highest counter per
/// device is therefore an exact summary. Stored as one `Dot` per device, sorted by device,
/// which is also its canonical JSON order. Invariant: devices unique and sorted, counters ≥ 1.
public struct VersionVector: Hashable, Sendable, CustomStringConvertible {
    /// The maximal dot per device, sorted by device.
    public private(set) var dots: [Dot]

    /// The vector that has seen nothing: the version of a record before any write.
    public static let empty = VersionVector()

    /// An empty vector, the same as `empty`.
    public init() { dots = [] }

    /// Builds a vector from any dots, keeping the highest counter per device.
    public init<S: Sequence>(_ dots: S) where S.Element == Dot {
        self.init()
        for dot in dots { record(dot) }
    }

    /// Already sorted, unique, positive; used by the JSON reader after checking.
    init(sortedUnique dots: [Dot]) { self.dots = dots }

    /// Highest counter of `device` seen, 0 when none.
    public subscript(device: DeviceID) -> Int {
        for dot in dots where dot.device == device { return dot.counter }
        return 0
    }

    /// Whether the write `dot` has been seen.
    @inlinable
    public func contains(_ dot: Dot) -> Bool {
        for entry in dots where entry.device == dot.device { return dot.counter <= entry.counter }
        return false
    }

    /// Whether no write has been seen (every device at counter 0).
    public var isEmpty: Bool { dots.isEmpty }

    /// Marks `dot` (and so every earlier write of its device) as seen.
    public mutating func record(_ dot: Dot) {
        var index = 0
        while index < dots.count, dots[index].device < dot.device { index += 1 }
        if index < dots.count, dots[index].device == dot.device {
            if dots[index].counter < dot.counter { dots[index] = dot }
        } else {
            dots.insert(dot, at: index)
        }
    }

    /// The least vector that has seen everything either side has seen.
    public func joined(with other: VersionVector) -> VersionVector {
        joined(with: other, order: compare(other))
    }

    /// `joined(with:)` for a caller that has compared the two already: `order` must be
    /// `compare(other)`.
    func joined(with other: VersionVector, order: CausalOrder) -> VersionVector {
        // When one side has seen everything (most merges), it is the join: no new array.
        switch order {
        case .equal, .after: return self
        case .before: return other
        case .concurrent: break
        }
        var result: [Dot] = []
        result.reserveCapacity(dots.count + other.dots.count)
        var left = 0
        var right = 0
        while left < dots.count || right < other.dots.count {
            let step = left == dots.count ? 1 : right == other.dots.count ? -1 : DeviceID.order(dots[left].device, other.dots[right].device)
            if step < 0 {
                result.append(dots[left]); left += 1
            } else if step > 0 {
                result.append(other.dots[right]); right += 1
            } else {
                result.append(dots[left].counter >= other.dots[right].counter ? dots[left] : other.dots[right])
                left += 1; right += 1
            }
        }
        return VersionVector(sortedUnique: result)
    }

    /// Compares what the two vectors have seen.
    public func compare(_ other: VersionVector) -> CausalOrder {
        var selfAhead = false
        var otherAhead = false
        var left = 0
        var right = 0
        while left < dots.count || right < other.dots.count {
            let step = left == dots.count ? 1 : right == other.dots.count ? -1 : DeviceID.order(dots[left].device, other.dots[right].device)
            if step < 0 {
                selfAhead = true; left += 1
            } else if step > 0 {
                otherAhead = true; right += 1
            } else {
                if dots[left].counter > other.dots[right].counter { selfAhead = true }
                if dots[left].counter < other.dots[right].counter { otherAhead = true }
                left += 1; right += 1
            }
        }
        switch (selfAhead, otherAhead) {
        case (false, false): return .equal
        case (false, true): return .before
        case (true, false): return .after
        case (true, true): return .concurrent
        }
    }

    /// Whether this vector has seen everything `other` has seen.
    public func dominates(_ other: VersionVector) -> Bool {
        let order = compare(other)
        return order == .equal || order == .after
    }

    /// `{device:counter, …}` in device order, for logs and messages.
    public var description: String {
        "{" + dots.map { "\($0.device.rawValue):\($0.counter)" }.joined(separator: ", ") + "}"
    }
}
