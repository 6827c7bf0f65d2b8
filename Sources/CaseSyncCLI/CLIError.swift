import ArgumentParser
import SyncClient
import SyncModel
import SyncProtocol
import SyncStore

/// An error as the command line reports it: one line on stderr and an exit status.
/// Every error the libraries raise is mapped here, once.
public struct CLIError: Error, Sendable, CustomStringConvertible, UserFacingError {
    public let status: ExitStatus
    public let message: String

    public init(_ status: ExitStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { message }
    public var exitStatus: ExitStatus { status }

    /// Maps any error to what the user sees: the exit status every library error declares
    /// (`UserFacingError`, the same for `casesyncd`) and its one-line message.
    public static func from(_ error: any Error) -> CLIError {
        switch error {
        case let error as CLIError:
            return error
        case let error as StoreError where error.code == .corrupt:
            return CLIError(error.exitStatus, error.message + "; run `casesync status` and report this")
        case let error as any UserFacingError:
            return CLIError(error.exitStatus, error.message)
        default:
            return CLIError(.internalError, "internal error: \(type(of: error))")
        }
    }
}
