import NodeStorage
import PostgresNIO
import SyncModel
import SyncProtocol

/// The node's directory (PROTOCOL.md §15): its sites, and the version number devices compare
/// to know when to fetch the directory again (`node.directory_version`, given a new number by
/// `directoryChanged` in the transaction of every change).
extension PostgresNodeStore {
    /// See `NodeStore.directoryVersion`.
    public func directoryVersion() async throws -> Int {
        try await transaction { db in try await Self.directoryVersion(in: db) }
    }

    /// See `NodeStore.directory`. Read in one snapshot (`REPEATABLE READ`), as SQLite's read
    /// transaction does, so the version is the one of the devices, users and sites served:
    /// a change committed between two reads would otherwise be missed until the next one.
    public func directory() async throws -> (directory: NodeDirectory, version: Int) {
        try await transaction { db -> (directory: NodeDirectory, version: Int) in
            try await db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            let devices = try await db.rows(#"SELECT id, name, user_name FROM device ORDER BY id COLLATE "C""#).map { row in
                let (id, name, user) = try row.decode((String, String, String).self)
                return NodeDirectory.Device(id: id, name: name, user: user)
            }
            let users = try await Self.users(in: db).map { NodeDirectory.User(name: $0.name, role: $0.role.rawValue, disabled: $0.disabled) }
            let sites = try await Self.sites(in: db)
            let version = try await Self.directoryVersion(in: db)
            return (NodeDirectory(devices: devices, sites: sites, users: users), version)
        }
    }

    /// See `NodeStore.addSite`. The insert is the check (`folded` is unique), so a site
    /// another node adds meanwhile is `exists` too.
    public func addSite(_ name: String, at time: Int64) async throws {
        if let problem = NodeDirectory.siteNameProblem(name) { throw NodeError(.badParameter, "\(problem); try again with a name like \"North Hospital\"") }
        let folded = Self.folded(name)
        try await transaction { db in
            guard try await db.exists("""
                INSERT INTO site (name, folded, added) VALUES (\(name), \(folded), \(time)) ON CONFLICT DO NOTHING RETURNING name
                """) else {
                let existing = try await db.value("SELECT name FROM site WHERE folded = \(folded)", as: String.self) ?? name
                throw NodeError(.exists, "the node has the site \"\(existing)\" already")
            }
            try await Self.directoryChanged(in: db)
            try await Self.audit("site-added", user: nil, device: nil, records: [], detail: name, at: time, in: db)
        }
    }

    /// See `NodeStore.removeSite`: `name` in any ASCII case; returns it as the node spelled it.
    @discardableResult
    public func removeSite(_ name: String, at time: Int64) async throws -> String {
        let folded = Self.folded(name)
        return try await transaction { db -> String in
            guard let stored = try await db.value("DELETE FROM site WHERE folded = \(folded) RETURNING name", as: String.self) else {
                throw NodeError(.notFound, "the node has no site \"\(name.prefix(100))\"; `casesyncd site list` shows them")
            }
            try await Self.directoryChanged(in: db)
            try await Self.audit("site-removed", user: nil, device: nil, records: [], detail: stored, at: time, in: db)
            return stored
        }
    }

    /// See `NodeStore.sites`.
    public func sites() async throws -> [String] {
        try await transaction { db in try await Self.sites(in: db) }
    }

    /// The node's sites in alphabetical order without regard to ASCII case, as SQLite's
    /// `NOCASE` orders them (byte order of the folded names: `COLLATE "C"`, not the
    /// database's locale), inside the caller's transaction.
    static func sites(in db: PostgresSession) async throws -> [String] {
        try await db.rows(#"SELECT name FROM site ORDER BY folded COLLATE "C""#).map { try $0.decode(String.self) }
    }

    /// `name` with its ASCII letters lowercased and every other character kept, as SQLite's
    /// `NOCASE` compares: the `folded` column, unique, so "north hospital" is the site
    /// "North Hospital".
    static func folded(_ name: String) -> String {
        String(decoding: name.utf8.map { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
