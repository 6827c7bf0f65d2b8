/// Why a sync (or enrollment) did not complete. The local store is never changed by a
/// failed exchange, so every case leaves local work intact.
public struct SyncError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// No answer from the server (after retries): network, DNS, TLS, timeout, 5xx, 429.
        case unreachable
        /// The server does not accept this device: bad, revoked or disabled credentials (401/403).
        case unauthorised
        /// The server refused the data or the request (other 4xx).
        case refused
        /// The server answered something this client cannot read.
        case protocolViolation
    }

    public let kind: Kind
    /// The server's error code, when it sent one.
    public let code: String?
    public let message: String
    /// For a refused push: which record of the batch the server named.
    public let index: Int?

    public init(_ kind: Kind, code: String? = nil, _ message: String, index: Int? = nil) {
        self.kind = kind
        self.code = code
        self.message = message
        self.index = index
    }

    public var description: String { message }
}
