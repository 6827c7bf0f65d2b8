/// The identity of one record: a UUID, written as lowercase text; new ids are version 7.
///
/// Version 7 ids start with the creation time in milliseconds, so ids made offline on
/// different devices never collide (74 random bits) and sort roughly by creation. Held as
/// 128 bits (no heap text per record); ordering by bits equals ordering by the text form.
/// Text invariant: 36 characters, lowercase hex with hyphens at 8, 13, 18 and 23.
public struct RecordID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let high: UInt64
    public let low: UInt64

    /// Parses the text form of any RFC 9562 UUID; throws `invalid_record_id` otherwise.
    public init(_ text: String) throws(ModelError) {
        guard let id = RecordID.parse(text) else {
            throw ModelError(.invalidRecordID, "record id \"\(text.prefix(80))\" is not a lowercase UUID such as 0192f0c4-7d3e-7a41-9b2c-5e8f00a1b2c3")
        }
        self = id
    }

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// A new version-7 id for a record created at `milliseconds` since the Unix epoch.
    public static func make<G: RandomNumberGenerator>(milliseconds: Int64, using generator: inout G) -> RecordID {
        let time = UInt64(max(0, milliseconds)) & 0xFFFF_FFFF_FFFF
        let high = time << 16 | 0x7000 | (generator.next() & 0x0FFF)
        let low = (generator.next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return RecordID(high: high, low: low)
    }

    /// Creation time of a version-7 id, in milliseconds since the Unix epoch.
    public var milliseconds: Int64? {
        (high >> 12) & 0xF == 7 ? Int64(high >> 16) : nil
    }

    /// The lowercase text form.
    public var rawValue: String {
        String(unsafeUninitializedCapacity: 36) { buffer in
            writeText(into: buffer)
            return 36
        }
    }

    public var description: String { rawValue }

    public static func < (lhs: RecordID, rhs: RecordID) -> Bool {
        lhs.high == rhs.high ? lhs.low < rhs.low : lhs.high < rhs.high
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The length of the text form (`rawValue`) in bytes.
    public static let textLength = 36

    /// Writes the text form (`rawValue`, as UTF-8) into the first `textLength` bytes of
    /// `buffer`: for callers that want it without making a `String`.
    public func writeText(into buffer: UnsafeMutableBufferPointer<UInt8>) {
        var out = 0
        for nibble in 0..<32 {
            if nibble == 8 || nibble == 12 || nibble == 16 || nibble == 20 {
                buffer[out] = UInt8(ascii: "-")
                out += 1
            }
            let word = nibble < 16 ? high : low
            let shift = UInt64(60 - 4 * (nibble % 16))
            buffer[out] = RecordID.hexDigits[Int((word >> shift) & 0xF)]
            out += 1
        }
    }

    static func isValid(_ text: String) -> Bool { parse(text) != nil }

    static func parse(_ text: String) -> RecordID? {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    /// Parses the text form from UTF-8 bytes; nil unless they are a lowercase UUID.
    public static func parse(bytes: UnsafeBufferPointer<UInt8>) -> RecordID? {
        guard bytes.count == 36 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var nibbles = 0
        for (index, byte) in bytes.enumerated() {
            if index == 8 || index == 13 || index == 18 || index == 23 {
                if byte != UInt8(ascii: "-") { return nil }
                continue
            }
            let value: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = byte - UInt8(ascii: "a") + 10
            default: return nil
            }
            if nibbles < 16 { high = high << 4 | UInt64(value) } else { low = low << 4 | UInt64(value) }
            nibbles += 1
        }
        return RecordID(high: high, low: low)
    }
}
