import PostgresNIO
import SyncProtocol

/// An error of the PostgreSQL store itself (the rules' refusals are `NodeError`s): one line
/// naming the problem and the fix, never the database's own text (which can quote values).
/// A database the node cannot reach is a `NodeError` `busy` instead: devices retry it.
public struct PostgresStoreError: Error, Sendable, CustomStringConvertible, UserFacingError {
    /// What went wrong.
    public enum Kind: String, Sendable {
        /// The database URL is not one the store can use.
        case badURL = "bad_url"
        /// The database has no node schema (`prepare` was not run).
        case notPrepared = "not_prepared"
        /// The database refused a statement (the SQLSTATE is in the message).
        case database
    }

    public let kind: Kind
    public let message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    static func badURL(_ message: String) -> PostgresStoreError { PostgresStoreError(.badURL, message) }
    static let notPrepared = PostgresStoreError(.notPrepared, "the database holds no sync node; start `casesyncd serve --database URL` once to create it")

    /// A bad URL is a usage error (1); the rest are the node's internal errors (10).
    public var exitStatus: ExitStatus { kind == .badURL ? .usage : .internalError }
    public var description: String { "\(kind.rawValue): \(message)" }

    /// The error a store method throws for `error`: the rules' errors as they are, a
    /// database that cannot be reached as `busy` (retried), any other database error by its
    /// SQLSTATE alone.
    static func mapped(_ error: any Error) -> any Error {
        if error is NodeError || error is PostgresStoreError || error is CancellationError { return error }
        if let error = error as? any UserFacingError { return error }
        if let error = error as? PSQLError {
            if let state = error.serverInfo?[.sqlState] {
                return PostgresStoreError(.database, "the node's database refused a statement (SQLSTATE \(state)); see the PostgreSQL server's log")
            }
            return NodeError(.busy, "the node's database cannot be reached; check that PostgreSQL runs and the database URL, then retry", retryAfter: 5)
        }
        // The pool gave up connecting (postgres-nio's `ConnectionPoolError`, of a module it
        // does not export): the database is unreachable, as above.
        if String(describing: type(of: error)) == "ConnectionPoolError" {
            return NodeError(.busy, "the node's database cannot be reached; check that PostgreSQL runs and the database URL, then retry", retryAfter: 5)
        }
        return PostgresStoreError(.database, "the node's database failed (\(type(of: error))); see the PostgreSQL server's log")
    }
}
