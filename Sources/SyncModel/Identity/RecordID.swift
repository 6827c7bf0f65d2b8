/// The identity of one record: a UUID, written as lowercase text; new ids are version 7.
///
/// Version 7 ids start with the creation time in milliseconds, so ids made offline on
/// different devices never collide (74 random bits) and sort roughly by creation. Held as
/// 128 bits (no heap text per record); ordering by bits equals ordering by the text form.
/// Text invariant: 36 characters, lowercase hex with hyphens at 8, 13, 18 and 23.
public struct RecordID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The UUID's first 64 bits (text digits 1–16); in a version-7 id the top 48 are milliseconds.
    public let high: UInt64
    /// The UUID's last 64 bits (text digits 17–32).
    public let low: UInt64

    /// Parses the text form of any RFC 9562 UUID; throws `invalid_record_id` otherwise.
    public init(_ text: String) throws(ModelError) {
        guard let id = RecordID.parse(text) else {
            throw ModelError(.invalidRecordID, "record id \"\(text.prefix(80))\" is not a lowercase UUID such as 0192f0c4-7d3e-7a41-9b2c-5e8f00a1b2c3")
        }
        self = id
    }

    /// An id from its two 64-bit halves; every bit pattern has a valid text form, so nothing is checked.
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

    /// The lowercase text form, the same as `rawValue`.
    public var description: String { rawValue }

    /// Orders by the 128 bits, which is the byte order of the text forms.
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
        guard bytes.count == 36, let base = bytes.baseAddress else { return nil }
        let hyphen = UInt8(ascii: "-")
        guard bytes[8] == hyphen, bytes[13] == hyphen, bytes[18] == hyphen, bytes[23] == hyphen else { return nil }
        // The 32 digits as four words of eight: 0-7, 9-12 with 14-17, 19-22 with 24-27, 28-35.
        let raw = UnsafeRawPointer(base)
        func word(_ offset: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) }
        func halves(_ first: Int, _ second: Int) -> UInt64 {
            UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: first, as: UInt32.self)))
                | UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: second, as: UInt32.self))) << 32
        }
        guard let a = hexValue(word(0)), let b = hexValue(halves(9, 14)),
              let c = hexValue(halves(19, 24)), let d = hexValue(word(28)) else { return nil }
        return RecordID(high: UInt64(a) << 32 | UInt64(b), low: UInt64(c) << 32 | UInt64(d))
    }

    /// The number spelled by eight lowercase hex digits loaded as a word (first digit in the
    /// lowest byte), or nil if any byte is not one: eight bytes at once instead of a loop.
    @inline(__always)
    static func hexValue(_ word: UInt64) -> UInt32? {
        let high: UInt64 = 0x8080_8080_8080_8080
        let ones: UInt64 = 0x0101_0101_0101_0101
        guard word & high == 0 else { return nil }
        // For a byte x below 0x80, x + (0x80 - k) has its high bit set iff x >= k, and never
        // carries into the next byte.
        func atLeast(_ k: UInt8) -> UInt64 { (word &+ ones &* UInt64(0x80 - k)) & high }
        let digit = atLeast(UInt8(ascii: "0")) & ~atLeast(UInt8(ascii: "9") + 1)
        let letter = atLeast(UInt8(ascii: "a")) & ~atLeast(UInt8(ascii: "f") + 1)
        guard digit | letter == high else { return nil }
        // Nibble values: the low four bits, plus 9 for a letter ("a" is 0x61).
        let nibbles = (word & 0x0F0F_0F0F_0F0F_0F0F) &+ (letter >> 7) &* 9
        // First digit most significant: pack the nibbles pairwise into bytes, 16 and 32 bits.
        var packed = nibbles.byteSwapped
        packed = (packed | packed >> 4) & 0x00FF_00FF_00FF_00FF
        packed = (packed | packed >> 8) & 0x0000_FFFF_0000_FFFF
        packed = (packed | packed >> 16) & 0x0000_0000_FFFF_FFFF
        return UInt32(truncatingIfNeeded: packed)
    }
}
