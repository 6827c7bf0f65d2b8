/// What a node tells its devices about the people, devices and sites it knows
/// (`GET /v1/directory`, PROTOCOL.md §15): device names, so every device shows who wrote each
/// side of a conflict; user names, so `mediators+=NAME` is checked; and the service's sites,
/// so `--site` is checked against one list instead of fragmenting the figures.
///
/// It holds no case content. Mediator and supervisor devices get all of it; reporter and
/// admin devices get the sites only (reporting carries no person names).
public struct NodeDirectory: Codable, Sendable, Equatable {
    /// One enrolled device, revoked ones too: their writes stay in the records.
    public struct Device: Codable, Sendable, Equatable {
        /// The device id, as it appears in version vectors and dots.
        public let id: String
        /// The name its owner gave it at `casesync init`.
        public let name: String
        /// The user it belongs to.
        public let user: String

        /// Why `name` cannot be a device's name, or nil when it can: 1-100 characters, no
        /// control characters (every device of the service shows it, on one line).
        public static func nameProblem(_ name: String) -> String? {
            if name.isEmpty || name.count > 100 { return "a device name is 1-100 characters" }
            if NodeDirectory.hasControlCharacters(name) { return "a device name has no control characters (tabs, line breaks)" }
            return nil
        }

        /// A device entry from its parts.
        public init(id: String, name: String, user: String) {
            self.id = id
            self.name = name
            self.user = user
        }
    }

    /// One user of the node.
    public struct User: Codable, Sendable, Equatable {
        /// The user name (as in a case's `mediators`).
        public let name: String
        /// mediator, supervisor, reporter or admin.
        public let role: String
        /// Whether the user is disabled (their devices erase their case data).
        public let disabled: Bool

        /// A user entry from its parts.
        public init(name: String, role: String, disabled: Bool) {
            self.name = name
            self.role = role
            self.disabled = disabled
        }
    }

    /// Enrolled devices, ordered by id.
    public var devices: [Device]
    /// The service's sites, as `casesyncd site add` spelled them, in alphabetical order.
    public var sites: [String]
    /// The node's users, ordered by name.
    public var users: [User]

    /// A directory from its parts.
    public init(devices: [Device], sites: [String], users: [User]) {
        self.devices = devices
        self.sites = sites
        self.users = users
    }

    /// The part reporter and admin devices receive: the sites, no people.
    public var sitesOnly: NodeDirectory { NodeDirectory(devices: [], sites: sites, users: []) }
}

extension NodeDirectory {
    /// The site of the directory that `text` names: the same text, or else the same without
    /// regard to ASCII case, as the node compares sites (SQLite's NOCASE), so a device and
    /// its node always agree on which site a spelling is.
    public func site(named text: String) -> String? {
        if let exact = sites.first(where: { $0 == text }) { return exact }
        let folded = Self.asciiFolded(text)
        return sites.first { Self.asciiFolded($0) == folded }
    }

    /// Whether `text` holds a control character (Unicode Cc: line breaks, tabs, escapes), which
    /// names shown on every device must not.
    static func hasControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }

    /// `text` with A-Z lowered and every other character as it is.
    public static func asciiFolded(_ text: String) -> String {
        String(decoding: text.utf8.map { (65...90).contains($0) ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// Why `name` cannot be a site's name, or nil when it can: 1-100 characters, no control
    /// characters, no blanks at either end (`casesyncd site add` refuses it with this).
    public static func siteNameProblem(_ name: String) -> String? {
        if name.isEmpty || name.count > 100 { return "a site's name is 1-100 characters" }
        if hasControlCharacters(name) { return "a site's name has no control characters" }
        if name.first?.isWhitespace == true || name.last?.isWhitespace == true { return "a site's name has no blanks at either end" }
        return nil
    }
}
