import SyncModel

/// Who this replica is: its device id and name, and the last counter it used for a write.
public struct ReplicaInfo: Hashable, Sendable {
    /// The replica's device id, made at `casesync init` (a `node-…` id for the sync node).
    public let device: DeviceID
    /// The replica's name (`casesync init --device-name`; `sync node` for the node).
    public let name: String
    /// The counter of the last local write; the next write takes `counter + 1`.
    public let counter: Int
    /// When the replica was created, in milliseconds since the Unix epoch.
    public let created: Int64
}
