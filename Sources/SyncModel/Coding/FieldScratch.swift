/// The fields of a state while `CanonicalStateReader` reads it: slots and writes in scratch
/// memory the reader lends (on the stack), text values left in the input, each write's
/// payload holding the range of its bytes there. `finish` copies them into one storage of
/// exactly their size.
///
/// So a read state is one allocation of its own size, whatever its shape and however it
/// arrives: alone, or as one of thousands in a pushed batch (an estimate from the input's
/// length could not tell the two apart).
struct FieldScratch {
    /// Room for every slot: the reader accepts only known names, each at most once.
    static let slotCapacity = FieldNames.all.count
    /// Writes that fit in the lent memory; more move to the heap, doubling. 32 writes are
    /// 1 KB, the most `withUnsafeTemporaryAllocation` takes from the stack on Linux (above
    /// that it allocated on the heap for every state read, as a profile showed).
    static let lentWriteCapacity = 32

    private let slots: UnsafeMutablePointer<FieldSlot>
    private var writes: UnsafeMutablePointer<FlatWrite>
    private var writeCapacity: Int
    /// Whether `writes` was allocated here (it outgrew the lent memory).
    private var ownsWrites = false
    private(set) var slotCount = 0
    private(set) var writeCount = 0
    /// Text bytes the finished table holds.
    private(set) var textCount = 0
    private(set) var devices: [DeviceID] = []

    /// `slots` must have room for `slotCapacity` slots, `writes` for `lentWriteCapacity`
    /// writes, and both must outlive the scratch.
    init(slots: UnsafeMutablePointer<FieldSlot>, writes: UnsafeMutablePointer<FlatWrite>) {
        self.slots = slots
        self.writes = writes
        writeCapacity = Self.lentWriteCapacity
    }

    /// Frees the writes if they moved to the heap; call once, when done.
    mutating func release() {
        if ownsWrites { writes.deallocate() }
        ownsWrites = false
    }

    /// The index of `device` in the table, added when new.
    mutating func device(_ device: DeviceID) -> UInt32 {
        FieldTableBuilder.index(of: device, in: &devices)
    }

    /// The text value `bytes` of the input, as a range of the input starting at `base`; it is
    /// counted once however many writes refer to it.
    @inline(__always)
    mutating func text(_ bytes: UnsafeBufferPointer<UInt8>, in base: UnsafePointer<UInt8>) -> TextRange {
        textCount += bytes.count
        return TextRange(start: bytes.baseAddress.map { $0 - base } ?? 0, count: bytes.count)
    }

    @inline(__always)
    mutating func append(_ write: FlatWrite) {
        if writeCount == writeCapacity { moveWrites() }
        writes[writeCount] = write
        writeCount += 1
    }

    /// Starts a field (of a known name, in order) at the next write.
    @inline(__always)
    mutating func beginField(known name: UInt16, isSet: Bool) -> FieldSlot {
        FieldSlot(name: name, isSet: isSet, writeStart: writeCount, writeCount: 0)
    }

    /// Ends the field `slot` begun with `beginField`.
    @inline(__always)
    mutating func endField(_ slot: FieldSlot) -> Bool {
        guard slotCount < Self.slotCapacity else { return false }
        var slot = slot
        slot.writeCount = writeCount - slot.writeStart
        slots[slotCount] = slot
        slotCount += 1
        return true
    }

    private mutating func moveWrites() {
        let moved = UnsafeMutablePointer<FlatWrite>.allocate(capacity: 2 * writeCapacity)
        moved.initialize(from: writes, count: writeCount)
        if ownsWrites { writes.deallocate() }
        writes = moved
        writeCapacity *= 2
        ownsWrites = true
    }

    /// The table: devices sorted (write indices renumbered), slots and writes copied, and the
    /// text each write refers to copied out of `input`; the stamps of one set element, which
    /// refer to one range of the input, share one copy.
    mutating func finish(input: UnsafeBufferPointer<UInt8>) -> FieldTable {
        if !devices.isSorted(by: <) {
            FieldTableBuilder.sort(&devices, renumbering: UnsafeMutableBufferPointer(start: writes, count: writeCount))
        }
        guard slotCount > 0 else { return FieldTable(devices: devices) }
        let storage = FieldStorage.make(slots: slotCount, writes: writeCount, text: textCount)
        storage.withMutableParts { slotsOut, writesOut, textOut, header in
            slotsOut.baseAddress!.update(from: slots, count: slotCount)
            var textEnd = 0
            var lastRange: (input: Int64, output: Int64) = (-1, 0)
            for index in 0..<writeCount {
                var write = writes[index]
                if write.kind == .text {
                    if write.payload != lastRange.input {
                        lastRange = (write.payload, textOut.store(input.slice(write.textRange), at: &textEnd).packed)
                    }
                    write.payload = lastRange.output
                }
                writesOut[index] = write
            }
            header.slotCount = slotCount
            header.writeCount = writeCount
            header.textCount = textEnd
        }
        return FieldTable(devices: devices, storage: storage)
    }
}
