import SyncModel

/// A user of the sync node.
public struct UserAccount: Hashable, Sendable {
    public let name: String
    public let role: Role
    public let disabled: Bool

    public init(name: String, role: Role, disabled: Bool) {
        self.name = name
        self.role = role
        self.disabled = disabled
    }
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

    public init(id: DeviceID, name: String, user: UserAccount, secretHash: [UInt8], revoked: Bool, created: Int64) {
        self.id = id
        self.name = name
        self.user = user
        self.secretHash = secretHash
        self.revoked = revoked
        self.created = created
    }
}

/// One audit event to record: who, which device, what, and which record ids — never
/// record contents.
public struct AuditEvent: Sendable {
    public var action: String
    public var user: String?
    public var device: DeviceID?
    public var records: [RecordID]
    /// Milliseconds since the Unix epoch.
    public var at: Int64

    public init(_ action: String, user: String?, device: DeviceID?, records: [RecordID], at: Int64) {
        self.action = action
        self.user = user
        self.device = device
        self.records = records
        self.at = at
    }
}

/// One line of the audit log as it is read back.
public struct AuditEntry: Hashable, Sendable {
    public let at: Int64
    public let user: String?
    public let device: String?
    public let action: String
    public let count: Int
    /// JSON array of record ids.
    public let records: String

    public init(at: Int64, user: String?, device: String?, action: String, count: Int, records: String) {
        self.at = at
        self.user = user
        self.device = device
        self.action = action
        self.count = count
        self.records = records
    }
}
