import SyncModel

/// A supervisor's request for break-glass access (`POST /v1/access`, PROTOCOL.md §13.5).
public struct AccessRequest: Codable, Sendable, Equatable {
    /// The case's id or reference.
    public let `case`: String
    /// Why, in 1-500 characters: audited and shown to the case's mediators.
    public let reason: String
    /// How long it lasts, in seconds (1 second to 7 days); 24 hours when left out.
    public let seconds: Int64?

    /// A request from its parts.
    public init(case caseID: String, reason: String, seconds: Int64?) {
        self.case = caseID
        self.reason = reason
        self.seconds = seconds
    }

    private enum CodingKeys: String, CodingKey, CaseIterable { case `case`, reason, seconds }

    /// Strict, like every request envelope: a key the protocol does not define is refused.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = container.allKeys.first(where: { CodingKeys(rawValue: $0.stringValue) == nil }) {
            throw DecodingError.dataCorruptedError(forKey: unknown, in: container, debugDescription: "unknown key \"\(unknown.stringValue.prefix(40))\"; an access request has case, reason and seconds")
        }
        let known = try decoder.container(keyedBy: CodingKeys.self)
        self.case = try known.decode(String.self, forKey: .case)
        reason = try known.decode(String.self, forKey: .reason)
        seconds = try known.decodeIfPresent(Int64.self, forKey: .seconds)
    }
}

/// A break-glass grant on the wire: the answer to `POST /v1/access`, and each entry of a
/// pull page's `access` list. Times are milliseconds since the Unix epoch.
public struct AccessAnswer: Codable, Sendable, Equatable {
    public let `case`: String
    public let granted: Int64
    public let reason: String
    public let seq: Int
    public let until: Int64
    public let user: String

    /// The wire form of `grant`.
    public init(_ grant: AccessGrant) {
        self.case = grant.caseID.rawValue
        granted = grant.granted
        reason = grant.reason
        seq = grant.seq
        until = grant.until
        user = grant.user
    }
}
