import SyncProtocol

/// Why a backup could not be sealed or opened; each case is one line naming the fix.
public struct BackupError: Error, UserFacingError, Equatable {
    public enum Code: Sendable, Equatable {
        /// A key file is missing, unreadable or not a CaseSync backup key.
        case badKeyFile
        /// The identity given is not the one the backup was sealed to.
        case wrongIdentity
        /// The backup file is cut short or was altered.
        case damaged
        /// A file could not be read or written.
        case io
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var exitStatus: ExitStatus {
        switch code {
        case .badKeyFile, .io: .usage
        case .wrongIdentity: .unauthorised
        case .damaged: .internalError
        }
    }
}
