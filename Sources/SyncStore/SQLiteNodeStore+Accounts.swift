import Foundation
import GRDB
import NodeStorage
import SyncModel
import SyncProtocol

/// The sync node's users, devices, enrollment tokens and audit log. The administration
/// calls (`addUser`, `users`, `disableUser`, `addEnrollment`, `devices`, `revokeDevice`,
/// `auditLog`) are synchronous: only `casesyncd`'s commands make them, never a request the
/// server serves. What the server calls (`enroll`, `device`, `appendAudit`) never blocks a
/// thread while it waits for the database.
extension SQLiteNodeStore {
    /// See `NodeStore.addUser`. Synchronous: an administration call.
    public func addUser(_ name: String, role: Role, at time: Int64) throws -> UserAccount {
        guard DeviceID.isUserName(name) else {
            throw NodeError(.badParameter, "user name \"\(name.prefix(40))\" must be 1-64 characters of a-z, 0-9, '.', '_' or '-'")
        }
        return try writer.write { db in
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM user WHERE name = ?", arguments: [name]) == true {
                throw NodeError(.exists, "user \(name) already exists")
            }
            try db.execute(sql: "INSERT INTO user (name, role, created) VALUES (?, ?, ?)", arguments: [name, role.rawValue, time])
            try Self.directoryChanged(in: db)
            try Self.audit("user-added", user: name, device: nil, records: [], detail: role.rawValue, at: time, in: db)
            return UserAccount(name: name, role: role, disabled: false)
        }
    }

    /// See `NodeStore.users`: ordered by name. Synchronous: an administration call.
    public func users() throws -> [UserAccount] {
        try writer.read { db in try Self.users(in: db) }
    }

    /// Every user, ordered by name, inside the caller's transaction.
    static func users(in db: Database) throws -> [UserAccount] {
        try GRDB.Row.fetchAll(db, sql: "SELECT name, role, disabled FROM user ORDER BY name").map(Self.user)
    }

    /// See `NodeStore.disableUser`: every device of the user not yet asked to erase its
    /// data is asked now (revoked ones too: they may still hold case records).
    public func disableUser(_ name: String, at time: Int64, deliverFirst: Bool = true) throws {
        try writer.write { db in
            try db.execute(sql: "UPDATE user SET disabled = 1 WHERE name = ?", arguments: [name])
            guard db.changesCount == 1 else { throw NodeError(.notFound, "no user \(name); `casesyncd user list` shows them") }
            try Self.directoryChanged(in: db)
            try Self.audit("user-disabled", user: name, device: nil, records: [], detail: deliverFirst ? nil : "wipe", at: time, in: db)
            try db.execute(sql: "UPDATE device SET wipeRequested = ?, wipeDeliverFirst = ? WHERE user = ? AND wipeRequested IS NULL",
                           arguments: [time, deliverFirst, name])
            if !deliverFirst {
                // `--wipe` after a plain disable: the pending erasures stop taking pushes.
                try db.execute(sql: "UPDATE device SET wipeDeliverFirst = 0 WHERE user = ? AND wipeConfirmed IS NULL", arguments: [name])
            }
        }
    }

    /// See `NodeStore.enableUser`. Synchronous: an administration call.
    public func enableUser(_ name: String, at time: Int64) throws {
        try writer.write { db in
            guard let row = try GRDB.Row.fetchOne(db, sql: "SELECT name, role, disabled FROM user WHERE name = ?", arguments: [name]) else {
                throw NodeError(.notFound, "no user \(name.prefix(64)); `casesyncd user list` shows them")
            }
            guard Self.user(row).disabled else { throw NodeError(.exists, "user \(name) is already enabled") }
            try db.execute(sql: "UPDATE user SET disabled = 0 WHERE name = ?", arguments: [name])
            // The devices asked to erase when the user was disabled stay out for good.
            try db.execute(sql: "UPDATE device SET revoked = 1 WHERE user = ? AND wipeRequested IS NOT NULL", arguments: [name])
            try Self.directoryChanged(in: db)
            try Self.audit("user-enabled", user: name, device: nil, records: [], at: time, in: db)
        }
    }

    /// See `NodeStore.setRole`. Synchronous: an administration call.
    public func setRole(_ name: String, to role: Role, at time: Int64) throws -> UserAccount {
        try writer.write { db in
            guard let row = try GRDB.Row.fetchOne(db, sql: "SELECT name, role, disabled FROM user WHERE name = ?", arguments: [name]) else {
                throw NodeError(.notFound, "no user \(name.prefix(64)); `casesyncd user list` shows them")
            }
            let user = Self.user(row)
            guard user.role != role else { throw NodeError(.exists, "user \(name) is already a \(role.rawValue)") }
            let holding = try String.fetchAll(db, sql: "SELECT id FROM device WHERE user = ? AND revoked = 0 AND wipeConfirmed IS NULL ORDER BY id", arguments: [name])
            guard holding.isEmpty else {
                throw NodeError(.badParameter, "\(name) has \(holding.count) device\(holding.count == 1 ? "" : "s") that may hold case data as a \(user.role.rawValue) (\(holding.joined(separator: ", "))); revoke them with `casesyncd device revoke ID --wipe` (or `casesyncd user disable \(name)` and wait for the erasures), then change the role and enroll again")
            }
            try db.execute(sql: "UPDATE user SET role = ? WHERE name = ?", arguments: [role.rawValue, name])
            try Self.directoryChanged(in: db)
            try Self.audit("role-changed", user: name, device: nil, records: [], detail: "\(user.role.rawValue) to \(role.rawValue)", at: time, in: db)
            return UserAccount(name: name, role: role, disabled: user.disabled)
        }
    }

    /// Stores a one-time enrollment token (its hash) for `user`, valid until `expires`.
    public func addEnrollment(user: String, tokenHash: [UInt8], expires: Int64, lease: Int64, at time: Int64) throws {
        try writer.write { db in
            guard let row = try GRDB.Row.fetchOne(db, sql: "SELECT name, role, disabled FROM user WHERE name = ?", arguments: [user]) else {
                throw NodeError(.notFound, "no user \(user); add one with `casesyncd user add \(user) --role mediator`")
            }
            guard !Self.user(row).disabled else { throw NodeError(.refused, "user \(user) is disabled") }
            try db.execute(sql: "INSERT INTO enrollment (tokenHash, user, expires, lease) VALUES (?, ?, ?, ?)", arguments: [Data(tokenHash), user, expires, lease])
            try Self.audit("token-issued", user: user, device: nil, records: [], detail: "lease \(lease)s", at: time, in: db)
        }
    }

    /// Redeems a token and binds `device` to its user, in one transaction with its audit
    /// entry: the token must be known, unused and unexpired, the user enabled, and the device
    /// id new. Asynchronous, as everything the node's routes call: a synchronous database
    /// call would block one of the few threads of Swift's cooperative pool.
    public func enroll(tokenHash: [UInt8], device: DeviceID, name: String, secretHash: [UInt8], at time: Int64) async throws -> UserAccount {
        try await writer.write { db in
            guard let row = try GRDB.Row.fetchOne(db, sql: """
                SELECT user.name, user.role, user.disabled, enrollment.expires, enrollment.used, enrollment.lease
                FROM enrollment JOIN user ON user.name = enrollment.user WHERE enrollment.tokenHash = ?
                """, arguments: [Data(tokenHash)]) else {
                throw NodeError(.refused, "unknown enrollment token; ask an administrator for a new one (`casesyncd enroll NAME`)")
            }
            let user = Self.user(row)
            guard !(row["used"] as Bool) else { throw NodeError(.refused, "this enrollment token was already used; ask for a new one") }
            guard (row["expires"] as Int64) > time else { throw NodeError(.refused, "this enrollment token has expired; ask for a new one") }
            guard !user.disabled else { throw NodeError(.refused, "user \(user.name) is disabled") }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM device WHERE id = ?", arguments: [device.rawValue]) == true {
                throw NodeError(.exists, "device \(device) is already enrolled; a device enrolls once")
            }
            try db.execute(sql: "UPDATE enrollment SET used = 1 WHERE tokenHash = ?", arguments: [Data(tokenHash)])
            try db.execute(sql: "INSERT INTO device (id, user, name, secretHash, created, lease) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [device.rawValue, user.name, name, Data(secretHash), time, row["lease"] as Int64])
            try Self.directoryChanged(in: db)
            try Self.audit("enroll", user: user.name, device: device, records: [], at: time, in: db)
            return user
        }
    }

    /// The device `id` with its user, or nil. Asynchronous because the node asks it on every
    /// request: a synchronous read would block a thread of Swift's cooperative pool while it
    /// waits for a reader, and the readers held by other requests need those threads to be
    /// handed back (eight concurrent pulls once wedged the node this way).
    public func device(_ id: DeviceID) async throws -> DeviceAccount? {
        try await writer.read { db in
            try GRDB.Row.fetchOne(db.cachedStatement(sql: Self.deviceQuery + " WHERE device.id = ?"), arguments: [id.rawValue]).map(Self.deviceAccount)
        }
    }

    /// See `NodeStore.devices`: ordered by user, then enrollment time. Synchronous: an administration
    /// call.
    public func devices() throws -> [DeviceAccount] {
        try writer.read { db in
            // Last contact: the device's latest audit entry (enroll, push, pull, export), one
            // lookup in `audit_by_device` per device.
            try GRDB.Row.fetchAll(db, sql: Self.deviceListQuery + " ORDER BY device.user, device.created").map { row in
                Self.deviceAccount(row).seen(at: row["lastSeen"])
            }
        }
    }

    /// Revokes the device named by `idOrName`, its id or else its name (as `device list`
    /// shows both): refused from its next request on. A name several devices share is
    /// refused, naming their ids. Returns the device as it was before.
    public func revokeDevice(_ idOrName: String, wipeAt: Int64? = nil) throws -> DeviceAccount {
        try revokeDevice(idOrName, wipeAt: wipeAt, at: wipeAt ?? Int64(Date().timeIntervalSince1970 * 1000))
    }

    /// `revokeDevice`, audited at `time`.
    public func revokeDevice(_ idOrName: String, wipeAt: Int64?, at time: Int64) throws -> DeviceAccount {
        try writer.write { db in
            var matches = try GRDB.Row.fetchAll(db, sql: Self.deviceQuery + " WHERE device.id = ?", arguments: [idOrName]).map(Self.deviceAccount)
            if matches.isEmpty {
                matches = try GRDB.Row.fetchAll(db, sql: Self.deviceQuery + " WHERE device.name = ? ORDER BY device.id", arguments: [idOrName]).map(Self.deviceAccount)
            }
            guard let device = matches.first else {
                throw NodeError(.notFound, "no device with id or name \(idOrName.prefix(60)); `casesyncd device list` shows them")
            }
            guard matches.count == 1 else {
                throw NodeError(.badParameter, "\(matches.count) devices are named \(idOrName.prefix(60)) (\(matches.map(\.id.rawValue).joined(separator: ", "))); revoke one by its id")
            }
            try db.execute(sql: "UPDATE device SET revoked = 1 WHERE id = ?", arguments: [device.id.rawValue])
            try Self.audit("device-revoked", user: device.user.name, device: device.id, records: [], detail: wipeAt == nil ? nil : "wipe", at: time, in: db)
            if let wipeAt {
                // Also over a pending wipe that let the device deliver first: a lost device delivers nothing.
                try db.execute(sql: "UPDATE device SET wipeRequested = COALESCE(wipeRequested, ?), wipeDeliverFirst = 0 WHERE id = ? AND wipeConfirmed IS NULL",
                               arguments: [wipeAt, device.id.rawValue])
            }
            return device
        }
    }

    /// See `NodeStore.confirmWipe`.
    public func confirmWipe(_ device: DeviceID, at time: Int64) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE device SET wipeConfirmed = ? WHERE id = ? AND wipeRequested IS NOT NULL AND wipeConfirmed IS NULL",
                           arguments: [time, device.rawValue])
            guard db.changesCount == 1 else { throw NodeError(.forbidden, "the node asked no erasure of this device") }
            let user = try String.fetchOne(db, sql: "SELECT user FROM device WHERE id = ?", arguments: [device.rawValue])
            try Self.audit("wiped", user: user, device: device, records: [], at: time, in: db)
        }
    }

    /// See `NodeStore.markTold`. Written only when a pull passed a drop the device had not
    /// been told of, which is rare: an ordinary pull writes nothing.
    public func markTold(_ device: DeviceID, through since: Int) async throws {
        try await writer.write { db in
            try db.execute(sql: "UPDATE device SET toldThrough = MAX(toldThrough, ?) WHERE id = ?", arguments: [since, device.rawValue])
        }
    }

    /// Appends to the audit log inside the caller's transaction: who, which device, what,
    /// and which record ids — never record contents.
    static func audit(_ action: String, user: String?, device: DeviceID?, records: [RecordID], detail: String? = nil, at time: Int64, in db: Database) throws {
        let recordList = AuditChain.recordList(records)
        // The chain (PROTOCOL.md §18): the next id and the hash of the entry before, read in
        // this transaction, so concurrent appends (serialised by SQLite) chain in order.
        let last = try GRDB.Row.fetchOne(db.cachedStatement(sql: "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1"))
        let id = (last?[0] as Int64? ?? 0) + 1
        let previous = (last?[1] as Data?).map { [UInt8]($0) } ?? AuditChain.genesis
        let hash = AuditChain.hash(previous: previous, id: id, at: time, user: user, device: device?.rawValue, action: action,
                                   count: records.count, records: recordList, detail: detail)
        try db.cachedStatement(sql: "INSERT INTO audit (id, at, user, device, action, count, records, detail, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .execute(arguments: [id, time, user, device?.rawValue, action, records.count, recordList, detail, Data(hash)])
    }

    /// See `NodeStore.appendAudit`: group-committed with other entries (`AuditQueue`), so many
    /// requests appending at once share a few transactions.
    public func appendAudit(_ event: AuditEvent) async throws {
        try await audits.append(event)
    }

    /// Audit entries, newest first.
    public func auditLog(limit: Int = 100) throws -> [AuditEntry] {
        try writer.read { db in
            try Self.auditEntries(where: "", arguments: [], in: db, newestFirst: true, limit: limit)
        }
    }

    /// Audit entries matching `filter`, oldest first (`casesyncd audit show`). A case matches
    /// the entries that name it or any record of it.
    public func auditEntries(_ filter: AuditFilter) throws -> [AuditEntry] {
        var conditions: [String] = []
        var arguments: [any DatabaseValueConvertible] = []
        if let user = filter.user {
            conditions.append("user = ?")
            arguments.append(user)
        }
        if let device = filter.device {
            conditions.append("(device = ? OR device IN (SELECT id FROM device WHERE name = ?))")
            arguments += [device, device]
        }
        if let since = filter.since {
            conditions.append("at >= ?")
            arguments.append(since)
        }
        if let caseID = filter.caseID {
            conditions.append("""
                EXISTS (SELECT 1 FROM json_each(audit.records) AS named
                        WHERE named.value = ? OR named.value IN (SELECT id FROM record WHERE caseID = ?))
                """)
            arguments += [caseID.rawValue, caseID.rawValue]
        }
        let clause = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
        return try writer.read { db in
            try Self.auditEntries(where: clause, arguments: StatementArguments(arguments), in: db, limit: filter.limit)
        }
    }

    /// Checks the audit log's hash chain from its first entry (PROTOCOL.md §18); with
    /// `anchor` (`ID:HEX`, as a backup printed it), also that the chain passes through it.
    public func verifyAudit(anchor: (id: Int64, hash: [UInt8])? = nil) throws -> AuditVerification {
        try writer.read { db in
            var previous = AuditChain.genesis
            var headID: Int64 = 0
            var count = 0
            var passes: Bool? = anchor == nil ? nil : (anchor?.id == 0 && anchor?.hash == AuditChain.genesis)
            let rows = try GRDB.Row.fetchCursor(db, sql: "SELECT id, at, user, device, action, count, records, detail, hash FROM audit ORDER BY id")
            var expectedID: Int64 = 1
            while let row = try rows.next() {
                let entry = Self.auditEntry(row)
                let stored = (row[8] as Data?).map { [UInt8]($0) }
                let hash = AuditChain.hash(previous: previous, entry: entry)
                guard entry.id == expectedID, stored == hash else {
                    return AuditVerification(entries: count, headID: headID, head: previous, firstBroken: entry, passesAnchor: passes)
                }
                if let anchor, anchor.id == entry.id { passes = anchor.hash == hash }
                previous = hash
                headID = entry.id
                expectedID += 1
                count += 1
            }
            return AuditVerification(entries: count, headID: headID, head: previous, firstBroken: nil, passesAnchor: passes)
        }
    }

    /// The chain's head: the last entry's id and stored hash (0 and the genesis hash for none).
    static func auditHead(in db: Database) throws -> (id: Int64, hash: [UInt8]) {
        guard let row = try GRDB.Row.fetchOne(db, sql: "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1") else { return (0, AuditChain.genesis) }
        return (row[0], (row[1] as Data?).map { [UInt8]($0) } ?? AuditChain.genesis)
    }

    static func auditEntries(where clause: String, arguments: StatementArguments, in db: Database, newestFirst: Bool = false, limit: Int? = nil) throws -> [AuditEntry] {
        let order = newestFirst ? "DESC" : ""
        let bound = limit.map { " LIMIT \($0)" } ?? ""
        return try GRDB.Row.fetchAll(db, sql: "SELECT id, at, user, device, action, count, records, detail FROM audit \(clause) ORDER BY id \(order)\(bound)",
                                     arguments: arguments).map(Self.auditEntry)
    }

    static func auditEntry(_ row: GRDB.Row) -> AuditEntry {
        AuditEntry(id: row[0], at: row[1], user: row[2], device: row[3], action: row[4], count: row[5], records: row[6], detail: row[7])
    }

    static let deviceQuery = """
        SELECT device.id, device.name, device.secretHash, device.revoked, device.created, device.toldThrough,
            device.wipeRequested, device.wipeDeliverFirst, device.wipeConfirmed, device.lease, user.name AS userName, user.role, user.disabled
        FROM device JOIN user ON user.name = device.user
        """

    /// `deviceQuery` with each device's last contact, for `devices()` only (a request's own
    /// device lookup needs no audit read).
    static let deviceListQuery = """
        SELECT device.id, device.name, device.secretHash, device.revoked, device.created, device.toldThrough,
            device.wipeRequested, device.wipeDeliverFirst, device.wipeConfirmed, device.lease, user.name AS userName, user.role, user.disabled,
            (SELECT MAX(at) FROM audit WHERE audit.device = device.id) AS lastSeen
        FROM device JOIN user ON user.name = device.user
        """

    static func user(_ row: GRDB.Row) -> UserAccount {
        UserAccount(name: row[0], role: Role(rawValue: row[1]) ?? .reporter, disabled: row[2])
    }

    static func deviceAccount(_ row: GRDB.Row) -> DeviceAccount {
        DeviceAccount(
            id: (try? DeviceID(row["id"] as String)) ?? DeviceID.unknown,
            name: row["name"],
            user: UserAccount(name: row["userName"], role: Role(rawValue: row["role"]) ?? .reporter, disabled: row["disabled"]),
            secretHash: [UInt8](row["secretHash"] as Data),
            revoked: row["revoked"],
            created: row["created"],
            toldThrough: row["toldThrough"],
            wipe: (row["wipeRequested"] as Int64?).map { DeviceWipe(requested: $0, deliverFirst: row["wipeDeliverFirst"], confirmed: row["wipeConfirmed"]) },
            lease: row["lease"]
        )
    }
}
