import Foundation
import GRDB
import NodeStorage
import SyncModel

/// What a sync node keeps so a restore from an older backup loses nothing: a generation id
/// that changes at every restore (devices that see a new one start their pull over and
/// re-send what they hold), the restore window during which the node takes back writes it
/// lost, and the mark that tells a backup copy from a live database.
extension SQLiteNodeStore {
    /// Setting keys of a node's database.
    enum NodeSetting {
        static let generation = "nodeGeneration"
        static let restoreWindowUntil = "restoreWindowUntil"
        static let formerNodes = "formerNodeDevices"
        static let backupTaken = "backupTaken"
        /// Set when `relayLimit` holds the highest counter of every device (restored with
        /// the replaced database at hand); otherwise relays are not bounded by counter.
        static let relayLimitsKnown = "relayLimitsKnown"
        /// New change sequence numbers start above it (the replaced database's highest).
        static let sequenceFloor = "sequenceFloor"
    }

    /// The restore window, when the node was restored and it has not yet ended.
    static func restoreWindow(at time: Int64, in db: Database) throws -> RestoreWindow? {
        guard let until = try ReplicaStore.plainSetting(NodeSetting.restoreWindowUntil, in: db).flatMap(Int64.init),
              until > time else { return nil }
        var limits: [DeviceID: Int]?
        if try ReplicaStore.plainSetting(NodeSetting.relayLimitsKnown, in: db) != nil {
            var known: [DeviceID: Int] = [:]
            for row in try GRDB.Row.fetchAll(db, sql: "SELECT device, counter FROM relayLimit") {
                if let device = try? DeviceID(row[0] as String) { known[device] = row[1] }
            }
            limits = known
        }
        return RestoreWindow(until: until, formerNodes: Set(try formerNodes(in: db).compactMap { try? DeviceID($0) }), relayLimits: limits)
    }

    /// The device ids the node wrote under before its restores, oldest first.
    static func formerNodes(in db: Database) throws -> [String] {
        (try ReplicaStore.plainSetting(NodeSetting.formerNodes, in: db) ?? "").split(separator: " ").map(String.init)
    }

    /// Of `devices`, those enrolled for a user whose role writes cases (mediator or
    /// supervisor): the devices whose writes another device may bring back to a restored node.
    static func caseWriters(among devices: Set<DeviceID>, in db: Database) throws -> Set<DeviceID> {
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
    /// The backup is audited first, so that the copy holds its own entry: the chain head
    /// returned (`ID:HEX`, PROTOCOL.md §18) is the copy's, for `casesyncd audit verify --head`.
    @discardableResult
    public func backup(to path: String, at time: Int64, sealed: Bool = false) throws -> String {
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw StoreError(.unusable, "cannot create \(path); check that its folder exists and is writable")
        }
        let head = try writer.write { db in
            try Self.audit("backup", user: nil, device: nil, records: [], detail: sealed ? "sealed" : "plain", at: time, in: db)
            return try Self.auditHead(in: db)
        }
        let destination = try DatabaseQueue(path: path)
        try writer.backup(to: destination)
        try destination.write { db in try ReplicaStore.setPlainSetting(NodeSetting.backupTaken, String(time), in: db) }
        try destination.close()
        return AuditChain.headText(id: head.id, hash: head.hash)
    }

    /// What `restoreNode` did.
    public struct RestoreReport: Sendable {
        /// The restored node's new generation id.
        public let generation: String
        /// Records in the restored database (those of the backup).
        public let records: Int
        /// When the backup was taken (nil for a copy made another way).
        public let backupTaken: Int64?
        /// Whether users, devices, tokens and the audit log came from the current database
        /// (true) or are those of the backup.
        public let accountsFromCurrent: Bool
        /// Devices enrolled in the restored database, revoked ones included.
        public let devices: Int
    }

    /// Builds, at `destination` (a new file), the database of a node restored from `backup`.
    ///
    /// From the backup: records and the change sequence. From `current` (the database being
    /// replaced) when given: users, devices, enrollment tokens, the audit log and case access
    /// (so revocations, disables, enrollments and access changes made after the backup stay
    /// in force), the node's device ids, each device's highest write counter (the bound on
    /// what may be relayed for it) and the highest change sequence (new changes are numbered
    /// above it, so no cursor a device holds can skip one). New: a generation id, a device id
    /// for the node's own writes (its counter went back with the backup, and reusing a dot
    /// would give two writes one name) and a restore window open until `windowUntil`.
    /// Refuses a file that is not a sound node database. `destination` is closed when this
    /// returns, with no journal beside it; when it throws, `destination` is removed.
    public static func restoreNode(from backup: String, to destination: String, accountsFrom current: String?,
                                   windowUntil: Int64, at time: Int64) throws -> RestoreReport {
        do {
            return try buildRestored(from: backup, to: destination, accountsFrom: current, windowUntil: windowUntil, at: time)
        } catch {
            for suffix in ["", "-journal", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: destination + suffix) }
            throw error
        }
    }

    static func buildRestored(from backup: String, to destination: String, accountsFrom current: String?,
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
        let nodeDevice = try? source.read { db in try String.fetchOne(db, sql: "SELECT device FROM replica WHERE id = 1") }
        guard let nodeDevice, nodeDevice.hasPrefix("node-") else {
            throw StoreError(.unusable, "\(backup) is not a sync node's database (it has no node- device id); give a file written by `casesyncd backup`")
        }
        guard FileManager.default.createFile(atPath: destination, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw StoreError(.unusable, "cannot create \(destination); check that the data folder is writable")
        }
        let target = try DatabaseQueue(path: destination, configuration: ReplicaStore.configuration())
        defer { try? target.close() }
        try source.backup(to: target)
        try source.close()
        // An older backup gets today's schema (the node's migrator refuses a device's replica).
        _ = try SQLiteNodeStore(writer: target)
        var carried = CarriedState()
        if let current {
            carried = try carry(from: current, into: target)
        }
        return try target.write { db in
            let taken = try ReplicaStore.plainSetting(NodeSetting.backupTaken, in: db).flatMap(Int64.init)
            let backupHighest = try Int.fetchOne(db, sql: "SELECT MAX(seq) FROM record") ?? 0
            var floor = max(carried.sequenceFloor, backupHighest)
            // Drops carried from the replaced database may be numbered above every record of
            // the backup: a device pulling again from the start would meet them after the
            // records they came after, and drop what it may hold again since (a supervisor
            // made a mediator again, a case no longer restricted). Those cases' records are
            // numbered anew above everything, so they come after their drops.
            let dropped = try String.fetchAll(db, sql: "SELECT DISTINCT caseID FROM dropNotice WHERE seq > ? ORDER BY caseID", arguments: [backupHighest])
            for caseID in dropped {
                try renumber(caseID, above: &floor, in: db)
            }
            try ReplicaStore.setPlainSetting(NodeSetting.sequenceFloor, String(floor), in: db)
            let generation = try startGeneration(windowUntil: windowUntil, at: time, formerNodes: carried.nodeDevices, relayLimits: carried.relayLimits, in: db)
            return RestoreReport(
                generation: generation,
                records: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM record") ?? 0,
                backupTaken: taken,
                accountsFromCurrent: current != nil,
                devices: try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM device") ?? 0)
        }
    }

    /// What a restore takes from the database it replaces, beyond the tables it copies.
    struct CarriedState {
        var nodeDevices: [String] = []
        /// Device id → highest write counter in any record; nil when not known.
        var relayLimits: [String: Int]?
        var sequenceFloor = 0
    }

    /// Copies accounts, audit log, case access, drops and break-glass grants from the database at `current` into
    /// `target` and reads what else the restored node needs from it. `current` is first
    /// opened as a node would open it: brought to today's schema and its write-ahead log
    /// folded in and emptied, so that afterwards the file alone holds it.
    static func carry(from current: String, into target: DatabaseQueue) throws -> CarriedState {
        do {
            let live = try SQLiteNodeStore.open(path: current)
            try live.writer.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
            try (live.writer as? DatabasePool)?.close()
        } catch let error as DatabaseError where error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB {
            throw StoreError(.corrupt, "the current database \(current) is damaged (\(error.resultCode)), so its users and devices cannot be kept")
        } catch let error as StoreError where error.code == .notADatabase {
            // What opening it says when SQLite finds no database in the file at all.
            throw StoreError(.corrupt, "the current database \(current) is damaged (not a database), so its users and devices cannot be kept")
        } catch let error as StoreError {
            throw StoreError(.unusable, "cannot open the current database \(current) to keep its users and devices (\(error.message)); fix it and run restore again")
        } catch {
            throw StoreError(.unusable, "cannot open the current database \(current) to keep its users and devices (\(Self.reason(error))); free disk space or fix permissions and run restore again")
        }
        do {
            return try target.writeWithoutTransaction { db in
                try db.execute(sql: "ATTACH DATABASE ? AS current", arguments: [current])
                defer { try? db.execute(sql: "DETACH DATABASE current") }
                var carried = CarriedState()
                try db.inTransaction {
                    // Rows are never deleted from the account tables, so the current ones are a
                    // superset of the backup's: copied whole, in order. Case access is today's too:
                    // a mediator removed after the backup must not regain the case; and so are
                    // the drops, so that their devices, pulling again from the start, are told.
                    // (A wipe asked after the backup stands too: it is in the device rows.) A
                    // case purged since the backup stays purged: its records are taken out of
                    // the restored copy, and its marker kept.
                    try db.execute(sql: """
                        DELETE FROM enrollment; DELETE FROM device; DELETE FROM user; DELETE FROM audit; DELETE FROM caseAccess; DELETE FROM dropNotice; DELETE FROM accessGrant;
                        INSERT INTO user (name, role, disabled, created) SELECT name, role, disabled, created FROM current.user;
                        INSERT INTO device (id, user, name, secretHash, created, revoked, toldThrough, wipeRequested, wipeDeliverFirst, wipeConfirmed, lease)
                            SELECT id, user, name, secretHash, created, revoked, toldThrough, wipeRequested, wipeDeliverFirst, wipeConfirmed, lease FROM current.device;
                        INSERT INTO enrollment (tokenHash, user, expires, used, lease) SELECT tokenHash, user, expires, used, lease FROM current.enrollment;
                        INSERT INTO audit (id, at, user, device, action, count, records, detail, hash) SELECT id, at, user, device, action, count, records, detail, hash FROM current.audit ORDER BY id;
                        INSERT INTO caseAccess (caseID, user, grantedSeq) SELECT caseID, user, grantedSeq FROM current.caseAccess;
                        INSERT INTO dropNotice (user, seq, caseID, recordID, reason) SELECT user, seq, caseID, recordID, reason FROM current.dropNotice;
                        INSERT INTO accessGrant (caseID, user, seq, reason, granted, until, endedSeq)
                            SELECT caseID, user, seq, reason, granted, until, endedSeq FROM current.accessGrant;
                        DELETE FROM site;
                        INSERT INTO site (name, added) SELECT name, added FROM current.site;
                        DELETE FROM purge;
                        INSERT INTO purge (caseID, seq, at, reason, records) SELECT caseID, seq, at, reason, records FROM current.purge;
                        DELETE FROM record WHERE caseID IN (SELECT caseID FROM purge);
                        DELETE FROM restrictedCase WHERE caseID IN (SELECT caseID FROM purge);
                        """)
                    let currentVersion = try String.fetchOne(db, sql: "SELECT value FROM current.setting WHERE key = ?", arguments: [Self.directoryVersionKey]).flatMap(Int.init) ?? 0
                    try ReplicaStore.setPlainSetting(Self.directoryVersionKey, String(max(currentVersion, try Self.directoryVersion(in: db)) + 1), in: db)
                    return .commit
                }
                if let device = try String.fetchOne(db, sql: "SELECT device FROM current.replica WHERE id = 1") { carried.nodeDevices.append(device) }
                let former = try String.fetchOne(db, sql: "SELECT value FROM current.setting WHERE key = ?", arguments: [NodeSetting.formerNodes]) ?? ""
                carried.nodeDevices += former.split(separator: " ").map(String.init)
                let floor = try String.fetchOne(db, sql: "SELECT value FROM current.setting WHERE key = ?", arguments: [NodeSetting.sequenceFloor]).flatMap(Int.init) ?? 0
                carried.sequenceFloor = max(floor, try Int.fetchOne(db, sql: "SELECT MAX(seq) FROM current.record") ?? 0,
                                            try Int.fetchOne(db, sql: "SELECT MAX(seq) FROM current.purge") ?? 0,
                                            try Int.fetchOne(db, sql: "SELECT MAX(MAX(seq, IFNULL(endedSeq, 0))) FROM current.accessGrant") ?? 0)
                // The highest write of each device anywhere in the current records: a relayed
                // write above it never reached the node, so it cannot be one it lost.
                var limits: [String: Int] = [:]
                let versions = try String.fetchCursor(db, sql: "SELECT version FROM current.record")
                while let text = try versions.next() {
                    guard let version = try? JSONReader.read(Array(text.utf8), { reader throws(ModelError) in try VersionVector.read(from: &reader) }) else { continue }
                    for dot in version.dots { limits[dot.device.rawValue] = max(limits[dot.device.rawValue] ?? 0, dot.counter) }
                }
                carried.relayLimits = limits
                return carried
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.unusable, "cannot copy the users and devices of the current database \(current) (\(Self.reason(error))); free disk space and run restore again")
        }
    }

    /// SQLite's short reason for a failure, for a one-line message.
    static func reason(_ error: any Error) -> String {
        (error as? DatabaseError).map { "\($0.resultCode)" } ?? "\(type(of: error))"
    }

    /// Makes this database a restored node's: a new generation id, a new device id for the
    /// node's own writes (the old one and `formerNodes` join the former ids), the restore
    /// window open until `windowUntil` with each device's `relayLimits` (nil: not known), and
    /// no backup mark. Returns the new generation. (`restoreNode` calls it on the restored
    /// copy; in-process tests call it to open a window.)
    @discardableResult
    public func startGeneration(windowUntil: Int64, at time: Int64, relayLimits: [String: Int]? = nil) throws -> String {
        try writer.write { db in try Self.startGeneration(windowUntil: windowUntil, at: time, formerNodes: [], relayLimits: relayLimits, in: db) }
    }

    static func startGeneration(windowUntil: Int64, at time: Int64, formerNodes: [String], relayLimits: [String: Int]?, in db: Database) throws -> String {
        try db.execute(sql: "DELETE FROM relayLimit")
        try db.execute(sql: "DELETE FROM setting WHERE key = ?", arguments: [NodeSetting.relayLimitsKnown])
        if let relayLimits {
            let insert = try db.cachedStatement(sql: "INSERT INTO relayLimit (device, counter) VALUES (?, ?)")
            for (device, counter) in relayLimits { try insert.execute(arguments: [device, counter]) }
            try ReplicaStore.setPlainSetting(NodeSetting.relayLimitsKnown, "1", in: db)
        }
        let node = try ReplicaStore.replica(in: db)
        let generation = newGeneration()
        var generator = SystemRandomNumberGenerator()
        let newNode = try DeviceID("node-" + DeviceID.random(using: &generator).rawValue)
        var former = try Self.formerNodes(in: db)
        for device in [node.device.rawValue] + formerNodes where !former.contains(device) { former.append(device) }
        try db.execute(sql: "UPDATE replica SET device = ?, counter = 0 WHERE id = 1", arguments: [newNode.rawValue])
        try ReplicaStore.setPlainSetting(NodeSetting.generation, generation, in: db)
        try ReplicaStore.setPlainSetting(NodeSetting.formerNodes, former.joined(separator: " "), in: db)
        try ReplicaStore.setPlainSetting(NodeSetting.restoreWindowUntil, String(windowUntil), in: db)
        try db.execute(sql: "DELETE FROM setting WHERE key = ?", arguments: [NodeSetting.backupTaken])
        try Self.audit("restore", user: nil, device: newNode, records: [], at: time, in: db)
        return generation
    }
}
