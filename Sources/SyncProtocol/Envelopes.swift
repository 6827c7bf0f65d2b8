/// `POST /v1/enroll`: a one-time token binds a device to its user.
public struct EnrollRequest: Codable, Sendable, Equatable {
    /// The id the device made at `casesync init`; the node checks it as a `DeviceID`.
    public let device: String
    /// A human-readable name for the device (1–100 characters), which the node stores with it.
    public let name: String
    /// The one-time enrollment token from `casesyncd enroll NAME`; this request uses it up.
    public let token: String

    /// An enrollment request from its three parts.
    public init(device: String, name: String, token: String) {
        self.device = device
        self.name = name
        self.token = token
    }

    private enum CodingKeys: String, CodingKey, CaseIterable { case device, name, token }

    /// Strict: a key the protocol does not define is refused, not ignored (a misspelt
    /// `devcie` must not enroll a device without an id).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: AnyKey.self)
        if let unknown = container.allKeys.first(where: { CodingKeys(rawValue: $0.stringValue) == nil }) {
            throw DecodingError.dataCorruptedError(forKey: unknown, in: container, debugDescription: "unknown key \"\(unknown.stringValue.prefix(40))\"; an enrollment has device, name and token")
        }
        let known = try decoder.container(keyedBy: CodingKeys.self)
        device = try known.decode(String.self, forKey: .device)
        name = try known.decode(String.self, forKey: .name)
        token = try known.decode(String.self, forKey: .token)
    }
}

/// The answer to an enrollment: the device's secret (shown once), its user and role.
public struct EnrollAnswer: Codable, Sendable, Equatable {
    /// The enrolled device's id, as the request gave it.
    public let device: String
    /// The user's role: a `Role` raw value (`mediator`, `supervisor`, `reporter` or `admin`).
    public let role: String
    /// The device's secret for `Authorization: Bearer DEVICE:SECRET`; the node keeps only its hash.
    public let secret: String
    /// The user the token was made for, who now owns the device.
    public let user: String
    /// The device's offline lease in seconds (PROTOCOL.md §19); nil from a node older than
    /// leases, where the device applies the default 30 days.
    public let lease: Int?

    /// An enrollment answer from its parts.
    public init(device: String, role: String, secret: String, user: String, lease: Int? = nil) {
        self.device = device
        self.role = role
        self.secret = secret
        self.user = user
        self.lease = lease
    }
}

/// Every error answer: `{"error":{"code","message"[,"index"]}}`.
public struct ErrorAnswer: Codable, Sendable, Equatable {
    /// The object under the key `error`.
    public struct Body: Codable, Sendable, Equatable {
        /// A code of `ErrorCode` (a newer node may send one this version does not know).
        public let code: String
        /// For a refused push: the index of the refused record in the batch.
        public let index: Int?
        /// One line naming the problem and the fix.
        public let message: String

        /// A body from its parts; `index` is nil (and left out of the JSON) unless a pushed record
        /// was refused.
        public init(code: String, index: Int?, message: String) {
            self.code = code
            self.index = index
            self.message = message
        }
    }

    /// The error itself, under the JSON key `error`.
    public let error: Body

    /// The answer for `error`: its code's wire name, its message and its index.
    public init(_ error: NodeError) {
        self.error = Body(code: error.code.rawValue, index: error.index, message: error.message)
    }
}

/// A coding key for any string, to find keys a strict envelope does not define.
struct AnyKey: CodingKey {
    let stringValue: String
    let intValue: Int? = nil
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
