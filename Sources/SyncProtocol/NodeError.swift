import SyncModel

/// An error the sync node raises: a code from the protocol's table, one line naming the
/// problem and the fix, and for a refused push the index of the offending record. Thrown by
/// the node's rules and its store; the server turns it into an HTTP answer in one place,
/// the command lines into an exit status through `ErrorCode.exitStatus`.
public struct NodeError: Error, Hashable, Sendable, CustomStringConvertible, UserFacingError {
    /// The protocol code, which decides the HTTP status and the exit status.
    public let code: ErrorCode
    /// One line naming the problem and the fix, sent as the answer's `message`.
    public let message: String
    /// For a refused push: the index of the offending record in the batch.
    public let index: Int?
    /// Seconds a client should wait before trying again (`Retry-After`), for `busy`.
    public let retryAfter: Int?

    /// An error with `code` and `message`; `index` for a refused pushed record, `retryAfter` for `busy`.
    public init(_ code: ErrorCode, _ message: String, index: Int? = nil, retryAfter: Int? = nil) {
        self.code = code
        self.message = message
        self.index = index
        self.retryAfter = retryAfter
    }

    /// A model error about record `index` of a push (or about the request, when nil), under
    /// the model's own code.
    public static func rejected(_ error: ModelError, index: Int?) -> NodeError {
        NodeError(ErrorCode(error.code), (index.map { "record \($0): " } ?? "") + error.message, index: index)
    }

    /// The answer to a request without valid `DEVICE:SECRET` credentials (401).
    public static let unauthorised = NodeError(.unauthorised, "missing or invalid device credentials; send Authorization: Bearer DEVICE:SECRET from enrollment")

    /// The exit status `casesyncd` reports this error with (`ErrorCode.exitStatus`).
    public var exitStatus: ExitStatus { code.exitStatus }
    /// `code: message`, for logs.
    public var description: String { "\(code.rawValue): \(message)" }
}

extension ModelError: UserFacingError {
    /// A record's deletion is "not found" to a user; every other model error is bad input.
    public var exitStatus: ExitStatus { code == .recordDeleted ? .notFound : .usage }
}
