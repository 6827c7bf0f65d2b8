import GRDB
import NodeStorage
import SyncModel
import SyncProtocol

/// The node's directory (PROTOCOL.md §15): its sites, and the version number devices compare
/// to know when to fetch the directory again.
extension SQLiteNodeStore {
    /// The setting that holds the directory's version number.
    static let directoryVersionKey = "directoryVersion"

    /// Gives the directory a new version number, inside the transaction that changed it (a
    /// user, device or site added or changed): devices see the number on their next pull.
    static func directoryChanged(in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO setting (key, value) VALUES (?, '1')
            ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1
            """, arguments: [directoryVersionKey])
    }

    /// The directory's version number (0 before anything was added).
    static func directoryVersion(in db: Database) throws -> Int {
        try ReplicaStore.plainSetting(directoryVersionKey, in: db).flatMap(Int.init) ?? 0
    }

    /// See `NodeStore.directoryVersion`.
    public func directoryVersion() async throws -> Int {
        try await writer.read { db in try Self.directoryVersion(in: db) }
    }

    /// See `NodeStore.directory`.
    public func directory() async throws -> (directory: NodeDirectory, version: Int) {
        try await writer.read { db in
            let devices = try GRDB.Row.fetchAll(db, sql: "SELECT id, name, user FROM device ORDER BY id").map {
                NodeDirectory.Device(id: $0["id"], name: $0["name"], user: $0["user"])
            }
            let users = try Self.users(in: db).map { NodeDirectory.User(name: $0.name, role: $0.role.rawValue, disabled: $0.disabled) }
            return (NodeDirectory(devices: devices, sites: try Self.sites(in: db), users: users), try Self.directoryVersion(in: db))
        }
    }

    /// See `NodeStore.addSite`. Synchronous: an administration call.
    public func addSite(_ name: String, at time: Int64) throws {
        if let problem = NodeDirectory.siteNameProblem(name) { throw NodeError(.badParameter, "\(problem); try again with a name like \"North Hospital\"") }
        try writer.write { db in
            if let existing = try String.fetchOne(db, sql: "SELECT name FROM site WHERE name = ?", arguments: [name]) {
                throw NodeError(.exists, "the node has the site \"\(existing)\" already")
            }
            try db.execute(sql: "INSERT INTO site (name, added) VALUES (?, ?)", arguments: [name, time])
            try Self.directoryChanged(in: db)
            try Self.audit("site-added", user: nil, device: nil, records: [], detail: name, at: time, in: db)
        }
    }

    /// See `NodeStore.removeSite`. Synchronous: an administration call.
    @discardableResult
    public func removeSite(_ name: String, at time: Int64) throws -> String {
        try writer.write { db in
            guard let stored = try String.fetchOne(db, sql: "SELECT name FROM site WHERE name = ?", arguments: [name]) else {
                throw NodeError(.notFound, "the node has no site \"\(name.prefix(100))\"; `casesyncd site list` shows them")
            }
            try db.execute(sql: "DELETE FROM site WHERE name = ?", arguments: [stored])
            try Self.directoryChanged(in: db)
            try Self.audit("site-removed", user: nil, device: nil, records: [], detail: stored, at: time, in: db)
            return stored
        }
    }

    /// See `NodeStore.sites`. Synchronous: an administration call.
    public func sites() throws -> [String] {
        try writer.read { db in try Self.sites(in: db) }
    }

    static func sites(in db: Database) throws -> [String] {
        try String.fetchAll(db, sql: "SELECT name FROM site ORDER BY name")
    }
}
