import Testing
@testable import SyncModel

/// Field names are looked up by a packed key in a table built at start-up; every state read
/// goes through it, so it must find exactly the schema's names.
struct FieldNamesTests {
    @Test func everySchemaNameIsFoundAndNothingElse() {
        for (index, name) in FieldNames.all.enumerated() {
            #expect(FieldNames.index(of: name) == UInt16(index), "\(name)")
            // Near misses: one byte changed, one dropped, one added.
            var bytes = Array(name.utf8)
            for position in bytes.indices {
                let original = bytes[position]
                bytes[position] = original == UInt8(ascii: "z") ? UInt8(ascii: "a") : original + 1
                #expect(FieldNames.index(of: String(decoding: bytes, as: UTF8.self)) == nil)
                bytes[position] = original
            }
            #expect(FieldNames.index(of: String(name.dropLast())) == nil || name.count == 1)
            #expect(FieldNames.index(of: name + "s") == nil || FieldNames.all.contains(name + "s"))
        }
        for other in ["", "Title", "title ", String(repeating: "a", count: 24), String(repeating: "a", count: 25)] {
            #expect(FieldNames.index(of: other) == nil, "\(other)")
        }
    }

    /// Packing by loading whole words (the canonical reader's way) equals packing by copying.
    @Test func packingByWordsEqualsPackingByCopy() {
        let text = Array("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        text.withUnsafeBufferPointer { buffer in
            for count in 0...24 {
                for start in 0...(text.count - 24) {
                    let copied = PackedName(UnsafeBufferPointer(rebasing: buffer[start..<(start + count)]))
                    let loaded = PackedName(loading: UnsafeRawPointer(buffer.baseAddress! + start), count: count)
                    #expect(copied == loaded, "\(count) bytes at \(start)")
                }
            }
        }
    }
}
