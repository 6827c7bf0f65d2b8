import Foundation
import Logging
import NIOCore
import PostgresNIO
import PostgresNodeStore

/// `base` with the connections' search path set to `schema` (libpq's `options`).
func withSchema(_ base: String, _ schema: String) -> String {
    base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D" + schema
}

/// The limit a push into PostgreSQL is compared against: the same (id, canonical JSON) rows
/// inserted into a fresh table of schema `schema` in the same database, 500 rows to a
/// transaction with one multi-row insert each (one round trip a batch, as the node's own
/// record writes are), durable on commit. Returns the seconds it took.
func barePostgresInsert(_ rows: [(String, Data)], url: String, schema: String, batch: Int = 500) async throws -> Double {
    let client = PostgresClient(configuration: try PostgresNodeStore.configuration(url: url), backgroundLogger: Logger(label: "bench"))
    return try await withThrowingTaskGroup(of: Double.self) { group in
        group.addTask {
            await client.run()
            return 0
        }
        defer { group.cancelAll() }
        try await client.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"))
        try await client.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(schema).record (id text PRIMARY KEY, state bytea NOT NULL)"))
        let insert = "INSERT INTO \(schema).record (id, state) SELECT * FROM UNNEST($1::text[], $2::bytea[])"
        let start = ContinuousClock.now
        var index = 0
        while index < rows.count {
            let end = min(index + batch, rows.count)
            var binds = PostgresBindings()
            binds.append(rows[index..<end].map(\.0))
            binds.append(rows[index..<end].map { ByteBuffer(bytes: $0.1) })
            try await client.query(PostgresQuery(unsafeSQL: insert, binds: binds))
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
