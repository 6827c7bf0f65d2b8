import SyncModel

/// The time after a restore during which a node takes back, from the devices that hold
/// them, writes of other devices it lost (PROTOCOL.md, "Restore").
public struct RestoreWindow: Sendable, Hashable {
    /// Milliseconds since the Unix epoch.
    public let until: Int64
    /// The device ids the node wrote under before its restores: its own lost writes come
    /// back under them.
    public let formerNodes: Set<DeviceID>
    /// The highest write counter of each device before the restore: a relayed write above it
    /// is not one the node lost, and is refused (a forged counter of 2^53 would otherwise
    /// stop that device from ever writing again). Nil when the replaced database was not at
    /// hand (`--accounts-as-of-backup`): relays are then not bounded by counter.
    public let relayLimits: [DeviceID: Int]?

    /// A window open until `until`, for the node's `formerNodes`, bounded by `relayLimits` (nil: unbounded).
    public init(until: Int64, formerNodes: Set<DeviceID>, relayLimits: [DeviceID: Int]?) {
        self.until = until
        self.formerNodes = formerNodes
        self.relayLimits = relayLimits
    }

    /// Whether `dot`, a write of another device the node lacks, may come back in this window: only a
    /// write of a device in `writers` (those enrolled for a case-writing role) or of a former node id,
    /// and, when `relayLimits` is known, at a counter the node had reached for that device before the
    /// restore.
    public func mayRelay(_ dot: Dot, writers: Set<DeviceID>) -> Bool {
        guard writers.contains(dot.device) || formerNodes.contains(dot.device) else { return false }
        guard let relayLimits else { return true }
        return dot.counter <= relayLimits[dot.device] ?? 0
    }
}
