import Foundation
import GRDB
import SyncModel

/// What a sync node keeps so a restore from an older backup loses nothing: a generation id
/// that changes at every restore (devices that see a new one start their pull over and
/// re-send what they hold), the restore window during which the node takes back writes it
/// lost, and the mark that tells a backup copy from a live database.
extension ReplicaStore {
    /// Setting keys of a node's database.
    enum NodeSetting {
        static let generation = "nodeGeneration"
        static let restoreWindowUntil = "restoreWindowUntil"
        static let formerNodes = "formerNodeDevices"
        static let backupTaken = "backupTaken"
    }

    /// The node's generation id, made on first use. It changes only when the node is restored.
    public func nodeGeneration() throws -> String {
        try writer.write { db in
            if let generation = try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = ?", arguments: [NodeSetting.generation]) {
                return generation
            }
            let generation = Self.newGeneration()
            try Self.setSetting(NodeSetting.generation, generation, in: db)
            return generation
        }
    }

    /// The restore window, when the node was restored and it has not yet ended.
    public func restoreWindow(at time: Int64) throws -> RestoreWindow? {
        try writer.read { db in
            guard let until = try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = ?", arguments: [NodeSetting.restoreWindowUntil]).flatMap(Int64.init),
                  until > time else { return nil }
            let former = try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = ?", arguments: [NodeSetting.formerNodes]) ?? ""
            return RestoreWindow(until: until, formerNodes: Set(former.split(separator: " ").compactMap { try? DeviceID(String($0)) }))
        }
    }

    /// When this database was written by `casesyncd backup` and not restored since (a
    /// backup copy put in place by hand must not serve: it would rewind the node silently).
    public func backupTaken() throws -> Int64? {
        try writer.read { db in
            try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = ?", arguments: [NodeSetting.backupTaken]).flatMap(Int64.init)
        }
    }

    /// Of `devices`, those enrolled for a user whose role writes cases (mediator or
    /// supervisor): the devices whose writes another device may bring back to a restored node.
    public static func caseWriters(among devices: Set<DeviceID>, in db: Database) throws -> Set<DeviceID> {
        var writers: Set<DeviceID> = []
        let statement = try db.cachedStatement(sql: "SELECT user.role FROM device JOIN user ON user.name = device.user WHERE device.id = ?")
        for device in devices {
            if let role = try String.fetchOne(statement, arguments: [device.rawValue]).flatMap(Role.init(rawValue:)), role.syncsCases {
                writers.insert(device)
            }
        }
        return writers
    }

    /// Copies the database to a new file with SQLite's online backup (consistent while the
    /// node serves), readable by its owner only, and marks the copy as a backup taken at
    /// `time`. Only `restoreNode` turns it back into a node's database.
    public func backup(to path: String, at time: Int64) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw StoreError(.unusable, "cannot create \(path); check that its folder exists and is writable")
        }
        let destination = try DatabaseQueue(path: path)
        try writer.backup(to: destination)
        try destination.write { db in try Self.setSetting(NodeSetting.backupTaken, String(time), in: db) }
        try destination.close()
    }

    /// What `restoreNode` did.
    public struct RestoreReport: Sendable {
        public let generation: String
        public let records: Int
        /// When the backup was taken (nil for a copy made another way).
        public let backupTaken: Int64?
        /// Whether users, devices, tokens and the audit log came from the current database
        /// (true) or are those of the backup.
        public let accountsFromCurrent: Bool
        public let devices: Int
    }

    /// Builds, at `destination` (a new file), the database of a node restored from `backup`:
    /// the backup's records, change sequence and case access; users, devices, enrollment
    /// tokens and the audit log from `current` (the database being replaced) when given, so
    /// revocations, disables and enrollments made after the backup stay in force; a new
    /// generation id, a new device id for the node's own writes (its counter went back with
    /// the backup, and reusing a dot would give two writes one name) and a restore window
    /// open until `windowUntil`. Refuses a file that is not a sound node database.
    public static func restoreNode(from backup: String, to destination: String, accountsFrom current: String?,
                                   windowUntil: Int64, at time: Int64) throws -> RestoreReport {
        var readOnly = Configuration()
        readOnly.readonly = true
        let source: DatabaseQueue
        do {
            source = try DatabaseQueue(path: backup, configuration: readOnly)
            let findings = try source.read { db in try String.fetchAll(db, sql: "PRAGMA integrity_check") }
            guard findings == ["ok"] else { throw StoreError(.unusable, "the backup \(backup) is damaged (\(findings.prefix(3).joined(separator: "; "))); restore an older one") }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.unusable, "\(backup) is not a readable SQLite database; give a file written by `casesyncd backup`")
        }
        guard FileManager.default.createFile(atPath: destination, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw StoreError(.unusable, "cannot create \(destination); check that the data folder is writable")
        }
        let target = try DatabaseQueue(path: destination, configuration: configuration())
        try source.backup(to: target)
        try source.close()
        // An older backup gets today's schema.
        let store = try ReplicaStore(writer: target)
        guard let node = try? store.replica(), node.device.rawValue.hasPrefix("node-") else {
            throw StoreError(.unusable, "\(backup) is not a sync node's database (it has no node- device id); give a file written by `casesyncd backup`")
        }
        if let current {
            do {
                try target.writeWithoutTransaction { db in
                    try db.execute(sql: "ATTACH DATABASE ? AS current", arguments: [current])
                    defer { try? db.execute(sql: "DETACH DATABASE current") }
                    try db.inTransaction {
                        // Rows are never deleted from these tables, so the current ones are a
                        // superset of the backup's: copied whole, in order.
                        try db.execute(sql: """
                            DELETE FROM enrollment; DELETE FROM device; DELETE FROM user; DELETE FROM audit;
                            INSERT INTO user (name, role, disabled, created) SELECT name, role, disabled, created FROM current.user;
                            INSERT INTO device (id, user, name, secretHash, created, revoked) SELECT id, user, name, secretHash, created, revoked FROM current.device;
                            INSERT INTO enrollment (tokenHash, user, expires, used) SELECT tokenHash, user, expires, used FROM current.enrollment;
                            INSERT INTO audit (id, at, user, device, action, count, records) SELECT id, at, user, device, action, count, records FROM current.audit ORDER BY id;
                            """)
                        return .commit
                    }
                }
            } catch {
                throw StoreError(.corrupt, "cannot read the users and devices of the current database \(current)")
            }
        }
        return try target.write { db in
            let taken = try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = ?", arguments: [NodeSetting.backupTaken]).flatMap(Int64.init)
            let generation = try startGeneration(windowUntil: windowUntil, at: time, in: db)
            return RestoreReport(
                generation: generation,
                records: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") ?? 0,
                backupTaken: taken,
                accountsFromCurrent: current != nil,
                devices: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM device") ?? 0)
        }
    }

    /// Makes this database a restored node's: a new generation id, a new device id for the
    /// node's own writes (the old one joins the former ids), the restore window open until
    /// `windowUntil`, and no backup mark. Returns the new generation. (`restoreNode` calls it
    /// on the restored copy; in-process tests call it to open a window.)
    @discardableResult
    public func startGeneration(windowUntil: Int64, at time: Int64) throws -> String {
        try writer.write { db in try Self.startGeneration(windowUntil: windowUntil, at: time, in: db) }
    }

    static func startGeneration(windowUntil: Int64, at time: Int64, in db: Database) throws -> String {
        let node = try replica(in: db)
        let generation = newGeneration()
        var generator = SystemRandomNumberGenerator()
        let newNode = try DeviceID("node-" + DeviceID.random(using: &generator).rawValue)
        let former = (try String.fetchOne(db, sql: "SELECT value FROM setting WHERE key = ?", arguments: [NodeSetting.formerNodes]) ?? "")
            .split(separator: " ").map(String.init) + [node.device.rawValue]
        try db.execute(sql: "UPDATE replica SET device = ?, counter = 0 WHERE id = 1", arguments: [newNode.rawValue])
        try setSetting(NodeSetting.generation, generation, in: db)
        try setSetting(NodeSetting.formerNodes, former.joined(separator: " "), in: db)
        try setSetting(NodeSetting.restoreWindowUntil, String(windowUntil), in: db)
        try db.execute(sql: "DELETE FROM setting WHERE key = ?", arguments: [NodeSetting.backupTaken])
        try audit("restore", user: nil, device: newNode, records: [], at: time, in: db)
        return generation
    }

    static func setSetting(_ key: String, _ value: String, in db: Database) throws {
        try db.execute(sql: "INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value", arguments: [key, value])
    }

    static func newGeneration() -> String {
        var generator = SystemRandomNumberGenerator()
        return DeviceID.random(using: &generator).rawValue
    }
}

/// The time after a restore during which a node takes back, from the devices that hold
/// them, writes of other devices it lost (PROTOCOL.md, "Restore").
public struct RestoreWindow: Sendable, Hashable {
    /// Milliseconds since the Unix epoch.
    public let until: Int64
    /// The device ids the node wrote under before its restores: its own lost writes come
    /// back under them.
    public let formerNodes: Set<DeviceID>
}
