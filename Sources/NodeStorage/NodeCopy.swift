import Crypto

/// A node's storage as `casesyncd migrate` copies it from one store to another: the node's
/// identity, then each table's rows in key order, in the same logical columns whatever the
/// database. Every store reads and writes these; the digest over them (`NodeCopyDigest`)
/// shows that the copy holds exactly what the source held.
///
/// Not copied: what each store derives from these (SQLite's list columns, the delivery
/// order, indexes): the target builds them again.
public enum NodeTable: String, CaseIterable, Sendable {
    case user, device, enrollment, site, record, caseAccess, restrictedCase, dropNotice, purge, accessGrant, relayLimit, audit

    /// The logical columns, in row order; the first `keyCount` are the table's key.
    public var columns: [NodeColumn] {
        switch self {
        case .user: [.text("name"), .text("role"), .bool("disabled"), .int("created")]
        case .device: [.text("id"), .text("user"), .text("name"), .blob("secretHash"), .int("created"), .bool("revoked"), .int("toldThrough"),
                       .int("wipeRequested", nullable: true), .bool("wipeDeliverFirst"), .int("wipeConfirmed", nullable: true), .int("lease")]
        case .enrollment: [.blob("tokenHash"), .text("user"), .int("expires"), .bool("used"), .int("lease")]
        case .site: [.text("name"), .int("added")]
        case .record: [.text("id"), .text("type"), .text("caseID"), .blob("state"), .bool("deleted"), .text("reference", nullable: true),
                       .text("status", nullable: true), .int("seq"), .int("scope"), .int("noteScope"), .text("owner", nullable: true)]
        case .caseAccess: [.text("user"), .text("caseID"), .int("grantedSeq")]
        case .restrictedCase: [.text("caseID")]
        case .dropNotice: [.text("user"), .int("seq"), .text("caseID"), .text("recordID"), .text("reason")]
        case .purge: [.text("caseID"), .int("seq"), .int("at"), .text("reason"), .int("records")]
        case .accessGrant: [.text("caseID"), .text("user"), .int("seq"), .text("reason"), .int("granted"), .int("until"), .int("endedSeq", nullable: true)]
        case .relayLimit: [.text("device"), .int("counter")]
        case .audit: [.int("id"), .int("at"), .text("user", nullable: true), .text("device", nullable: true), .text("action"), .int("count"),
                      .text("records"), .text("detail", nullable: true), .blob("hash")]
        }
    }

    /// How many leading columns make the key rows are ordered and paged by.
    public var keyCount: Int {
        switch self {
        case .caseAccess: 2
        case .dropNotice: 4
        case .accessGrant: 3
        default: 1
        }
    }
}

/// One logical column: its name, its kind of value and whether it may be null.
public struct NodeColumn: Sendable, Hashable {
    public enum Kind: Sendable, Hashable { case text, int, bool, blob }
    public let name: String
    public let kind: Kind
    public let nullable: Bool

    public static func text(_ name: String, nullable: Bool = false) -> NodeColumn { NodeColumn(name: name, kind: .text, nullable: nullable) }
    public static func int(_ name: String, nullable: Bool = false) -> NodeColumn { NodeColumn(name: name, kind: .int, nullable: nullable) }
    public static func bool(_ name: String) -> NodeColumn { NodeColumn(name: name, kind: .bool, nullable: false) }
    public static func blob(_ name: String) -> NodeColumn { NodeColumn(name: name, kind: .blob, nullable: false) }
}

/// One value of a copied row. Booleans travel as `int` 0 or 1, as SQLite stores them.
public enum NodeValue: Sendable, Hashable {
    case null
    case int(Int64)
    case text(String)
    case blob([UInt8])
}

/// The node's own row: who it is to devices, and where its numbering stands.
public struct NodeIdentity: Sendable, Hashable {
    /// The node's `node-…` device id and its write counter.
    public var device: String
    public var counter: Int
    /// Devices notice a restored node by it; a migrated node keeps it (nothing was rewound).
    public var generation: String
    public var directoryVersion: Int
    /// The highest change sequence number given: numbering goes on above it.
    public var highestSequence: Int
    public var created: Int64
    public var formerNodes: String
    public var restoreWindowUntil: Int64?
    public var relayLimitsKnown: Bool

    public init(device: String, counter: Int, generation: String, directoryVersion: Int, highestSequence: Int, created: Int64,
                formerNodes: String, restoreWindowUntil: Int64?, relayLimitsKnown: Bool) {
        self.device = device
        self.counter = counter
        self.generation = generation
        self.directoryVersion = directoryVersion
        self.highestSequence = highestSequence
        self.created = created
        self.formerNodes = formerNodes
        self.restoreWindowUntil = restoreWindowUntil
        self.relayLimitsKnown = relayLimitsKnown
    }
}

/// A SHA-256 chain over a node's identity and every row of every table, in table and key
/// order (each row's hash covers the one before), with each table's row count: equal
/// digests mean equal contents. Each value is written with a type tag and a length, so no
/// two different rows encode alike.
public struct NodeCopyDigest: Sendable {
    private var chain = [UInt8](repeating: 0, count: 32)
    /// Rows seen, by table.
    public private(set) var counts: [NodeTable: Int] = [:]

    public init() {}

    /// Adds the node's identity (first, once).
    public mutating func add(_ identity: NodeIdentity) {
        add(table: "node", [.text(identity.device), .int(Int64(identity.counter)), .text(identity.generation), .int(Int64(identity.directoryVersion)),
                            .int(Int64(identity.highestSequence)), .int(identity.created), .text(identity.formerNodes),
                            identity.restoreWindowUntil.map { .int($0) } ?? .null, .int(identity.relayLimitsKnown ? 1 : 0)])
    }

    /// Adds rows of `table`, in key order, after every row of the tables before it.
    public mutating func add(_ table: NodeTable, _ rows: [[NodeValue]]) {
        for row in rows { add(table: table.rawValue, row) }
        counts[table, default: 0] += rows.count
    }

    private mutating func add(table: String, _ row: [NodeValue]) {
        var bytes = chain
        func put(_ tag: UInt8, _ payload: some Collection<UInt8>) {
            bytes.append(tag)
            withUnsafeBytes(of: UInt32(payload.count).bigEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: payload)
        }
        put(0x74, Array(table.utf8))
        for value in row {
            switch value {
            case .null: put(0, [])
            case .int(let number): withUnsafeBytes(of: number.bigEndian) { put(1, Array($0)) }
            case .text(let text): put(2, Array(text.utf8))
            case .blob(let blob): put(3, blob)
            }
        }
        chain = Array(SHA256.hash(data: bytes))
    }

    /// The digest so far, as lowercase hex.
    public var hex: String {
        chain.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
