/// Up to 24 bytes as three big-endian words, zero-padded, plus the length: comparing two
/// packed names for equality compares their bytes, with no memory access. Field names
/// (`FieldNames`) and the words of choice fields (`ValueCheck`) are kept so.
struct PackedName: Equatable, Sendable {
    var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var count: Int

    /// The empty name.
    init() { count = 0 }

    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count <= 24 else { return nil }
        count = bytes.count
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(bytes)) }
        // Big-endian: the first byte most significant.
        words = (UInt64(bigEndian: words.0), UInt64(bigEndian: words.1), UInt64(bigEndian: words.2))
    }

    /// The `count` (at most 24) bytes at `base`, for a caller that may read 24 bytes there:
    /// three loads, with the bytes past `count` masked off, instead of a copy.
    @inline(__always)
    init(loading base: UnsafeRawPointer, count: Int) {
        self.count = count
        @inline(__always)
        func word(_ index: Int) -> UInt64 {
            let remaining = count - 8 * index
            guard remaining > 0 else { return 0 }
            let loaded = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: 8 * index, as: UInt64.self))
            // The first byte most significant, as in `init(_:)`.
            return (remaining >= 8 ? loaded : loaded & (1 &<< UInt64(8 * remaining) &- 1)).byteSwapped
        }
        words = (word(0), word(1), word(2))
    }

    /// A slot among `1 << bits` slots, from all the packed bits: multiplied by an odd `seed`,
    /// whose product's top bits are its best mixed.
    @inline(__always)
    func hashSlot(seed: UInt64, bits: Int) -> Int {
        let folded = words.0 ^ (words.1 &* 0x9E37_79B9_7F4A_7C15) ^ (words.2 &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(count)
        return Int(truncatingIfNeeded: (folded &* seed) >> UInt64(64 - bits))
    }

    static func == (lhs: PackedName, rhs: PackedName) -> Bool {
        lhs.words == rhs.words && lhs.count == rhs.count
    }
}

extension PackedName {
    init?(_ text: String) {
        var text = text
        guard let packed = text.withUTF8({ PackedName($0) }) else { return nil }
        self = packed
    }
}
