/// Tests on eight bytes at once ("SWAR"), for the scans that look for a few special bytes
/// in long runs of ordinary text: string ends in the JSON reader, control characters in
/// validation. Each test is exact: true iff some byte of the word qualifies.
enum ByteWord {
    static let lowBits: UInt64 = 0x0101_0101_0101_0101
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The high bit of each byte of `word` below `limit` (which must be at most 128). Only
    /// the lowest flagged byte is sure to qualify: a borrow may flag the bytes after it.
    @inline(__always)
    static func bytes(_ word: UInt64, below limit: UInt8) -> UInt64 {
        (word &- lowBits &* UInt64(limit)) & ~word & highBits
    }

    /// The high bit of each byte of `word` equal to `value`, as `bytes(_:below:)` flags them.
    @inline(__always)
    static func bytes(_ word: UInt64, equalTo value: UInt8) -> UInt64 {
        bytes(word ^ (lowBits &* UInt64(value)), below: 1)
    }

    /// Whether some byte of `word` is below `limit` (which must be at most 128).
    @inline(__always)
    static func hasByte(_ word: UInt64, below limit: UInt8) -> Bool {
        bytes(word, below: limit) != 0
    }

    /// Whether some byte of `word` equals `value`.
    @inline(__always)
    static func hasByte(_ word: UInt64, equalTo value: UInt8) -> Bool {
        bytes(word, equalTo: value) != 0
    }

    /// The offset in `bytes` of the first byte that `flags` flags (given each whole word, as
    /// the functions above flag bytes: the lowest flag exact), or of the short tail after the
    /// last whole word when none is flagged before it.
    @inline(__always)
    static func firstFlagged(in bytes: UnsafeBufferPointer<UInt8>, by flags: (UInt64) -> UInt64) -> Int {
        guard let base = bytes.baseAddress else { return 0 }
        var offset = 0
        while offset + 8 <= bytes.count {
            let flagged = flags(UInt64(littleEndian: UnsafeRawPointer(base + offset).loadUnaligned(as: UInt64.self)))
            if flagged != 0 { return offset + flagged.trailingZeroBitCount / 8 }
            offset += 8
        }
        return offset
    }

    /// The eight bytes at `offset` of `bytes` as a word whose lowest byte is the first;
    /// `offset + 8` must not pass the end.
    @inline(__always)
    static func load(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int) -> UInt64 {
        UInt64(littleEndian: UnsafeRawPointer(bytes.baseAddress! + offset).loadUnaligned(as: UInt64.self))
    }

    /// How many bytes of a loaded word (see `load`), from its first, are ASCII digits.
    @inline(__always)
    static func leadingDigits(_ word: UInt64) -> Int {
        // The high bit is set in each byte outside "0"..."9"; a carry or borrow only
        // disturbs the bytes after the first such byte.
        let outside = ((word &+ 0x4646_4646_4646_4646) | (word &- 0x3030_3030_3030_3030)) & highBits
        return outside.trailingZeroBitCount / 8
    }

    /// The decimal number spelled by the first `count` (1...8) bytes of a loaded word, which
    /// must all be ASCII digits: three multiplications instead of eight steps.
    @inline(__always)
    static func decimalValue(_ word: UInt64, digits count: Int) -> Int {
        // Shifted so that the digits are the last of eight, after leading zeros.
        var value = (word << (8 * (8 - count))) & 0x0F0F_0F0F_0F0F_0F0F
        value = (value &* 2561) >> 8 & 0x00FF_00FF_00FF_00FF
        value = (value &* 6_553_601) >> 16 & 0x0000_FFFF_0000_FFFF
        return Int((value &* 42_949_672_960_001) >> 32)
    }
}
