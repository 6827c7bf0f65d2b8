import SyncModel

/// A user of the sync node.
public struct UserAccount: Hashable, Sendable {
    public let name: String
    public let role: Role
    public let disabled: Bool
}

/// An enrolled device and the user it acts for.
public struct DeviceAccount: Hashable, Sendable {
    public let id: DeviceID
    public let name: String
    public let user: UserAccount
    /// SHA-256 of the device secret.
    public let secretHash: [UInt8]
    public let revoked: Bool
    public let created: Int64
}
