/// Why a sync (or enrollment) did not complete. The local store is never changed by a
/// failed exchange, so every case leaves local work intact.
public struct SyncError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure it was; it decides the exit status.
    public enum Kind: Sendable, Equatable {
        /// No answer from the server (after retries): network, DNS, TLS, timeout, 5xx, 429.
        case unreachable
        /// The server does not accept this device: bad, revoked or disabled credentials (401/403).
        case unauthorised
        /// The server refused the data or the request (other 4xx).
        case refused
        /// The server answered something this client cannot read.
        case protocolViolation
        /// The caller gave something unusable before anything was sent (a server address
        /// without `https://`): a local mistake, exit 1.
        case badInput
    }

    /// What kind of failure it was; it decides the exit status (`exitStatus`).
    public let kind: Kind
    /// The server's error code, when it sent one.
    public let code: String?
    /// One line for the user: what failed, with the server's message when it sent one.
    public let message: String
    /// For a refused push: which record of the batch the server named.
    public let index: Int?
    /// Whether the node said its restore window is open (`CaseSync-Restoring`): a refusal
    /// of a re-delivered record may then be only for now.
    public let nodeRestoring: Bool

    /// An error of `kind`; `code`, `index` and `nodeRestoring` as the server's answer said.
    public init(_ kind: Kind, code: String? = nil, _ message: String, index: Int? = nil, nodeRestoring: Bool = false) {
        self.kind = kind
        self.code = code
        self.message = message
        self.index = index
        self.nodeRestoring = nodeRestoring
    }

    /// The same error about record `index` (of a larger batch than the one sent).
    func naming(index: Int?) -> SyncError {
        SyncError(kind, code: code, message, index: index, nodeRestoring: nodeRestoring)
    }

    /// The message alone.
    public var description: String { message }
}

import SyncProtocol

extension SyncError: UserFacingError {
    /// The server's code as the protocol's table knows it (nil for none, or one this
    /// version does not know).
    public var errorCode: ErrorCode? { code.flatMap(ErrorCode.init(rawValue:)) }

    /// Unreachable: 3, unauthorised: 4, refused: 5, an unreadable answer: 10 (PROTOCOL.md §9).
    public var exitStatus: ExitStatus {
        switch kind {
        case .unreachable: .unreachable
        case .unauthorised: .unauthorised
        case .refused: .refused
        case .protocolViolation: .internalError
        case .badInput: .usage
        }
    }
}
