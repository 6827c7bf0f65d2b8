import Foundation
import Logging
import NodeStorage
import NIOSSL
import PostgresNIO
import SyncModel
import SyncProtocol
import Synchronization

/// The sync node's storage in PostgreSQL: the same `NodeStore` API as the embedded SQLite
/// store, so that several stateless `casesyncd` processes can serve one database (and
/// PostgreSQL's own replication and backup tools keep it).
///
/// Connections come from postgres-nio's pool (`PostgresClient`), which must be running:
/// `run()` in a task for as long as the store is used, then `prepare()`. Every method is one
/// transaction on one pooled connection; nothing blocks a thread while it waits for the
/// database.
///
/// Invariants beyond `NodeStore`'s: every transaction that numbers changes takes the `node`
/// row's lock first and numbers from its `seq` (`takeSequence`), so change numbers are
/// given in commit order across every process serving the database, and a pull that has
/// served number N has already seen every commit numbered below it (PROTOCOL.md §21).
public final class PostgresNodeStore: NodeStore, Sendable {
    /// The pool (`run()` runs it).
    public let client: PostgresClient
    let logger: Logger
    /// This process's pushes, one at a time (see `applyPush`).
    let pushTurns = PushTurns()

    /// A store on the database `url` names (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB`, or
    /// `postgresql://`; `?sslmode=disable|prefer|require|verify-ca|verify-full` as libpq's,
    /// default prefer). Opens nothing yet: `prepare()` (once `run()` runs) brings the schema
    /// up to date. `maximumConnections` bounds the pool; a connection idle for `idleTimeout`
    /// is closed. A `serving` store (`casesyncd serve`) names its connections and keeps one
    /// open, so that `servingConnections()` finds it.
    public init(url: String, logger: Logger, maximumConnections: Int = 20, idleTimeout: Duration = .seconds(60), serving: Bool = false) throws {
        var configuration = try Self.configuration(url: url)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectionIdleTimeout = idleTimeout
        schema = configuration.options.additionalStartupParameters.first { $0.0 == "search_path" }?.1
        if let schema, !Self.isPlainName(schema) {
            throw PostgresStoreError.badURL("search_path \(schema.prefix(40)) must be one schema name of a-z, 0-9 and _")
        }
        if serving {
            configuration.options.minimumConnections = 1
            configuration.options.additionalStartupParameters.removeAll { $0.0 == "application_name" }
            configuration.options.additionalStartupParameters.append(("application_name", Self.servingName(schema: schema)))
        }
        client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
    }

    /// Set once `run` has started the pool: `prepare` waits for it, so that no connection is
    /// asked for before the pool runs.
    private let running = Atomic<Bool>(false)

    /// Runs the connection pool until the task is cancelled (or a graceful shutdown, as a
    /// service): start it before `prepare`, and keep it running while the store is used.
    public func run() async {
        running.store(true, ordering: .releasing)
        await client.run()
    }

    /// The schema the URL puts the node in (`options=-csearch_path=NAME`), created by
    /// `prepare` if it does not exist; nil for the database's default (`public`).
    let schema: String?

    /// The `application_name` of a serving node's connections to the node in `schema`: at
    /// most 63 bytes, as PostgreSQL keeps it.
    static func servingName(schema: String?) -> String {
        String(("casesyncd serve " + (schema ?? "public")).utf8.prefix(63)) ?? "casesyncd serve"
    }

    /// Whether `name` can be written into SQL as it is: a lowercase identifier.
    static func isPlainName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 63 && name.utf8.allSatisfy { (0x61...0x7a).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5f }
            && !(0x30...0x39).contains(name.utf8.first ?? 0)
    }

    /// Parses a database URL into the pool's configuration (also for tools that talk to the
    /// same database, such as the benchmarks' bare insert). Throws `PostgresStoreError`
    /// (`badURL`) naming what is wrong.
    public static func configuration(url text: String) throws -> PostgresClient.Configuration {
        guard let url = URLComponents(string: text), let scheme = url.scheme, ["postgres", "postgresql"].contains(scheme.lowercased()) else {
            throw PostgresStoreError.badURL("the database URL must look like postgres://USER@HOST[:PORT]/DATABASE")
        }
        guard let user = url.user, !user.isEmpty else {
            throw PostgresStoreError.badURL("the database URL names no user: postgres://USER@HOST/DATABASE")
        }
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresStoreError.badURL("the database URL names no database: postgres://USER@HOST/DATABASE")
        }
        // libpq's meanings: `prefer` and `require` encrypt without checking the server's
        // certificate (Debian's own server has a self-signed one), `verify-ca` checks it
        // against the system's trust store, `verify-full` its name too.
        let mode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        var unchecked = TLSConfiguration.makeClientConfiguration()
        unchecked.certificateVerification = .none
        var caOnly = TLSConfiguration.makeClientConfiguration()
        caOnly.certificateVerification = .noHostnameVerification
        let tls: PostgresClient.Configuration.TLS
        switch mode {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(unchecked)
        case "require": tls = .require(unchecked)
        case "verify-ca": tls = .require(caOnly)
        case "verify-full": tls = .require(.makeClientConfiguration())
        default: throw PostgresStoreError.badURL("sslmode \(mode.prefix(20)) is not one of disable, prefer, require, verify-ca, verify-full")
        }
        var configuration: PostgresClient.Configuration
        if let host = url.host, !host.isEmpty {
            configuration = PostgresClient.Configuration(host: host, port: url.port ?? 5432, username: user, password: url.password,
                                                         database: database, tls: tls)
        } else {
            // No host: the local server's socket, `?host=/path/to/dir` as libpq takes it.
            let socketDirectory = url.queryItems?.first { $0.name == "host" }?.value ?? "/var/run/postgresql"
            configuration = PostgresClient.Configuration(unixSocketPath: socketDirectory + "/.s.PGSQL.\(url.port ?? 5432)", username: user,
                                                         password: url.password, database: database)
        }
        // libpq's `options`: `-c NAME=VALUE` settings for each connection (a schema of its
        // own: `options=-csearch_path%3DNAME`).
        if let options = url.queryItems?.first(where: { $0.name == "options" })?.value {
            var words = options.split(separator: " ").map(String.init)[...]
            while let word = words.popFirst() {
                guard word.hasPrefix("-c") else { throw PostgresStoreError.badURL("options may hold only -c NAME=VALUE settings") }
                let setting = word == "-c" ? words.popFirst() ?? "" : String(word.dropFirst(2))
                let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw PostgresStoreError.badURL("options may hold only -c NAME=VALUE settings") }
                configuration.options.additionalStartupParameters.append((parts[0], parts[1]))
            }
        }
        return configuration
    }

    /// Brings the schema up to date and gives a new database the node's identity (a
    /// `node-…` device id and a generation id). Several nodes may start at once: the
    /// migrations run under an advisory lock of the schema's.
    /// A database that cannot be reached within `timeout` (its first answer) is a `busy`
    /// error (exit 3) naming what to check, instead of a wait for as long as the pool keeps
    /// trying.
    public func prepare(at time: Int64 = Int64(Date().timeIntervalSince1970 * 1000), timeout: Duration = .seconds(15)) async throws {
        while !running.load(ordering: .acquiring) {
            try await Task.sleep(for: .milliseconds(1))
        }
        await Task.yield()
        // Reachable first, within the timeout; the migrations then take what they take.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { _ = try await self.transaction { db in try await db.execute("SELECT 1") } }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw NodeError(.busy, "the node's database did not answer within \(timeout.components.seconds) s: check that PostgreSQL runs, that the database in the URL exists and that its user may connect (the PostgreSQL server's log says which)", retryAfter: 5)
            }
            defer { group.cancelAll() }
            try await group.next()
        }
        try await migrate(at: time)
    }

    /// The migrations and the node's identity, in one transaction (see `prepare`).
    private func migrate(at time: Int64) async throws {
        try await transaction { db in
            // One lock a schema: nodes of one node's schema take turns; nodes of others (a
            // test's, another service's) never wait for them.
            try await db.execute("SELECT pg_advisory_xact_lock(hashtext(\("casesync node schema " + (schema ?? "public"))))")
            if let schema { try await db.execute("CREATE SCHEMA IF NOT EXISTS \(unescaped: schema)") }
            try await db.execute("CREATE TABLE IF NOT EXISTS schema_migration (name text PRIMARY KEY, applied bigint NOT NULL)")
            let applied = Set(try await db.rows("SELECT name FROM schema_migration").map { try $0.decode(String.self) })
            for migration in PostgresSchema.migrations where !applied.contains(migration.name) {
                try await db.script(migration.sql)
                try await db.execute("INSERT INTO schema_migration (name, applied) VALUES (\(migration.name), \(time))")
            }
            if try await db.rows("SELECT 1 FROM node WHERE id = 1").isEmpty {
                var generator = SystemRandomNumberGenerator()
                let device = "node-" + DeviceID.random(using: &generator).rawValue
                let generation = DeviceID.random(using: &generator).rawValue
                try await db.execute("""
                    INSERT INTO node (id, device, counter, seq, generation, created) VALUES (1, \(device), 0, 0, \(generation), \(time))
                    """)
            }
        }
    }

    /// See `NodeStore.nodeState`.
    public func nodeState(at time: Int64) async throws -> NodeState {
        try await transaction { db in
            guard let row = try await db.rows("SELECT generation, backup_taken, restore_window_until, former_nodes, relay_limits_known FROM node WHERE id = 1").first else {
                throw PostgresStoreError.notPrepared
            }
            let (generation, backupTaken, until, former, limitsKnown) = try row.decode((String, Int64?, Int64?, String, Bool).self)
            var window: RestoreWindow?
            if let until, until > time {
                var limits: [DeviceID: Int]?
                if limitsKnown {
                    var known: [DeviceID: Int] = [:]
                    for row in try await db.rows("SELECT device, counter FROM relay_limit") {
                        let (device, counter) = try row.decode((String, Int).self)
                        if let id = try? DeviceID(device) { known[id] = counter }
                    }
                    limits = known
                }
                window = RestoreWindow(until: until, formerNodes: Set(former.split(separator: " ").compactMap { try? DeviceID(String($0)) }),
                                       relayLimits: limits)
            }
            return NodeState(generation: generation, restoreWindow: window, backupTaken: backupTaken)
        }
    }

    /// How many records the node holds (tests, `migrate`'s check).
    public func recordCount() async throws -> Int {
        try await transaction { db in try await db.value("SELECT COUNT(*) FROM record", as: Int.self) ?? 0 }
    }

    /// The stored state of a record (tests and administration).
    public func record(_ id: RecordID) async throws -> RecordState? {
        try await records([id])[id]
    }

    // MARK: Transactions

    /// Runs `body` in one transaction on a pooled connection: committed when it returns,
    /// rolled back when it throws. Errors of the database itself come out as
    /// `PostgresStoreError`; the body's own (`NodeError`) as they are.
    func transaction<Result: Sendable>(_ body: (PostgresSession) async throws -> Result) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await body(PostgresSession(connection: connection, logger: logger))
            }
        } catch let error as PostgresTransactionError {
            // The body's error, or a failed BEGIN/COMMIT/ROLLBACK: the first that happened.
            throw PostgresStoreError.mapped(error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError ?? error)
        } catch {
            throw PostgresStoreError.mapped(error)
        }
    }

    /// Runs `body` in one read-only transaction that sees one snapshot of the database
    /// throughout (REPEATABLE READ): a pull page's records, its drops and the highest
    /// sequence it reports then agree, whatever commits meanwhile.
    func snapshot<Result: Sendable>(_ body: (PostgresSession) async throws -> Result) async throws -> Result {
        try await transaction { db in
            try await db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            return try await body(db)
        }
    }
}

/// One transaction's connection, with the few calls the store makes on it.
struct PostgresSession {
    let connection: PostgresConnection
    let logger: Logger

    /// Runs a statement, discarding any rows.
    func execute(_ query: PostgresQuery) async throws {
        _ = try await connection.query(query, logger: logger).collect()
    }

    /// Runs several statements (a migration), one at a time: the extended query protocol
    /// (the only one postgres-nio speaks) takes one statement a query.
    func script(_ sql: String) async throws {
        for statement in Self.statements(of: sql) {
            try await execute(PostgresQuery(unsafeSQL: statement))
        }
    }

    /// The statements of a script written as the migrations are: each ends with `;` at the
    /// end of a line, outside a `$$` body (a function's body holds `;` of its own).
    static func statements(of sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var inBody = false
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            let text = line.trimmingCharacters(in: .whitespaces)
            if text.hasPrefix("--") || (text.isEmpty && current.isEmpty) { continue }
            current += line + "\n"
            if line.components(separatedBy: "$$").count % 2 == 0 { inBody.toggle() }
            if !inBody, text.hasSuffix(";") {
                statements.append(current)
                current = ""
            }
        }
        if !current.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { statements.append(current) }
        return statements
    }

    /// Every row of a query (callers keep their queries to a page or a key).
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await connection.query(query, logger: logger).collect()
    }

    /// The first column of the first row, or nil for no row or NULL.
    func value<Value: PostgresDecodable>(_ query: PostgresQuery, as type: Value.Type) async throws -> Value? where Value._DecodableType == Value {
        guard let row = try await rows(query).first else { return nil }
        return try row.decode(Value?.self)
    }

    /// Whether the query returns a row.
    func exists(_ query: PostgresQuery) async throws -> Bool {
        try await !rows(query).isEmpty
    }
}
