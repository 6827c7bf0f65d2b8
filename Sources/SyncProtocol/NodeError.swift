import SyncModel

/// An error the sync node raises: a code from the protocol's table, one line naming the
/// problem and the fix, and for a refused push the index of the offending record. Thrown by
/// the node's rules and its store; the server turns it into an HTTP answer in one place,
/// the command lines into an exit status through `ErrorCode.exitStatus`.
public struct NodeError: Error, Hashable, Sendable, CustomStringConvertible, UserFacingError {
    public let code: ErrorCode
    public let message: String
    /// For a refused push: the index of the offending record in the batch.
    public let index: Int?
    /// Seconds a client should wait before trying again (`Retry-After`), for `busy`.
    public let retryAfter: Int?

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

    public static let unauthorised = NodeError(.unauthorised, "missing or invalid device credentials; send Authorization: Bearer DEVICE:SECRET from enrollment")

    public var exitStatus: ExitStatus { code.exitStatus }
    public var description: String { "\(code.rawValue): \(message)" }
}

extension ModelError: UserFacingError {
    /// A record's deletion is "not found" to a user; every other model error is bad input.
    public var exitStatus: ExitStatus { code == .recordDeleted ? .notFound : .usage }
}
