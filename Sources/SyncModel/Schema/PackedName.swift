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
