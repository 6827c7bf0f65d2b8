import ArgumentParser
import SyncClient
import SyncModel
import SyncStore

/// The exit codes of DESIGN.md, shared by both command lines.
public enum ExitStatus: Int32, Sendable {
    case success = 0
    case usage = 1
    case notFound = 2
    case unreachable = 3
    case unauthorised = 4
    case refused = 5
    case internalError = 10
}

/// An error as the command line reports it: one line on stderr and an exit status.
/// Every error the libraries raise is mapped here, once.
public struct CLIError: Error, Sendable, CustomStringConvertible {
    public let status: ExitStatus
    public let message: String

    public init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { message }

    /// Maps any error to what the user sees.
    public static func from(_ error: any Error) -> CLIError {
        switch error {
        case let error as CLIError:
            return error
        case let error as ModelError:
            return CLIError(error.code == .recordDeleted ? .notFound : .usage, error.message)
        case let error as SyncError:
            switch error.kind {
            case .unreachable: return CLIError(.unreachable, error.message)
            case .unauthorised: return CLIError(.unauthorised, error.message)
            case .refused: return CLIError(.refused, error.message)
            case .protocolViolation: return CLIError(.internalError, error.message)
            }
        case let error as StoreError:
            switch error.code {
            case .notFound, .wrongType: return CLIError(.notFound, error.message)
            case .notInitialized, .alreadyInitialized, .ambiguous, .exists, .unusable: return CLIError(.usage, error.message)
            case .refused: return CLIError(.unauthorised, error.message)
            case .corrupt: return CLIError(.internalError, error.message + "; run `casesync status` and report this")
            }
        default:
            return CLIError(.internalError, "internal error: \(error)")
        }
    }
}
