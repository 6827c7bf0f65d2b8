/// Up to 24 bytes as three big-endian words, zero-padded, plus the length: comparing
/// packed names compares their bytes (no name holds a zero byte), with no memory access.
/// Field names (`FieldNames`) and the words of choice fields (`ValueCheck`) are kept so.
struct PackedName: Comparable, Sendable {
    var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
    var count: Int

    init?(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard bytes.count <= 24 else { return nil }
        count = bytes.count
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(bytes)) }
        // Big-endian, so that comparing the words compares the bytes in order.
        words = (UInt64(bigEndian: words.0), UInt64(bigEndian: words.1), UInt64(bigEndian: words.2))
    }

    /// A slot in a table of `size` (a power of two) slots, from all the packed bits.
    @inline(__always)
    func hashSlot(size: Int) -> Int {
        let mixed = (words.0 ^ (words.1 &* 0x9E37_79B9_7F4A_7C15) ^ (words.2 &* 0xC2B2_AE3D_27D4_EB4F) ^ UInt64(count)) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: mixed >> 32) & (size - 1)
    }

    static func == (lhs: PackedName, rhs: PackedName) -> Bool {
        lhs.words == rhs.words && lhs.count == rhs.count
    }

    static func < (lhs: PackedName, rhs: PackedName) -> Bool {
        lhs.words != rhs.words ? lhs.words < rhs.words : lhs.count < rhs.count
    }
}

extension PackedName {
    init?(_ text: String) {
        var text = text
        guard let packed = text.withUTF8({ PackedName($0) }) else { return nil }
        self = packed
    }
}
