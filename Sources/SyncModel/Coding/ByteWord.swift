/// Tests on eight bytes at once ("SWAR"), for the scans that look for a few special bytes
/// in long runs of ordinary text: string ends in the JSON reader, control characters in
/// validation. Each test is exact: true iff some byte of the word qualifies.
enum ByteWord {
    static let lowBits: UInt64 = 0x0101_0101_0101_0101
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Whether some byte of `word` is below `limit` (which must be at most 128).
    @inline(__always)
    static func hasByte(_ word: UInt64, below limit: UInt8) -> Bool {
        (word &- lowBits &* UInt64(limit)) & ~word & highBits != 0
    }

    /// Whether some byte of `word` equals `value`.
    @inline(__always)
    static func hasByte(_ word: UInt64, equalTo value: UInt8) -> Bool {
        hasByte(word ^ (lowBits &* UInt64(value)), below: 1)
    }

    /// The offset of the first whole eight-byte word of `bytes` for which `stops` holds (or
    /// of the short tail); every byte before it lies in a word for which it did not hold.
    @inline(__always)
    static func firstWord(in bytes: UnsafeBufferPointer<UInt8>, where stops: (UInt64) -> Bool) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var offset = 0
        while offset + 8 <= bytes.count {
            if stops(UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self)) { break }
            offset += 8
        }
        return offset
    }
}
