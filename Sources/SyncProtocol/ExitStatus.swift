/// The exit codes of DESIGN.md, shared by both command lines (`casesync` and `casesyncd`).
public enum ExitStatus: Int32, Sendable, CaseIterable {
    case success = 0
    case usage = 1
    case notFound = 2
    case unreachable = 3
    case unauthorised = 4
    case refused = 5
    case internalError = 10
}

/// An error that knows how a command line reports it: the exit status, and one line naming
/// the problem and the fix. Each library's error type conforms once, next to its definition
/// (or here, for SyncModel's), so both tools map every error the same way.
public protocol UserFacingError: Error {
    var exitStatus: ExitStatus { get }
    /// One line, naming the problem and the fix.
    var message: String { get }
}

extension ExitStatus {
    /// The exit status of any error: its own when it is a `UserFacingError`, otherwise an
    /// internal error.
    public init(for error: any Error) {
        self = (error as? any UserFacingError)?.exitStatus ?? .internalError
    }
}
