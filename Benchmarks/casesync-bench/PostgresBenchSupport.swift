import Foundation
import Logging
import NIOCore
import PostgresNIO
import PostgresNodeStore

/// `base` with the connections' search path set to `schema` (libpq's `options`).
func withSchema(_ base: String, _ schema: String) -> String {
    base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D" + schema
}

/// How the bare insert a push into PostgreSQL is compared against writes its rows.
enum BareInsert: String, CaseIterable {
    /// One INSERT a row, 500 to a transaction: the method of the SQLite limit
    /// (`bareSQLiteInsert`), so both stores' ratios are against the same program.
    case perRow = "per_row"
    /// One multi-row INSERT of 500 rows a transaction: the fastest way PostgreSQL takes them.
    case batch
}

/// A limit a push into PostgreSQL is compared against: the same (id, canonical JSON) rows
/// inserted into a fresh table of schema `schema` in the same database, 500 to a transaction
/// written as `method` says, durable on commit. Returns the seconds it took.
func barePostgresInsert(_ rows: [(String, Data)], url: String, schema: String, method: BareInsert, batch: Int = 500) async throws -> Double {
    let client = PostgresClient(configuration: try PostgresNodeStore.configuration(url: url), backgroundLogger: Logger(label: "bench"))
    return try await withThrowingTaskGroup(of: Double.self) { group in
        group.addTask {
            await client.run()
            return 0
        }
        defer { group.cancelAll() }
        // The pool's task has had a moment to start (a lease before would only warn).
        try await Task.sleep(for: .milliseconds(20))
        let table = "\(schema).record_\(method.rawValue)"
        try await client.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(schema)"))
        try await client.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(table) (id text PRIMARY KEY, state bytea NOT NULL)"))
        let start = ContinuousClock.now
        var index = 0
        while index < rows.count {
            let end = min(index + batch, rows.count)
            let chunk = rows[index..<end]
            switch method {
            case .perRow:
                try await client.withTransaction(logger: Logger(label: "bench")) { connection in
                    for row in chunk {
                        var binds = PostgresBindings()
                        binds.append(row.0)
                        binds.append(ByteBuffer(bytes: row.1))
                        _ = try await connection.query(PostgresQuery(unsafeSQL: "INSERT INTO \(table) (id, state) VALUES ($1, $2)", binds: binds),
                                                       logger: Logger(label: "bench")).collect()
                    }
                }
            case .batch:
                var binds = PostgresBindings()
                binds.append(chunk.map(\.0))
                binds.append(chunk.map { ByteBuffer(bytes: $0.1) })
                try await client.query(PostgresQuery(unsafeSQL: "INSERT INTO \(table) (id, state) SELECT * FROM UNNEST($1::text[], $2::bytea[])", binds: binds))
            }
            index = end
        }
        return (ContinuousClock.now - start).seconds
    }
}

/// Drops the benchmark's schemas (and what they hold).
func dropSchemas(_ schemas: [String], url: String) throws {
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        let client = PostgresClient(configuration: try PostgresNodeStore.configuration(url: url), backgroundLogger: Logger(label: "bench"))
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            for schema in schemas { _ = try? await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \(schema) CASCADE")) }
            group.cancelAll()
        }
        done.signal()
    }
    done.wait()
}
