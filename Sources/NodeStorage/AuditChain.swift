import Crypto
import SyncModel

/// The hash chain that makes the node's audit log tamper-evident (PROTOCOL.md §18): each
/// entry's hash covers its own fields and the hash of the entry before it, so an entry edited,
/// deleted from the middle or moved breaks the chain from there on. Anchored outside the node
/// (every backup records the head, and `casesyncd audit verify --head` checks the chain still
/// passes through it), it also shows a rewrite of the whole chain or a cut-off end.
///
/// Pure, so that every node store computes the same hashes.
public enum AuditChain {
    /// The hash before the first entry.
    public static let genesis = [UInt8](repeating: 0, count: 32)

    /// SHA-256 of `previous` and the entry's fields, each length-prefixed so that no two
    /// entries encode alike: id, at (8 bytes big-endian each), then user, device, action,
    /// count, records, detail, each as 0x00 (absent) or 0x01 ‖ length (u32 BE) ‖ UTF-8.
    public static func hash(previous: [UInt8], id: Int64, at: Int64, user: String?, device: String?, action: String,
                            count: Int, records: String, detail: String?) -> [UInt8] {
        var bytes = previous
        bytes.reserveCapacity(previous.count + 64 + records.utf8.count)
        for number in [id, at] { withUnsafeBytes(of: number.bigEndian) { bytes.append(contentsOf: $0) } }
        for field in [user, device, action, String(count), records, detail] {
            guard let field else {
                bytes.append(0)
                continue
            }
            bytes.append(1)
            withUnsafeBytes(of: UInt32(field.utf8.count).bigEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: field.utf8)
        }
        return Array(SHA256.hash(data: bytes))
    }

    /// An entry's `records` field: the ids as a canonical JSON array, as every store writes it.
    public static func recordList(_ records: [RecordID]) -> String {
        var ids = CanonicalJSONWriter(capacity: records.count * 40 + 2)
        ids.byte(UInt8(ascii: "["))
        for (index, id) in records.enumerated() {
            if index > 0 { ids.byte(UInt8(ascii: ",")) }
            ids.recordID(id)
        }
        ids.byte(UInt8(ascii: "]"))
        return String(decoding: ids.bytes, as: UTF8.self)
    }

    /// `hash` of a stored entry.
    public static func hash(previous: [UInt8], entry: AuditEntry) -> [UInt8] {
        hash(previous: previous, id: entry.id, at: entry.at, user: entry.user, device: entry.device, action: entry.action,
             count: entry.count, records: entry.records, detail: entry.detail)
    }

    /// A chain position as text, `ID:HEX` (the entry's id and hash), as backups print it.
    public static func headText(id: Int64, hash: [UInt8]) -> String {
        "\(id):" + hash.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// Parses `ID:HEX` (`headText`); nil when it is not one.
    public static func parseHead(_ text: String) -> (id: Int64, hash: [UInt8])? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let id = Int64(parts[0]), id >= 0, parts[1].count == 64 else { return nil }
        var hash: [UInt8] = []
        var index = parts[1].startIndex
        while index < parts[1].endIndex {
            let next = parts[1].index(index, offsetBy: 2)
            guard let byte = UInt8(parts[1][index..<next], radix: 16) else { return nil }
            hash.append(byte)
            index = next
        }
        return (id, hash)
    }
}

/// What `casesyncd audit verify` found.
public struct AuditVerification: Sendable, Equatable {
    /// Entries checked.
    public let entries: Int
    /// The last entry's id and hash (`genesis` at id 0 for an empty log).
    public let headID: Int64
    public let head: [UInt8]
    /// The first entry whose stored hash does not match the chain, if any.
    public let firstBroken: AuditEntry?
    /// Whether the chain passes through the anchor `verify` was given (nil without one).
    public let passesAnchor: Bool?

    public init(entries: Int, headID: Int64, head: [UInt8], firstBroken: AuditEntry?, passesAnchor: Bool?) {
        self.entries = entries
        self.headID = headID
        self.head = head
        self.firstBroken = firstBroken
        self.passesAnchor = passesAnchor
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// Which audit entries `casesyncd audit show` lists; nil fields do not filter.
public struct AuditFilter: Sendable {
    /// Entries naming this case or any record of it.
    public var caseID: RecordID?
    /// Entries of this user.
    public var user: String?
    /// Entries of this device (its id or name).
    public var device: String?
    /// Entries at or after this time (milliseconds since the Unix epoch).
    public var since: Int64?
    /// At most this many, oldest first.
    public var limit: Int?

    public init(caseID: RecordID? = nil, user: String? = nil, device: String? = nil, since: Int64? = nil, limit: Int? = nil) {
        self.caseID = caseID
        self.user = user
        self.device = device
        self.since = since
        self.limit = limit
    }
}
