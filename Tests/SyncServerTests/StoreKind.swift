import CaseSyncTestSupport
import Foundation
import Logging
import NodeStorage
import PostgresNodeStore
import SyncModel
import SyncStore
import Testing

/// The store implementations the node's tests run against: SQLite always, PostgreSQL when
/// `CASESYNC_TEST_DATABASE_URL` names a database (each test then gets a schema of its own).
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    static let databaseVariable = "CASESYNC_TEST_DATABASE_URL"

    /// The database URL the PostgreSQL tests use, if set and not empty.
    static var databaseURL: String? {
        guard let url = ProcessInfo.processInfo.environment[databaseVariable], !url.isEmpty else { return nil }
        return url
    }

    /// The kinds to run against here: `.sqlite`, and `.postgres` when a database is named.
    static var available: [StoreKind] {
        databaseURL == nil ? [.sqlite] : [.sqlite, .postgres]
    }

    var testDescription: String { rawValue }

    /// A new, empty store of this kind: SQLite in memory, or PostgreSQL on a fresh schema
    /// (`t_` and 16 random hex digits) of the test database, prepared and with its pool running.
    func makeStore() async throws -> any NodeStore {
        switch self {
        case .sqlite:
            return try SQLiteNodeStore.inMemory()
        case .postgres:
            guard let base = Self.databaseURL else {
                throw StoreKindError(message: "\(Self.databaseVariable) is not set: no database for the PostgreSQL store")
            }
            return try await Self.postgresStore(url: Self.freshSchemaURL(base))
        }
    }

    /// `base` with a schema of its own (`DaemonProcess.freshSchemaURL`).
    static func freshSchemaURL(_ base: String) -> String {
        DaemonProcess.freshSchemaURL(base)
    }

    /// A PostgreSQL store on `url`, prepared, with a small pool running for the rest of the
    /// test process (tests run side by side: the cluster's connections are shared).
    /// Two connections by default, closed when idle for a second: a test run makes hundreds
    /// of stores. (A test that holds transactions open side by side asks for more.)
    static func postgresStore(url: String, maximumConnections: Int = 2) async throws -> PostgresNodeStore {
        let store = try PostgresNodeStore(url: url, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                                          maximumConnections: maximumConnections, idleTimeout: .seconds(1))
        Task { await store.run() }
        // The whole suite runs at once on two cores: patience, not the operator's 15 s.
        try await store.prepare(timeout: .seconds(600))
        return store
    }
}

struct StoreKindError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

extension NodeStore {
    /// The stored state of a record, whatever the store (tests).
    func record(_ id: RecordID) async throws -> RecordState? {
        try await records([id])[id]
    }

    /// How many records the store holds, by exporting them all (tests: small stores only).
    func recordCount() async throws -> Int {
        try await exportPage(type: nil, since: 0, limit: Int.max).count
    }
}
