import Foundation
import Logging
import NodeStorage
import SyncModel
import SyncProtocol

/// The sync node's behaviour, independent of HTTP and of the database: enrollment,
/// authentication, roles, push (validate, then the store merges under `PushRules`), pull
/// (scoped pages) and audit. It throws `NodeError`; routes in `Application+build.swift` only
/// translate to and from the wire.
public struct SyncNode: Sendable {
    public let store: any NodeStore
    public let metrics: NodeMetrics
    public let logger: Logger
    /// Milliseconds since the Unix epoch; injected so tests control token expiry.
    public let now: @Sendable () -> Int64
    /// Changes only when the node is restored from a backup; sent with every answer
    /// (`CaseSync-Generation`) so devices notice a rewound node and start over.
    public let generation: String
    /// Set for a while after a restore: devices may bring back writes of other devices the
    /// node lost (PROTOCOL.md, "Restore").
    public let restoreWindow: RestoreWindow?
    /// Set when the database was written as a backup and not restored since.
    public let backupTaken: Int64?
    /// The directory as last encoded (`directoryAnswer`).
    let directoryCache = DirectoryCache()

    /// A node over `store`, whose generation and restore window it reads once.
    public init(store: any NodeStore, metrics: NodeMetrics = NodeMetrics(), logger: Logger = Logger(label: "casesyncd"),
                now: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1000) }) async throws {
        self.store = store
        self.metrics = metrics
        self.logger = logger
        self.now = now
        let state = try await store.nodeState(at: now())
        generation = state.generation
        restoreWindow = state.restoreWindow
        backupTaken = state.backupTaken
    }

    /// The restore window if it is still open at `time`.
    func restoreWindow(openAt time: Int64) -> RestoreWindow? {
        restoreWindow.flatMap { $0.until > time ? $0 : nil }
    }

    /// Whether the node takes back lost writes right now (its restore window is open).
    public var isRestoring: Bool { restoreWindow(openAt: now()) != nil }

    /// Creates a one-time enrollment token for `user`, valid for `ttl` seconds; the device it
    /// enrolls gets an offline lease of `lease` seconds (PROTOCOL.md §19).
    public func makeEnrollmentToken(for user: String, ttl: Int64, lease: Int64 = DeviceAccount.defaultLease) async throws -> String {
        let token = Secrets.make()
        let time = now()
        try await store.addEnrollment(user: user, tokenHash: Secrets.hash(token), expires: time + ttl * 1000, lease: lease, at: time)
        return token
    }

    /// What a device gets back from enrollment.
    public struct Enrollment: Sendable {
        public let device: DeviceID
        public let secret: String
        public let user: UserAccount
        /// The device's offline lease in seconds (PROTOCOL.md §19).
        public let lease: Int64
    }

    public func enroll(token: String, device: DeviceID, name: String) async throws -> Enrollment {
        // The node writes under its own `node-…` id; no device may take one.
        guard !device.rawValue.hasPrefix("node-") else {
            throw NodeError(.refused, "device ids starting with node- are reserved for sync nodes; run `casesync init` again to get a new id")
        }
        let secret = Secrets.make()
        let time = now()
        let user = try await store.enroll(tokenHash: Secrets.hash(token), device: device, name: name, secretHash: Secrets.hash(secret), at: time)
        logger.info("device enrolled", metadata: ["sync.device": "\(device)", "sync.user": "\(user.name)"])
        let lease = try await store.device(device)?.lease ?? DeviceAccount.defaultLease
        return Enrollment(device: device, secret: secret, user: user, lease: lease)
    }

    /// Checks `Authorization: Bearer DEVICE:SECRET`; revocation and disabled users take
    /// effect on the next request.
    public func authenticate(_ header: String?) async throws -> DeviceAccount {
        guard let header, header.hasPrefix("Bearer ") else { throw NodeError.unauthorised }
        let credential = header.dropFirst("Bearer ".count)
        guard let colon = credential.firstIndex(of: ":"), let id = try? DeviceID(String(credential[..<colon])) else { throw NodeError.unauthorised }
        let presented = Secrets.hash(String(credential[credential.index(after: colon)...]))
        guard let account = try await store.device(id) else {
            // Device ids are not secret (they name every write in the records), so saying the
            // id is unknown gives nothing away; it tells a device enrolled after the backup a
            // restored node came from what to do.
            throw NodeError(.unknownDevice, "this node does not know device \(id); if it was restored from a backup taken before this device enrolled, get a new token (`casesyncd enroll NAME`) and run `casesync enroll --again --server URL --token TOKEN`: queued changes are kept")
        }
        // Constant time: how much of a secret matched must not show in the answer's timing.
        guard Secrets.constantTimeEqual(presented, account.secretHash) else {
            throw await refusedLogin(account, NodeError.unauthorised, because: "wrong secret")
        }
        // A device asked to erase its case data is let in until it says it has done so, but
        // only to be told (`checkWipe`), and for a disabled user's device to deliver first.
        if account.wipe?.isPending == true { return account }
        guard !account.revoked else {
            throw await refusedLogin(account, NodeError(.revoked, "this device was revoked; enroll it again with a new token"), because: "revoked")
        }
        guard !account.user.disabled else {
            throw await refusedLogin(account, NodeError(.disabled, "user \(account.user.name) is disabled"), because: "user disabled")
        }
        // An erasure is never taken back: not by `user enable`, not by a role change.
        guard account.wipe?.confirmed == nil else {
            throw await refusedLogin(account, NodeError(.revoked, "this device erased its case data as the node asked and is no longer enrolled; make a new replica (`casesync init`) and enroll it"),
                                     because: "erased")
        }
        return account
    }

    /// Audits a refused login of a known device (PROTOCOL.md §18) and returns `error` to
    /// throw. Unknown device ids are not audited: anyone may send one, and the log must not
    /// grow at a stranger's pace (they are counted in the request metrics).
    private func refusedLogin(_ account: DeviceAccount, _ error: NodeError, because reason: String) async -> NodeError {
        try? await store.appendAudit(AuditEvent("login-refused", user: account.user.name, device: account.id, records: [], detail: reason, at: now()))
        return error
    }

    /// Refuses every request of a device with a pending wipe (403 `wipe`) but the one saying
    /// it is done, and, for a device that may deliver first, its pushes (PROTOCOL.md §13.3).
    public static func checkWipe(_ account: DeviceAccount, method: String, path: String) throws {
        guard let wipe = account.wipe, wipe.isPending else { return }
        if method == "POST" && path == APIRoutes.wiped { return }
        // (Not a revoked device: it delivers nothing, whatever happens to its user.)
        if method == "POST" && path == "/v1/sync/push" && wipe.deliverFirst && !account.revoked { return }
        throw NodeError(.wipe, "the node asks this device to erase its case data (\(account.user.disabled ? "its user was disabled" : "it was revoked")); `casesync sync` does it, then the device is refused")
    }

    /// Records that `account`'s device erased its case data as asked; from then on it is
    /// refused like a revoked device.
    public func confirmWipe(for account: DeviceAccount) async throws {
        try await store.confirmWipe(account.id, at: now())
        logger.notice("device erased its case data", metadata: ["sync.device": "\(account.id)", "sync.user": "\(account.user.name)"])
    }

    static func requireSyncRole(_ account: DeviceAccount) throws {
        guard account.user.role.syncsCases else {
            throw NodeError(.forbidden, "a \(account.user.role.rawValue) device may not push or pull case records")
        }
    }
}
