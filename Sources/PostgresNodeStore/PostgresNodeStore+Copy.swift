import Foundation
import NodeStorage
import PostgresNIO
import SyncModel
import SyncProtocol

/// A node copied in from another store (`casesyncd migrate --to`), and read out again in
/// the same logical rows (`NodeTable`) to check the copy.
extension PostgresNodeStore {
    /// This store's table and column names for each logical table, in `NodeTable.columns` order.
    static func sqlNames(_ table: NodeTable) -> (table: String, columns: [String]) {
        switch table {
        case .user: ("account", ["name", "role", "disabled", "created"])
        case .device: ("device", ["id", "user_name", "name", "secret_hash", "created", "revoked", "told_through", "wipe_requested",
                                  "wipe_deliver_first", "wipe_confirmed", "lease"])
        case .enrollment: ("enrollment", ["token_hash", "user_name", "expires", "used", "lease"])
        case .site: ("site", ["name", "added"])
        case .record: ("record", ["id", "type", "case_id", "state", "deleted", "reference", "status", "seq", "scope", "note_scope", "owner"])
        case .caseAccess: ("case_access", ["user_name", "case_id", "granted_seq"])
        case .restrictedCase: ("restricted_case", ["case_id"])
        case .dropNotice: ("drop_notice", ["user_name", "seq", "case_id", "record_id", "reason"])
        case .purge: ("purge", ["case_id", "seq", "at", "reason", "records"])
        case .accessGrant: ("access_grant", ["case_id", "user_name", "seq", "reason", "granted", "until", "ended_seq"])
        case .relayLimit: ("relay_limit", ["device", "counter"])
        case .audit: ("audit", ["id", "at", "user_name", "device", "action", "count", "records", "detail", "hash"])
        }
    }

    /// The order tables are written in: accounts before what names them, access rows before
    /// the records (so that one statement enters the delivery order after, see `importNode`).
    static let importOrder: [NodeTable] = [.user, .device, .enrollment, .site, .caseAccess, .restrictedCase, .dropNotice, .purge,
                                           .accessGrant, .relayLimit, .audit, .record]

    /// Copies a node into this database in one transaction: its identity, then every row
    /// `page(table, afterKey)` gives, a page at a time (an empty page ends a table), then
    /// each mediator's delivery order and the audit chain's head. Refused (`exists`) unless
    /// the database holds no node data yet: a copy never merges into a serving node.
    /// `progress` hears of each page written.
    public func importNode(identity: NodeIdentity, page: @escaping @Sendable (NodeTable, [NodeValue]?) async throws -> [[NodeValue]],
                           progress: @escaping @Sendable (NodeTable, Int) -> Void = { _, _ in }) async throws {
        try await transaction { db in
            _ = try await Self.takeSequence(in: db)
            let holds = try await db.exists("""
                SELECT 1 FROM account UNION ALL SELECT 1 FROM record UNION ALL SELECT 1 FROM audit UNION ALL SELECT 1 FROM node WHERE seq > 0 LIMIT 1
                """)
            guard !holds else {
                throw NodeError(.exists, "the database already holds a sync node; move the node into an empty database (or schema: ?options=-csearch_path%3DNAME)")
            }
            try await db.execute("""
                UPDATE node SET device = \(identity.device), counter = \(identity.counter), seq = \(identity.highestSequence),
                    generation = \(identity.generation), directory_version = \(identity.directoryVersion), created = \(identity.created),
                    former_nodes = \(identity.formerNodes), restore_window_until = \(identity.restoreWindowUntil),
                    relay_limits_known = \(identity.relayLimitsKnown), backup_taken = NULL
                WHERE id = 1
                """)
            for table in Self.importOrder {
                var key: [NodeValue]?
                var written = 0
                while true {
                    let rows = try await page(table, key)
                    guard let last = rows.last else { break }
                    try await Self.insert(rows, into: table, in: db)
                    written += rows.count
                    progress(table, written)
                    key = Array(last.prefix(table.keyCount))
                }
            }
            try await Self.deliverNumbered(above: 0, through: identity.highestSequence, in: db)
            try await db.execute("""
                UPDATE audit_head SET (last_id, hash) = (SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1)
                WHERE id = 1 AND EXISTS (SELECT 1 FROM audit)
                """)
        }
    }

    /// Gathers the planner's statistics of the tables a bulk copy filled (autovacuum would,
    /// a minute or more later): until then PostgreSQL guesses at the sizes of ranges.
    public func analyze() async throws {
        for table in ["record", "delivery", "case_access", "drop_notice", "audit"] {
            _ = try await transaction { db in try await db.execute(PostgresQuery(unsafeSQL: "ANALYZE \(table)")) }
        }
    }

    /// One multi-row insert of `rows` (at most 60,000 values a statement, PostgreSQL's bind limit
    /// being 65,535).
    static func insert(_ rows: [[NodeValue]], into table: NodeTable, in db: PostgresSession) async throws {
        let (name, columns) = sqlNames(table)
        let kinds = table.columns.map(\.kind)
        let perStatement = max(1, 60_000 / (columns.count + (table == .site ? 1 : 0)))
        for start in stride(from: 0, to: rows.count, by: perStatement) {
            let chunk = rows[start..<min(start + perStatement, rows.count)]
            var binds = PostgresBindings(capacity: chunk.count * columns.count)
            var tuples: [String] = []
            tuples.reserveCapacity(chunk.count)
            var number = 0
            for row in chunk {
                var placeholders: [String] = []
                for (value, kind) in zip(row, kinds) {
                    number += 1
                    placeholders.append("$\(number)")
                    switch (value, kind) {
                    case (.null, _): binds.appendNull()
                    case (.int(let value), .bool): binds.append(value != 0)
                    case (.int(let value), _): binds.append(value)
                    case (.text(let value), _): binds.append(value)
                    case (.blob(let value), _): binds.append(ByteBuffer(bytes: value))
                    }
                }
                tuples.append("(" + placeholders.joined(separator: ", ") + ")")
            }
            // Sites carry their case-folded name too (`folded`, the NOCASE key), folded as
            // the store folds it (ASCII letters only, as SQLite's NOCASE), not by the
            // database's collation.
            if table == .site {
                for (offset, row) in chunk.enumerated() {
                    if case .text(let site) = row.first {
                        number += 1
                        tuples[offset].removeLast()
                        tuples[offset] += ", $\(number))"
                        binds.append(Self.folded(site))
                    }
                }
            }
            let sql = table == .site
                ? "INSERT INTO site (name, added, folded) VALUES \(tuples.joined(separator: ", "))"
                : "INSERT INTO \(name) (\(columns.joined(separator: ", "))) VALUES \(tuples.joined(separator: ", "))"
            try await db.execute(PostgresQuery(unsafeSQL: sql, binds: binds))
        }
    }

    /// The node's identity, as `importNode` was given it or the node has it since.
    public func copyIdentity() async throws -> NodeIdentity {
        try await transaction { db in
            guard let row = try await db.rows("""
                SELECT device, counter, generation, directory_version, seq, created, former_nodes, restore_window_until, relay_limits_known
                FROM node WHERE id = 1
                """).first else { throw PostgresStoreError.notPrepared }
            let (device, counter, generation, directory, seq, created, former, until, known) =
                try row.decode((String, Int, String, Int, Int, Int64, String, Int64?, Bool).self)
            return NodeIdentity(device: device, counter: counter, generation: generation, directoryVersion: directory, highestSequence: seq,
                                created: created, formerNodes: former, restoreWindowUntil: until, relayLimitsKnown: known)
        }
    }

    /// The digest of the node's identity and every row, read back from one snapshot in the
    /// order the source store reads them (`NodeCopyDigest`).
    public func copyDigest(pageSize: Int = 5_000) async throws -> NodeCopyDigest {
        let identity = try await copyIdentity()
        return try await snapshot { db in
            var digest = NodeCopyDigest()
            digest.add(identity)
            for table in NodeTable.allCases {
                let (name, columns) = Self.sqlNames(table)
                let kinds = table.columns.map(\.kind)
                let keys = columns.prefix(table.keyCount)
                var key: [NodeValue]?
                while true {
                    var binds = PostgresBindings()
                    var sql = "SELECT \(columns.joined(separator: ", ")) FROM \(name)"
                    if let key {
                        sql += " WHERE (\(keys.joined(separator: ", "))) > (\((1...key.count).map { "$\($0)" }.joined(separator: ", ")))"
                        for (value, kind) in zip(key, kinds) {
                            switch (value, kind) {
                            case (.int(let value), .bool): binds.append(value != 0)
                            case (.int(let value), _): binds.append(value)
                            case (.text(let value), _): binds.append(value)
                            case (.blob(let value), _): binds.append(ByteBuffer(bytes: value))
                            case (.null, _): binds.appendNull()
                            }
                        }
                    }
                    sql += " ORDER BY \(keys.joined(separator: ", ")) LIMIT \(pageSize)"
                    let rows = try await db.rows(PostgresQuery(unsafeSQL: sql, binds: binds)).map { row in
                        try zip(row, kinds).map { cell, kind in try Self.nodeValue(cell, kind: kind) }
                    }
                    digest.add(table, rows)
                    guard rows.count == pageSize, let last = rows.last else { break }
                    key = Array(last.prefix(table.keyCount))
                }
            }
            return digest
        }
    }

    static func nodeValue(_ cell: PostgresCell, kind: NodeColumn.Kind) throws -> NodeValue {
        guard cell.bytes != nil else { return .null }
        switch kind {
        case .text: return .text(try cell.decode(String.self))
        case .int: return .int(try cell.decode(Int64.self))
        case .bool: return .int(try cell.decode(Bool.self) ? 1 : 0)
        case .blob: return .blob(Array(buffer: try cell.decode(ByteBuffer.self)))
        }
    }
}

extension PostgresNodeStore {
    /// The connections of `casesyncd serve` processes to this node's database and schema
    /// (named by `servingName`; a serving node keeps at least one open), other than this
    /// process's: `casesyncd restore --database` refuses while any node serves, since a
    /// running node keeps the generation it read when it started. Counts the sessions
    /// PostgreSQL shows this user (its own, or every one with `pg_read_all_stats`).
    public func servingConnections() async throws -> Int {
        try await transaction { db in
            try await db.value("""
                SELECT count(*) FROM pg_stat_activity
                WHERE datname = current_database() AND application_name = \(Self.servingName(schema: schema)) AND pid <> pg_backend_pid()
                """, as: Int.self) ?? 0
        }
    }

    /// Makes this database a restored node's, after PostgreSQL's own tools put it back from a
    /// backup (`casesyncd restore --database`): a new generation id, so every device starts
    /// its pull over and re-sends what it holds; a new device id for the node's own writes
    /// (the old one joins the former ids); the restore window open until `windowUntil`, with
    /// relays not bounded by counter (the replaced database, which knew each device's highest,
    /// is gone). Under the node row's lock, so no push lands half in either generation.
    /// Returns the new generation.
    @discardableResult
    public func startGeneration(windowUntil: Int64, at time: Int64) async throws -> String {
        try await transaction { db in
            _ = try await Self.takeSequence(in: db)
            var generator = SystemRandomNumberGenerator()
            let generation = DeviceID.random(using: &generator).rawValue
            let newNode = try DeviceID("node-" + DeviceID.random(using: &generator).rawValue)
            guard let row = try await db.rows("SELECT device, former_nodes FROM node WHERE id = 1").first else { throw PostgresStoreError.notPrepared }
            let (device, formerText) = try row.decode((String, String).self)
            var former = formerText.split(separator: " ").map(String.init)
            if !former.contains(device) { former.append(device) }
            try await db.execute("DELETE FROM relay_limit")
            try await db.execute("""
                UPDATE node SET device = \(newNode.rawValue), counter = 0, generation = \(generation), former_nodes = \(former.joined(separator: " ")),
                    restore_window_until = \(windowUntil), relay_limits_known = false, backup_taken = NULL
                WHERE id = 1
                """)
            try await Self.audit("restore", user: nil, device: newNode, records: [], at: time, in: db)
            return generation
        }
    }
}
