import Foundation
import NodeStorage
import PostgresNIO
import SyncModel
import SyncProtocol

/// The sync node's users, devices, enrollment tokens and audit log. Several nodes may write
/// at once, so every check that a write depends on reads its row under a lock (`FOR UPDATE`,
/// `FOR SHARE`) or is the write itself (`ON CONFLICT DO NOTHING`, `RETURNING`). Lock order:
/// account and device rows, then the `node` row (`directoryChanged`), then `audit_head`.
extension PostgresNodeStore {
    /// See `NodeStore.addUser`. A name taken meanwhile by another node is `exists` too.
    public func addUser(_ name: String, role: Role, at time: Int64) async throws -> UserAccount {
        guard DeviceID.isUserName(name) else {
            throw NodeError(.badParameter, "user name \"\(name.prefix(40))\" must be 1-64 characters of a-z, 0-9, '.', '_' or '-'")
        }
        return try await transaction { db -> UserAccount in
            guard try await db.exists("""
                INSERT INTO account (name, role, created) VALUES (\(name), \(role.rawValue), \(time)) ON CONFLICT DO NOTHING RETURNING name
                """) else {
                throw NodeError(.exists, "user \(name) already exists")
            }
            try await Self.directoryChanged(in: db)
            try await Self.audit("user-added", user: name, device: nil, records: [], detail: role.rawValue, at: time, in: db)
            return UserAccount(name: name, role: role, disabled: false)
        }
    }

    /// See `NodeStore.users`: ordered by name.
    public func users() async throws -> [UserAccount] {
        try await transaction { db in try await Self.users(in: db) }
    }

    /// Every user, ordered by name (byte order, as SQLite's), inside the caller's transaction.
    static func users(in db: PostgresSession) async throws -> [UserAccount] {
        try await db.rows(#"SELECT name, role, disabled FROM account ORDER BY name COLLATE "C""#).map { row in
            let (name, role, disabled) = try row.decode((String, String, Bool).self)
            return Self.user(name, role, disabled)
        }
    }

    /// See `NodeStore.disableUser`: every device of the user not yet asked to erase its
    /// data is asked now (revoked ones too: they may still hold case records). The account
    /// row's update waits for an enrollment of the user in progress, so its device is asked too.
    public func disableUser(_ name: String, at time: Int64, deliverFirst: Bool = true) async throws {
        try await transaction { db in
            guard try await db.exists("UPDATE account SET disabled = true WHERE name = \(name) RETURNING name") else {
                throw NodeError(.notFound, "no user \(name); `casesyncd user list` shows them")
            }
            try await db.execute("""
                UPDATE device SET wipe_requested = \(time), wipe_deliver_first = \(deliverFirst) WHERE user_name = \(name) AND wipe_requested IS NULL
                """)
            if !deliverFirst {
                // `--wipe` after a plain disable: the pending erasures stop taking pushes.
                try await db.execute("UPDATE device SET wipe_deliver_first = false WHERE user_name = \(name) AND wipe_confirmed IS NULL")
            }
            try await Self.directoryChanged(in: db)
            try await Self.audit("user-disabled", user: name, device: nil, records: [], detail: deliverFirst ? nil : "wipe", at: time, in: db)
        }
    }

    /// See `NodeStore.enableUser`. The update is the check (`AND disabled`), so two nodes
    /// enabling the user at once write one audit entry.
    public func enableUser(_ name: String, at time: Int64) async throws {
        try await transaction { db in
            guard try await db.exists("UPDATE account SET disabled = false WHERE name = \(name) AND disabled RETURNING name") else {
                guard try await Self.user(named: name, in: db) != nil else {
                    throw NodeError(.notFound, "no user \(name.prefix(64)); `casesyncd user list` shows them")
                }
                throw NodeError(.exists, "user \(name) is already enabled")
            }
            // The devices asked to erase when the user was disabled stay out for good.
            try await db.execute("UPDATE device SET revoked = true WHERE user_name = \(name) AND wipe_requested IS NOT NULL")
            try await Self.directoryChanged(in: db)
            try await Self.audit("user-enabled", user: name, device: nil, records: [], at: time, in: db)
        }
    }

    /// See `NodeStore.setRole`. The account row is locked first, so an enrollment of the user
    /// in progress (which holds it `FOR SHARE`) has either committed its device or waits.
    public func setRole(_ name: String, to role: Role, at time: Int64) async throws -> UserAccount {
        try await transaction { db -> UserAccount in
            guard let row = try await db.rows("SELECT name, role, disabled FROM account WHERE name = \(name) FOR UPDATE").first else {
                throw NodeError(.notFound, "no user \(name.prefix(64)); `casesyncd user list` shows them")
            }
            let (stored, storedRole, disabled) = try row.decode((String, String, Bool).self)
            let user = Self.user(stored, storedRole, disabled)
            guard user.role != role else { throw NodeError(.exists, "user \(name) is already a \(role.rawValue)") }
            let holding = try await db.rows("""
                SELECT id FROM device WHERE user_name = \(name) AND NOT revoked AND wipe_confirmed IS NULL ORDER BY id COLLATE "C"
                """).map { try $0.decode(String.self) }
            guard holding.isEmpty else {
                throw NodeError(.badParameter, "\(name) has \(holding.count) device\(holding.count == 1 ? "" : "s") that may hold case data as a \(user.role.rawValue) (\(holding.joined(separator: ", "))); revoke them with `casesyncd device revoke ID --wipe` (or `casesyncd user disable \(name)` and wait for the erasures), then change the role and enroll again")
            }
            try await db.execute("UPDATE account SET role = \(role.rawValue) WHERE name = \(name)")
            try await Self.directoryChanged(in: db)
            try await Self.audit("role-changed", user: name, device: nil, records: [], detail: "\(user.role.rawValue) to \(role.rawValue)", at: time, in: db)
            return UserAccount(name: name, role: role, disabled: user.disabled)
        }
    }

    /// See `NodeStore.addEnrollment`. A user disabled meanwhile cannot redeem the token
    /// (`enroll` checks again).
    public func addEnrollment(user: String, tokenHash: [UInt8], expires: Int64, lease: Int64, at time: Int64) async throws {
        try await transaction { db in
            guard let account = try await Self.user(named: user, in: db) else {
                throw NodeError(.notFound, "no user \(user); add one with `casesyncd user add \(user) --role mediator`")
            }
            guard !account.disabled else { throw NodeError(.refused, "user \(user) is disabled") }
            try await db.execute("""
                INSERT INTO enrollment (token_hash, user_name, expires, lease) VALUES (\(ByteBuffer(bytes: tokenHash)), \(user), \(expires), \(lease))
                """)
            try await Self.audit("token-issued", user: user, device: nil, records: [], detail: "lease \(lease)s", at: time, in: db)
        }
    }

    /// See `NodeStore.enroll`. The token's row is locked (`FOR UPDATE`), so two devices
    /// redeeming it at once on two nodes get it once; the user's row is held `FOR SHARE`, so a
    /// disable or role change waits for the new device (or this waits for them).
    public func enroll(tokenHash: [UInt8], device: DeviceID, name: String, secretHash: [UInt8], at time: Int64) async throws -> UserAccount {
        try await transaction { db -> UserAccount in
            guard let row = try await db.rows("""
                SELECT account.name, account.role, account.disabled, enrollment.expires, enrollment.used, enrollment.lease
                FROM enrollment JOIN account ON account.name = enrollment.user_name WHERE enrollment.token_hash = \(ByteBuffer(bytes: tokenHash))
                FOR UPDATE OF enrollment FOR SHARE OF account
                """).first else {
                throw NodeError(.refused, "unknown enrollment token; ask an administrator for a new one (`casesyncd enroll NAME`)")
            }
            let (userName, role, disabled, expires, used, lease) = try row.decode((String, String, Bool, Int64, Bool, Int64).self)
            let user = Self.user(userName, role, disabled)
            guard !used else { throw NodeError(.refused, "this enrollment token was already used; ask for a new one") }
            guard expires > time else { throw NodeError(.refused, "this enrollment token has expired; ask for a new one") }
            guard !user.disabled else { throw NodeError(.refused, "user \(user.name) is disabled") }
            // The insert is the check: a device id enrolled meanwhile by another node conflicts too.
            guard try await db.exists("""
                INSERT INTO device (id, user_name, name, secret_hash, created, lease)
                VALUES (\(device.rawValue), \(user.name), \(name), \(ByteBuffer(bytes: secretHash)), \(time), \(lease))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """) else {
                throw NodeError(.exists, "device \(device) is already enrolled; a device enrolls once")
            }
            try await db.execute("UPDATE enrollment SET used = true WHERE token_hash = \(ByteBuffer(bytes: tokenHash))")
            try await Self.directoryChanged(in: db)
            try await Self.audit("enroll", user: user.name, device: device, records: [], at: time, in: db)
            return user
        }
    }

    /// See `NodeStore.device`: one indexed read, asked on every request.
    public func device(_ id: DeviceID) async throws -> DeviceAccount? {
        try await transaction { db -> DeviceAccount? in
            try await db.rows("\(unescaped: Self.deviceQuery) WHERE device.id = \(id.rawValue)").first.map(Self.deviceAccount)
        }
    }

    /// See `NodeStore.devices`: ordered by user, then enrollment time, each with its last
    /// contact (its latest audit entry: enroll, push, pull, export), one lookup in
    /// `audit_by_device` per device.
    public func devices() async throws -> [DeviceAccount] {
        try await transaction { db -> [DeviceAccount] in
            try await db.rows(#"\#(unescaped: Self.deviceListQuery) ORDER BY device.user_name COLLATE "C", device.created"#).map { row in
                let cells = row.makeRandomAccess()
                let lastSeen = try cells.count > Self.deviceColumns ? cells[Self.deviceColumns].decode(Int64?.self) : nil
                return try Self.deviceAccount(row).seen(at: lastSeen)
            }
        }
    }

    /// See `NodeStore.revokeDevice`: `idOrName` is the device's id, or else its name (as
    /// `device list` shows both); a name several devices share is refused, naming their ids.
    /// Returns the device as it was before. The device rows are locked as they are read.
    public func revokeDevice(_ idOrName: String, wipeAt: Int64?, at time: Int64) async throws -> DeviceAccount {
        try await transaction { db -> DeviceAccount in
            var matches = try await db.rows("\(unescaped: Self.deviceQuery) WHERE device.id = \(idOrName) FOR UPDATE OF device")
                .map(Self.deviceAccount)
            if matches.isEmpty {
                matches = try await db.rows(#"\#(unescaped: Self.deviceQuery) WHERE device.name = \#(idOrName) ORDER BY device.id COLLATE "C" FOR UPDATE OF device"#)
                    .map(Self.deviceAccount)
            }
            guard let device = matches.first else {
                throw NodeError(.notFound, "no device with id or name \(idOrName.prefix(60)); `casesyncd device list` shows them")
            }
            guard matches.count == 1 else {
                throw NodeError(.badParameter, "\(matches.count) devices are named \(idOrName.prefix(60)) (\(matches.map(\.id.rawValue).joined(separator: ", "))); revoke one by its id")
            }
            try await db.execute("UPDATE device SET revoked = true WHERE id = \(device.id.rawValue)")
            if let wipeAt {
                // Also over a pending wipe that let the device deliver first: a lost device delivers nothing.
                try await db.execute("""
                    UPDATE device SET wipe_requested = COALESCE(wipe_requested, \(wipeAt)), wipe_deliver_first = false
                    WHERE id = \(device.id.rawValue) AND wipe_confirmed IS NULL
                    """)
            }
            try await Self.audit("device-revoked", user: device.user.name, device: device.id, records: [], detail: wipeAt == nil ? nil : "wipe", at: time, in: db)
            return device
        }
    }

    /// See `NodeStore.confirmWipe`. The update is the check, and names the device's user.
    public func confirmWipe(_ device: DeviceID, at time: Int64) async throws {
        try await transaction { db in
            guard let user = try await db.value("""
                UPDATE device SET wipe_confirmed = \(time) WHERE id = \(device.rawValue) AND wipe_requested IS NOT NULL AND wipe_confirmed IS NULL
                RETURNING user_name
                """, as: String.self) else {
                throw NodeError(.forbidden, "the node asked no erasure of this device")
            }
            try await Self.audit("wiped", user: user, device: device, records: [], at: time, in: db)
        }
    }

    /// See `NodeStore.markTold`. Written only when a pull passed a drop the device had not
    /// been told of, which is rare: an ordinary pull writes nothing.
    public func markTold(_ device: DeviceID, through since: Int) async throws {
        try await transaction { db in
            try await db.execute("UPDATE device SET told_through = GREATEST(told_through, \(since)) WHERE id = \(device.rawValue)")
        }
    }

    // MARK: Audit

    /// See `NodeStore.appendAudit`: one transaction per entry (the head row's lock chains
    /// appends of every node in commit order).
    public func appendAudit(_ event: AuditEvent) async throws {
        try await transaction { db in
            try await Self.audit(event.action, user: event.user, device: event.device, records: event.records, detail: event.detail,
                                 at: event.at, in: db)
        }
    }

    /// See `NodeStore.auditLog`: newest first.
    public func auditLog(limit: Int = 100) async throws -> [AuditEntry] {
        try await transaction { db -> [AuditEntry] in
            try await db.rows("SELECT \(unescaped: Self.auditColumns) FROM audit ORDER BY id DESC LIMIT \(limit)").map(Self.auditEntry)
        }
    }

    /// See `NodeStore.auditEntries`: oldest first (`casesyncd audit show`). A case matches
    /// the entries that name it or any record of it the node still holds.
    public func auditEntries(_ filter: AuditFilter) async throws -> [AuditEntry] {
        let query = Self.auditQuery(filter)
        return try await transaction { db -> [AuditEntry] in
            try await db.rows(query).map(Self.auditEntry)
        }
    }

    /// The query of `auditEntries`: only the filter's conditions, each value bound (the SQL
    /// text holds fixed fragments and placeholders alone).
    static func auditQuery(_ filter: AuditFilter) -> PostgresQuery {
        var binds = PostgresBindings()
        /// Binds `value`; returns its placeholder (`$1`, `$2`, …).
        func parameter(_ value: some PostgresDynamicTypeEncodable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
        var conditions: [String] = []
        if let user = filter.user {
            conditions.append("user_name = \(parameter(user))")
        }
        if let device = filter.device {
            let placeholder = parameter(device)
            conditions.append("(device = \(placeholder) OR device IN (SELECT d.id FROM device d WHERE d.name = \(placeholder)))")
        }
        if let since = filter.since {
            conditions.append("at >= \(parameter(since))")
        }
        if let caseID = filter.caseID {
            // `records` is the JSON array of ids the entry names (`audit`).
            let placeholder = parameter(caseID.rawValue)
            conditions.append("""
                EXISTS (SELECT 1 FROM json_array_elements_text(audit.records::json) AS named(id)
                        WHERE named.id = \(placeholder) OR named.id IN (SELECT r.id FROM record r WHERE r.case_id = \(placeholder)))
                """)
        }
        var sql = "SELECT \(auditColumns) FROM audit"
        if !conditions.isEmpty { sql += " WHERE " + conditions.joined(separator: " AND ") }
        sql += " ORDER BY id"
        if let limit = filter.limit { sql += " LIMIT \(parameter(limit))" }
        return PostgresQuery(unsafeSQL: sql, binds: binds)
    }

    /// See `NodeStore.verifyAudit`: from the first entry (PROTOCOL.md §18), a page of
    /// `auditPage` entries at a time, all read in one snapshot (`REPEATABLE READ`) as
    /// SQLite's read transaction does; with `anchor` (`ID:HEX`, as a backup printed it),
    /// also that the chain passes through it.
    public func verifyAudit(anchor: (id: Int64, hash: [UInt8])? = nil) async throws -> AuditVerification {
        let anchorID = anchor?.id
        let anchorHash = anchor?.hash
        return try await transaction { db -> AuditVerification in
            try await db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            var previous = AuditChain.genesis
            var headID: Int64 = 0
            var count = 0
            var passes: Bool? = anchorID == nil ? nil : (anchorID == 0 && anchorHash == AuditChain.genesis)
            var expectedID: Int64 = 1
            var after = Int64.min
            while true {
                let rows = try await db.rows("""
                    SELECT \(unescaped: Self.auditColumns), hash FROM audit WHERE id > \(after) ORDER BY id LIMIT \(Self.auditPage)
                    """)
                for row in rows {
                    let entry = try Self.auditEntry(row)
                    let cells = row.makeRandomAccess()
                    let stored = try cells.count > Self.auditColumnCount ? cells[Self.auditColumnCount].decode(ByteBuffer?.self).map { [UInt8](buffer: $0) } : nil
                    let hash = AuditChain.hash(previous: previous, entry: entry)
                    guard entry.id == expectedID, stored == hash else {
                        return AuditVerification(entries: count, headID: headID, head: previous, firstBroken: entry, passesAnchor: passes)
                    }
                    if let anchorID, anchorID == entry.id { passes = anchorHash == hash }
                    previous = hash
                    headID = entry.id
                    expectedID += 1
                    count += 1
                    after = entry.id
                }
                if rows.count < Self.auditPage { break }
            }
            return AuditVerification(entries: count, headID: headID, head: previous, firstBroken: nil, passesAnchor: passes)
        }
    }

    /// How many entries `verifyAudit` reads at a time.
    static let auditPage = 1_000

    /// The columns `auditEntry` decodes, in its order.
    static let auditColumns = "id, at, user_name, device, action, count, records, detail"
    static let auditColumnCount = 8

    /// An entry from the columns `auditColumns` (first in the row).
    static func auditEntry(_ row: PostgresRow) throws -> AuditEntry {
        let (id, at, user, device, action, count, records, detail) = try row.decode((Int64, Int64, String?, String?, String, Int, String, String?).self)
        return AuditEntry(id: id, at: at, user: user, device: device, action: action, count: count, records: records, detail: detail)
    }

    // MARK: Device rows

    /// A device with its user: the columns `deviceAccount` decodes.
    static let deviceQuery = """
        SELECT device.id, device.name, device.secret_hash, device.revoked, device.created, device.told_through,
            device.wipe_requested, device.wipe_deliver_first, device.wipe_confirmed, device.lease,
            account.name AS account_name, account.role, account.disabled
        FROM device JOIN account ON account.name = device.user_name
        """
    /// How many columns `deviceQuery` selects.
    static let deviceColumns = 13

    /// `deviceQuery` with each device's last contact as one more column, for `devices()` only
    /// (a request's own device lookup needs no audit read).
    static let deviceListQuery = """
        SELECT device.id, device.name, device.secret_hash, device.revoked, device.created, device.told_through,
            device.wipe_requested, device.wipe_deliver_first, device.wipe_confirmed, device.lease,
            account.name AS account_name, account.role, account.disabled,
            (SELECT MAX(a.at) FROM audit a WHERE a.device = device.id) AS last_seen
        FROM device JOIN account ON account.name = device.user_name
        """

    /// A device account from the first `deviceColumns` columns of `deviceQuery`. A stored id
    /// that is not a device id (none is written) reads as `DeviceID.unknown`, as in SQLite.
    static func deviceAccount(_ row: PostgresRow) throws -> DeviceAccount {
        let (id, name, secretHash, revoked, created, toldThrough, wipeRequested, wipeDeliverFirst, wipeConfirmed, lease, userName, role, disabled) =
            try row.decode((String, String, ByteBuffer, Bool, Int64, Int, Int64?, Bool, Int64?, Int64, String, String, Bool).self)
        return DeviceAccount(
            id: (try? DeviceID(id)) ?? DeviceID.unknown,
            name: name,
            user: Self.user(userName, role, disabled),
            secretHash: Array(buffer: secretHash),
            revoked: revoked,
            created: created,
            toldThrough: toldThrough,
            wipe: wipeRequested.map { DeviceWipe(requested: $0, deliverFirst: wipeDeliverFirst, confirmed: wipeConfirmed) },
            lease: lease
        )
    }
}
