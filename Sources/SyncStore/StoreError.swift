import SyncModel

/// Errors of the replica store: a stable code, a one-line message naming the fix.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What went wrong, for callers and scripts; the raw value is the code printed before the message.
    public enum Code: String, Sendable {
        /// The data folder has no replica yet (`casesync init`).
        case notInitialized = "not_initialized"
        /// `init` on a folder that already holds a replica.
        case alreadyInitialized = "already_initialized"
        /// No record with that id (or reference).
        case notFound = "not_found"
        /// An id prefix or suffix that matches more than one record.
        case ambiguous
        /// The record exists but is of another type than the command expects.
        case wrongType = "wrong_type"
        /// The stored data is not what this version can read.
        case corrupt
        /// A user or device that already exists.
        case exists
        /// An enrollment token that is unknown, used or expired; a disabled user.
        case refused
        /// A file the store was given that it cannot use: not a node's backup, damaged, or
        /// not writable where it must be created.
        case unusable
        /// A database file that SQLite cannot read as a database: damaged, or another file.
        case notADatabase = "not_a_database"
        /// An encrypted replica opened without its key: `casesync unlock`, or a passphrase.
        case locked
        /// A passphrase that does not open the replica's key.
        case wrongPassphrase = "wrong_passphrase"
        /// A new passphrase too short to protect the replica.
        case weakPassphrase = "weak_passphrase"
    }

    /// What kind of error it is: decides the exit status.
    public let code: Code
    /// One line naming the problem and its fix.
    public let message: String

    /// An error with `code` and a one-line `message` that names the fix.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`, as printed.
    public var description: String { "\(code.rawValue): \(message)" }
}

import SyncProtocol

extension StoreError: UserFacingError {
    /// Not found or wrong type: 2; usage (uninitialised, ambiguous, exists, unusable file, not a database): 1;
    /// refused, locked, wrong passphrase: 4; corrupt data: 10.
    public var exitStatus: ExitStatus {
        switch code {
        case .notFound, .wrongType: .notFound
        case .notInitialized, .alreadyInitialized, .ambiguous, .exists, .unusable, .notADatabase, .weakPassphrase: .usage
        case .refused, .locked, .wrongPassphrase: .unauthorised
        case .corrupt: .internalError
        }
    }
}
