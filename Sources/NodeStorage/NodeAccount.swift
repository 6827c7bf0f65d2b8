import SyncModel

/// A user of the sync node.
public struct UserAccount: Hashable, Sendable {
    /// The user's name (1-64 characters of a-z, 0-9, '.', '_', '-'), as `mediators` sets name them.
    public let name: String
    /// What the user may do: mediator, supervisor, reporter or admin.
    public let role: Role
    /// Set by `casesyncd user disable`: every device of the user is refused (401 `disabled`).
    public let disabled: Bool

    /// A user as the store holds it.
    public init(name: String, role: Role, disabled: Bool) {
        self.name = name
        self.role = role
        self.disabled = disabled
    }
}

/// An enrolled device and the user it acts for.
public struct DeviceAccount: Hashable, Sendable {
    /// The device id the device made at `casesync init`, bound to the user at enrollment.
    public let id: DeviceID
    /// The device name given at enrollment (`ann-laptop`), for people and `casesyncd device list`.
    public let name: String
    /// The user the device acts for, as stored now (its role and disabled flag included).
    public let user: UserAccount
    /// SHA-256 of the device secret.
    public let secretHash: [UInt8]
    /// Set by `casesyncd device revoke`: the device is refused from its next request on (401 `revoked`).
    public let revoked: Bool
    /// When the device enrolled, in milliseconds since the Unix epoch.
    public let created: Int64
    /// The highest pull cursor (`since`) the device asked from that had passed a drop of its
    /// user's: it has been told of every drop up to there. Writes it made to records it lost
    /// at a later sequence were made before it knew, and are taken (`PushRules`, late writes).
    public let toldThrough: Int
    /// Set when the node asked the device to erase its case data (PROTOCOL.md §13.3).
    public let wipe: DeviceWipe?
    /// The offline lease, in seconds (PROTOCOL.md §19): how long the device may go without
    /// reaching the node before it locks its case data until it syncs.
    public let lease: Int64
    /// When the device last reached the node (its latest audited request), in milliseconds
    /// since the Unix epoch; only `devices()` fills it in.
    public private(set) var lastSeen: Int64?

    /// This account with its last contact.
    public func seen(at time: Int64?) -> DeviceAccount {
        var copy = self
        copy.lastSeen = time
        return copy
    }

    /// A device account as the store holds it.
    public init(id: DeviceID, name: String, user: UserAccount, secretHash: [UInt8], revoked: Bool, created: Int64, toldThrough: Int = 0, wipe: DeviceWipe? = nil,
                lease: Int64 = DeviceAccount.defaultLease) {
        self.id = id
        self.name = name
        self.user = user
        self.secretHash = secretHash
        self.revoked = revoked
        self.created = created
        self.toldThrough = toldThrough
        self.wipe = wipe
        self.lease = lease
    }

    /// The lease `casesyncd enroll` gives without `--lease`: 30 days.
    public static let defaultLease: Int64 = 30 * 86_400
}

/// An erasure the node asked of a device: by `casesyncd device revoke --wipe`, or for every
/// device of a user by `casesyncd user disable`.
public struct DeviceWipe: Hashable, Sendable {
    /// When it was asked, in milliseconds since the Unix epoch.
    public let requested: Int64
    /// Whether the device may first push what it has queued (a disabled user's device, not
    /// a lost one): then only its pushes are taken until it has erased its data.
    public let deliverFirst: Bool
    /// When the device said it had erased its case data; nil while pending. After that it is
    /// refused like any revoked device.
    public let confirmed: Int64?

    /// A wipe as the store holds it.
    public init(requested: Int64, deliverFirst: Bool, confirmed: Int64?) {
        self.requested = requested
        self.deliverFirst = deliverFirst
        self.confirmed = confirmed
    }

    /// Whether the device has yet to erase its data.
    public var isPending: Bool { confirmed == nil }
}

/// One audit event to record: who, which device, what, and which record ids — never
/// record contents.
public struct AuditEvent: Sendable {
    /// What happened: `enroll`, `push`, `relay`, `pull`, `restore`, …
    public var action: String
    /// The name of the user who acted; nil when no user did.
    public var user: String?
    /// The device that acted; nil when no device did.
    public var device: DeviceID?
    /// The ids of the records concerned (empty for none); never their contents.
    public var records: [RecordID]
    /// Milliseconds since the Unix epoch.
    public var at: Int64
    /// What the ids alone cannot say (why a login or push was refused); never case content.
    public var detail: String?

    /// An event to hand to `NodeStore.appendAudit`.
    public init(_ action: String, user: String?, device: DeviceID?, records: [RecordID], detail: String? = nil, at: Int64) {
        self.action = action
        self.user = user
        self.device = device
        self.records = records
        self.detail = detail
        self.at = at
    }
}

/// One line of the audit log as it is read back.
public struct AuditEntry: Hashable, Sendable {
    /// Its place in the log: ids rise by one from 1 (PROTOCOL.md §18).
    public let id: Int64
    /// When it happened, in milliseconds since the Unix epoch.
    public let at: Int64
    /// The name of the user who acted; nil when no user did.
    public let user: String?
    /// The id of the device that acted, as stored; nil when no device did.
    public let device: String?
    /// What happened: `enroll`, `push`, `relay`, `pull`, `restore`, …
    public let action: String
    /// How many record ids `records` holds.
    public let count: Int
    /// JSON array of record ids.
    public let records: String
    /// What the ids alone cannot say (a break-glass grant's reason); never case content.
    public let detail: String?

    /// An entry as read from the audit log.
    public init(id: Int64 = 0, at: Int64, user: String?, device: String?, action: String, count: Int, records: String, detail: String? = nil) {
        self.id = id
        self.at = at
        self.user = user
        self.device = device
        self.action = action
        self.count = count
        self.records = records
        self.detail = detail
    }
}
