/// The slots, writes and text of a `FieldTable` in one allocation.
///
/// A replica holds one table per record and decodes or merges one for every record it
/// receives; one allocation instead of an array per part saves two allocations a state and
/// keeps a record's fields on neighbouring cache lines. The buffer holds
/// three regions, each sized by its capacity: slots, then writes, then text bytes.
///
/// Ownership: a storage is written only by the `FieldTableBuilder` that made it, before any
/// table holds it; a finished table only reads it. That is why a `FieldTable` may share it
/// between threads.
final class FieldStorage: ManagedBuffer<FieldStorage.Header, UInt64> {
    /// Counts and capacities of the three regions (32 bits: a storage is far smaller).
    struct Header {
        private var slots: UInt32 = 0
        private var writes: UInt32 = 0
        private var textBytes: UInt32 = 0
        private let slotRoom: UInt32
        private let writeRoom: UInt32
        private let textRoom: UInt32

        init(slotCapacity: Int, writeCapacity: Int, textCapacity: Int) {
            slotRoom = UInt32(slotCapacity)
            writeRoom = UInt32(writeCapacity)
            textRoom = UInt32(textCapacity)
        }

        var slotCount: Int { get { Int(slots) } set { slots = UInt32(newValue) } }
        var writeCount: Int { get { Int(writes) } set { writes = UInt32(newValue) } }
        var textCount: Int { get { Int(textBytes) } set { textBytes = UInt32(newValue) } }
        var slotCapacity: Int { Int(slotRoom) }
        var writeCapacity: Int { Int(writeRoom) }
        var textCapacity: Int { Int(textRoom) }

        /// Byte offsets of the writes and of the text from the start of the buffer.
        var writesOffset: Int { slotCapacity * MemoryLayout<FieldSlot>.stride }
        var textOffset: Int { writesOffset + writeCapacity * MemoryLayout<FlatWrite>.stride }
    }

    /// An empty storage with room for the given numbers of slots, writes and text bytes.
    static func make(slots: Int, writes: Int, text: Int) -> FieldStorage {
        let header = Header(slotCapacity: slots, writeCapacity: writes, textCapacity: text)
        let words = (header.textOffset + text + 7) / 8
        let storage = unsafeDowncast(create(minimumCapacity: max(words, 1)) { _ in header }, to: FieldStorage.self)
        storage.withUnsafeMutablePointers { header, words in
            // Each region holds values of one type for its whole life.
            let base = UnsafeMutableRawPointer(words)
            base.bindMemory(to: FieldSlot.self, capacity: header.pointee.slotCapacity)
            (base + header.pointee.writesOffset).bindMemory(to: FlatWrite.self, capacity: header.pointee.writeCapacity)
            (base + header.pointee.textOffset).bindMemory(to: UInt8.self, capacity: header.pointee.textCapacity)
        }
        return storage
    }

    /// A storage holding what `source` holds, with room for `slotRoom` more slots,
    /// `writeRoom` more writes and `textRoom` more text bytes.
    static func make(copying source: FieldStorage, slotRoom: Int = 0, writeRoom: Int = 0, textRoom: Int = 0) -> FieldStorage {
        let counts = source.counts
        let copy = make(slots: counts.slotCount + slotRoom, writes: counts.writeCount + writeRoom, text: counts.textCount + textRoom)
        source.withParts { slots, writes, text in
            copy.withMutableParts { copySlots, copyWrites, copyText, header in
                copySlots.baseAddress!.update(from: slots.baseAddress!, count: slots.count)
                copyWrites.baseAddress!.update(from: writes.baseAddress!, count: writes.count)
                if !text.isEmpty { copyText.baseAddress!.update(from: text.baseAddress!, count: text.count) }
                header.slotCount = counts.slotCount
                header.writeCount = counts.writeCount
                header.textCount = counts.textCount
            }
        }
        return copy
    }

    /// The header, read without the exclusivity check of `ManagedBuffer.header` (a class
    /// property, checked at run time on every access: measured at a fifth of receiving a
    /// state).
    @inline(__always)
    var counts: Header { withUnsafeMutablePointerToHeader { $0.pointee } }

    /// The filled part of each region.
    @inline(__always)
    func withParts<Result, Failure: Error>(
        _ body: (UnsafeBufferPointer<FieldSlot>, UnsafeBufferPointer<FlatWrite>, UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        let parts = withUnsafeMutablePointers { header, words in
            let (slots, writes, text) = Self.regions(of: header.pointee, at: words)
            let counts = header.pointee
            return (UnsafeBufferPointer(start: slots, count: counts.slotCount), UnsafeBufferPointer(start: writes, count: counts.writeCount),
                    UnsafeBufferPointer(start: text, count: counts.textCount))
        }
        defer { withExtendedLifetime(self) {} }
        return try body(parts.0, parts.1, parts.2)
    }

    /// Every region to its capacity, and the header, for the builder that owns this storage.
    @inline(__always)
    func withMutableParts<Result>(
        _ body: (UnsafeMutableBufferPointer<FieldSlot>, UnsafeMutableBufferPointer<FlatWrite>, UnsafeMutableBufferPointer<UInt8>, inout Header) -> Result
    ) -> Result {
        withUnsafeMutablePointers { header, words in
            let (slots, writes, text) = Self.regions(of: header.pointee, at: words)
            let capacities = header.pointee
            return body(UnsafeMutableBufferPointer(start: slots, count: capacities.slotCapacity),
                        UnsafeMutableBufferPointer(start: writes, count: capacities.writeCapacity),
                        UnsafeMutableBufferPointer(start: text, count: capacities.textCapacity), &header.pointee)
        }
    }

    /// Where each region starts in the buffer at `words` (bound to its type by `make`).
    @inline(__always)
    private static func regions(of header: Header, at words: UnsafeMutablePointer<UInt64>)
        -> (UnsafeMutablePointer<FieldSlot>, UnsafeMutablePointer<FlatWrite>, UnsafeMutablePointer<UInt8>) {
        let base = UnsafeMutableRawPointer(words)
        return (base.assumingMemoryBound(to: FieldSlot.self), (base + header.writesOffset).assumingMemoryBound(to: FlatWrite.self),
                (base + header.textOffset).assumingMemoryBound(to: UInt8.self))
    }
}
