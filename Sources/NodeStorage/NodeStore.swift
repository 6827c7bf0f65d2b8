import SyncModel
import SyncProtocol

/// The sync node's storage: its records and change sequence, users, devices, enrollment
/// tokens, case access and audit log, behind one API with one implementation per database
/// (SQLite in the data folder: `SQLiteNodeStore` in SyncStore).
///
/// The node's rules stay out of the store: `applyPush` calls `PushRules` inside its write
/// transaction, and the server (`SyncNode`) decides roles, scopes and errors. Every method
/// is asynchronous and must not block a thread of Swift's cooperative pool while it waits
/// for the database (on two cores the pool has two threads).
///
/// Invariants every implementation keeps:
/// - a push is applied whole or not at all, and is durable when `applyPush` returns;
/// - every record whose stored state changes gets the next change sequence number, above
///   every number given before (also across a restore), so a pull cursor never skips one;
/// - access rows change only as `PushRules.accessChange` says, in the push's transaction.
public protocol NodeStore: Sendable {
    /// The node's generation, restore window and backup mark.
    func nodeState(at time: Int64) async throws -> NodeState

    // MARK: Records

    /// Merges a validated push in one transaction (see `PushRules`), records it in the audit
    /// log, and returns each record's answer. Throws `NodeError` and stores nothing when a
    /// rule refuses any record.
    func applyPush(_ push: NodePush) async throws -> PushOutcome

    /// At most `limit` records `user` may hold, after the cursor: delivery sequence above
    /// `since`, or equal to it with a change sequence above `after`. A record's delivery
    /// sequence is its change sequence, or for a mediator the sequence at which they gained
    /// access to its case if that is later (a mediator added to a case gets its whole
    /// history). Supervisors see every record. The page also carries what the user's
    /// devices must drop (`PulledRecords.drops`), recorded by `applyPush` when a change took
    /// a right away (`HoldingRule.lostHolders`, removed mediators), and the break-glass
    /// grants the user is told of. A supervisor's open break-glass grants count as being one
    /// of the case's mediators (caucus notes aside); the case record of a restricted case a
    /// supervisor may not hold is served `metadataOnly`. Grants of `user` whose time is up at
    /// `time` end first (`endExpiredGrants`).
    func pullPage(for user: UserAccount, since: Int, after: Int?, limit: Int, at time: Int64) async throws -> PulledRecords

    /// Records that `device` has been told of every drop up to `since` (it asked for a pull
    /// from there); kept as the highest such cursor.
    func markTold(_ device: DeviceID, through since: Int) async throws

    /// At most `limit` records (of `type`, if given) changed after `since`, in change order.
    func exportPage(type: RecordType?, since: Int, limit: Int) async throws -> [(seq: Int, state: RecordState)]

    /// The stored states of those of `ids` the node holds (reporting looks up the parties
    /// feedback names, to honour their consent to share).
    func records(_ ids: [RecordID]) async throws -> [RecordID: RecordState]

    /// The outcome summary over every live case (and its actions and feedback), reading one
    /// record at a time.
    func summary(_ summary: ReportSummary, today: String) async throws -> ReportSummary

    /// Removes case `idOrReference` (its id or reference) and every record of it from the
    /// node, for good, in one transaction with its audit entry (ids only): keeps a purge
    /// marker so that a push of any of its records is refused (`purged`), and tells every
    /// device that may hold it to drop it. With `closedBefore` (retention), only if the case
    /// is still closed on a day before it, checked in the purge's transaction (`refused`
    /// otherwise). Throws `NodeError`: `not_found` for no such case.
    func purgeCase(_ idOrReference: String, reason: String, at time: Int64, closedBefore: String?) async throws -> CasePurge

    /// The live cases whose status is `closed` and whose `closed` date is before `date`
    /// (`YYYY-MM-DD`), oldest first: what `casesyncd retention --closed-before` purges.
    func casesClosed(before date: String) async throws -> [ClosedCase]

    /// Grants supervisor `user` break-glass access to case `idOrReference` (its id or
    /// reference) for `duration` milliseconds from `time` (PROTOCOL.md §13.5), in one
    /// transaction with its audit entry (`break-glass`, with the reason): until it ends the
    /// user holds what the case's mediators hold, caucus notes aside. Throws `NodeError`:
    /// `not_found` for no such case (or a deleted or purged one), `exists` when the user is
    /// one of its mediators or has an open grant to it already.
    func grantAccess(_ idOrReference: String, to user: UserAccount, device: DeviceID, reason: String,
                     lasting duration: Int64, at time: Int64) async throws -> AccessGrant

    /// Ends every break-glass grant whose time is up at `time`: each end takes a change
    /// sequence number, and the supervisor's devices are told to drop what it gave them
    /// (reason `access-ended`). Returns how many ended. (A pull or push of the supervisor
    /// ends theirs first; this is for everyone's at once.)
    func endExpiredGrants(at time: Int64) async throws -> Int

    /// Every break-glass grant the node has made, oldest first (`casesyncd access list`).
    func accessGrants() async throws -> [AccessGrant]

    // MARK: Accounts

    /// Adds an enabled user with `role` at `time` (milliseconds since the Unix epoch). Throws `NodeError`:
    /// `bad_parameter` for a name that is not a user name, `exists` for a name already taken.
    func addUser(_ name: String, role: Role, at time: Int64) async throws -> UserAccount
    /// Every user, disabled ones too (`casesyncd user list`).
    func users() async throws -> [UserAccount]
    /// Disables a user at `time`: from their devices' next request on, each must erase its
    /// case data (`DeviceWipe`; with `deliverFirst`, after pushing what it has queued) and is
    /// then refused.
    func disableUser(_ name: String, at time: Int64, deliverFirst: Bool) async throws
    /// Enables a disabled user again at `time`, with its audit entry. Devices already asked
    /// to erase stay so (a wipe is never taken back); the user enrolls new ones.
    func enableUser(_ name: String, at time: Int64) async throws
    /// Changes a user's role at `time`, with its audit entry. Refused (`bad_parameter`) while the
    /// user has a device that may still hold case data: what a device holds follows the
    /// role it pulled with, so its devices are wiped or revoked first and enrolled again.
    func setRole(_ name: String, to role: Role, at time: Int64) async throws -> UserAccount
    /// Stores a one-time enrollment token (its hash) for `user`, valid until `expires`.
    func addEnrollment(user: String, tokenHash: [UInt8], expires: Int64, lease: Int64, at time: Int64) async throws
    /// Redeems a token and binds `device` to its user, in one transaction with its audit
    /// entry: the token must be known, unused and unexpired, the user enabled, the device new.
    func enroll(tokenHash: [UInt8], device: DeviceID, name: String, secretHash: [UInt8], at time: Int64) async throws -> UserAccount
    /// The device `id` with its user, or nil.
    func device(_ id: DeviceID) async throws -> DeviceAccount?
    /// Every enrolled device with its user, revoked ones too (`casesyncd device list`).
    func devices() async throws -> [DeviceAccount]
    /// Revokes the device named by `idOrName` (its id, or else its name if only one device
    /// has it): refused from its next request on; with `wipeAt`, first told to erase its case
    /// data. Returns the device as it was before.
    func revokeDevice(_ idOrName: String, wipeAt: Int64?, at time: Int64) async throws -> DeviceAccount
    /// Records that `device` erased its case data, as the node asked, at `time`, with its
    /// audit entry. Throws `NodeError` (`forbidden`) when no wipe was pending.
    func confirmWipe(_ device: DeviceID, at time: Int64) async throws

    // MARK: Directory

    /// What devices are told of the node's devices, users and sites (PROTOCOL.md §15), with
    /// the directory's version number: it grows in the transaction of every change to them,
    /// and each pull page carries it (`PulledRecords.directoryVersion`).
    func directory() async throws -> (directory: NodeDirectory, version: Int)
    /// The directory's version number alone: one small read.
    func directoryVersion() async throws -> Int
    /// Adds a site at `time`, with its audit entry. Throws `NodeError`: `bad_parameter` for a
    /// name that is not a site's name (`NodeDirectory.siteNameProblem`), `exists` for a name
    /// the node has already (compared without regard to ASCII case).
    func addSite(_ name: String, at time: Int64) async throws
    /// Removes a site at `time`, with its audit entry; cases that name it keep their value.
    /// Returns the site as the node spelled it. Throws `NodeError` (`not_found`) for a site
    /// the node does not have.
    @discardableResult
    func removeSite(_ name: String, at time: Int64) async throws -> String
    /// The node's sites, in alphabetical order (`casesyncd site list`).
    func sites() async throws -> [String]

    // MARK: Audit

    /// Appends to the audit log; returns once the entry is durable.
    func appendAudit(_ event: AuditEvent) async throws
    /// Audit entries, newest first.
    func auditLog(limit: Int) async throws -> [AuditEntry]
    /// Audit entries matching `filter`, oldest first; a case matches the entries naming it
    /// or any record of it.
    func auditEntries(_ filter: AuditFilter) async throws -> [AuditEntry]
    /// Checks the audit log's hash chain (`AuditChain`) from its first entry, and with
    /// `anchor` that it passes through that entry with that hash.
    func verifyAudit(anchor: (id: Int64, hash: [UInt8])?) async throws -> AuditVerification
}
