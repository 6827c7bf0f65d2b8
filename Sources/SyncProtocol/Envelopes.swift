/// `POST /v1/enroll`: a one-time token binds a device to its user.
public struct EnrollRequest: Codable, Sendable, Equatable {
    public let device: String
    public let name: String
    public let token: String

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
    public let device: String
    public let role: String
    public let secret: String
    public let user: String

    public init(device: String, role: String, secret: String, user: String) {
        self.device = device
        self.role = role
        self.secret = secret
        self.user = user
    }
}

/// Every error answer: `{"error":{"code","message"[,"index"]}}`.
public struct ErrorAnswer: Codable, Sendable, Equatable {
    public struct Body: Codable, Sendable, Equatable {
        /// A code of `ErrorCode` (a newer node may send one this version does not know).
        public let code: String
        /// For a refused push: the index of the refused record in the batch.
        public let index: Int?
        public let message: String

        public init(code: String, index: Int?, message: String) {
            self.code = code
            self.index = index
            self.message = message
        }
    }

    public let error: Body

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
