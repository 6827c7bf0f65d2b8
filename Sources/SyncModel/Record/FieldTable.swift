/// The fields of one record state, stored flat: slots, writes and text bytes of plain values
/// in one buffer (`FieldStorage`), and the devices the writes name, instead of a tree of
/// strings, enums and nested arrays.
///
/// Decoding, merging, validating and encoding states is what replicas and the sync node do
/// for every record they receive; with this layout none of it retains or releases per value,
/// a state's fields are one allocation, and copying a state copies two references. The
/// public views (`RecordField`, `Register`, `AddWinsSet`) are built from it on demand.
///
/// Invariants (kept by `FieldTableBuilder.finish()` and by the merge, which builds in order):
/// - `devices` is sorted by id bytes and unique, so comparing two writes' device indices
///   compares their devices;
/// - `slots` are sorted by name bytes (duplicates only in an invalid state, adjacent);
/// - each slot owns the run `writes[slot.writeStart ..< slot.writeEnd]`; a register's run is
///   sorted by dot; a set's run holds one write per add stamp, sorted by element bytes, then
///   dot, and consecutive writes with equal element bytes form one element.
struct FieldTable: Sendable {
    var devices: [DeviceID] = []
    /// Slots, writes and text; nil for a table with no fields. Never written once a table
    /// holds it, so sharing it between threads is safe (`ManagedBuffer` itself is not
    /// `Sendable`, since in general its contents may change).
    nonisolated(unsafe) private(set) var storage: FieldStorage?

    init() {}

    init(devices: [DeviceID], storage: FieldStorage? = nil) {
        self.devices = devices
        self.storage = storage
    }

    var isEmpty: Bool { storage.map { $0.counts.slotCount == 0 } ?? true }

    /// The fields, sorted by name.
    var slots: Part<FieldSlot> { Part(storage: storage, count: storage?.counts.slotCount ?? 0) { slots, _, _ in slots } }

    /// The writes of every field, each field's run in order.
    var writes: Part<FlatWrite> { Part(storage: storage, count: storage?.counts.writeCount ?? 0) { _, writes, _ in writes } }

    /// Text values, set elements and unknown field names, referred to by `TextRange`.
    var text: Part<UInt8> { Part(storage: storage, count: storage?.counts.textCount ?? 0) { _, _, text in text } }

    /// Calls `body` with the table's slots, writes and text as buffers.
    @inline(__always)
    func withUnsafeParts<Result, Failure: Error>(
        _ body: (UnsafeBufferPointer<FieldSlot>, UnsafeBufferPointer<FlatWrite>, UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        guard let storage else { return try body(UnsafeBufferPointer(start: nil, count: 0), UnsafeBufferPointer(start: nil, count: 0), UnsafeBufferPointer(start: nil, count: 0)) }
        return try storage.withParts(body)
    }

    /// One region of a table's storage as a read-only collection.
    struct Part<Element>: RandomAccessCollection {
        fileprivate let storage: FieldStorage?
        let count: Int
        fileprivate let select: (UnsafeBufferPointer<FieldSlot>, UnsafeBufferPointer<FlatWrite>, UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<Element>

        var startIndex: Int { 0 }
        var endIndex: Int { count }

        subscript(position: Int) -> Element {
            precondition(position >= 0 && position < count, "index out of range")
            return withUnsafeBufferPointer { $0[position] }
        }

        func withUnsafeBufferPointer<Result, Failure: Error>(_ body: (UnsafeBufferPointer<Element>) throws(Failure) -> Result) throws(Failure) -> Result {
            guard let storage else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
            return try storage.withParts { (slots, writes, text) throws(Failure) in try body(select(slots, writes, text)) }
        }
    }
}

/// A run of bytes in a table's `text`.
struct TextRange: Hashable, Sendable {
    var start: Int
    var count: Int

    init(start: Int, count: Int) {
        self.start = start
        self.count = count
    }

    /// A range packed into a write's payload: start in the high 32 bits, count in the low.
    init(packed: Int64) {
        start = Int(packed >> 32)
        count = Int(packed & 0xFFFF_FFFF)
    }

    var packed: Int64 { Int64(start) << 32 | Int64(count) }
}

/// One field of a `FieldTable`: its name, kind and run of writes. 24 bytes: a state's
/// storage stays small enough for the allocator's cache of small blocks.
struct FieldSlot: Hashable, Sendable {
    /// `name` of a field the schema does not know (only in a state that fails validation).
    static let unknownName = UInt16.max

    /// Index into `FieldNames.all`, or `unknownName` with the bytes at `unknownNameRange`.
    var name: UInt16
    var isSet: Bool
    private var start: UInt32
    private var packedNameRange: Int64 = 0
    private var count: UInt32

    init(name: UInt16, isSet: Bool, unknownNameRange: TextRange = TextRange(start: 0, count: 0), writeStart: Int, writeCount: Int) {
        self.name = name
        self.isSet = isSet
        start = UInt32(truncatingIfNeeded: writeStart)
        count = UInt32(truncatingIfNeeded: writeCount)
        packedNameRange = unknownNameRange.packed
    }

    var unknownNameRange: TextRange {
        get { TextRange(packed: packedNameRange) }
        set { packedNameRange = newValue.packed }
    }

    var writeStart: Int { Int(start) }

    var writeCount: Int {
        get { Int(count) }
        set { count = UInt32(truncatingIfNeeded: newValue) }
    }

    var writeEnd: Int { writeStart + writeCount }
    var writeRange: Range<Int> { writeStart..<writeEnd }
}

/// One write held by a field: a register entry, or one add stamp of a set element.
struct FlatWrite: Hashable, Sendable {
    enum Kind: UInt8, Sendable {
        case text, integer, boolean
    }

    var counter: Int
    var time: Int64
    /// Text: a packed `TextRange` (for a set, the element); integer: the value; boolean: 0 or 1.
    var payload: Int64
    /// Index into the table's `devices`.
    var device: UInt32
    var kind: Kind

    var textRange: TextRange { TextRange(packed: payload) }
}

/// Every field name of the schema, sorted by UTF-8 bytes, so that comparing two known
/// names' indices compares their bytes; a table stores a known name as its index.
enum FieldNames {
    static let all: [String] = {
        var names: [String] = []
        for type in RecordType.allCases {
            for spec in RecordSchema.fieldSpecs(of: type) where !names.contains(spec.name) { names.append(spec.name) }
        }
        return names.sorted { utf8Precedes($0, $1) }
    }()

    /// `all`, packed, in a table with one slot per name and no two names in one slot: the
    /// seed of the hash is chosen when the table is built, so a lookup is one probe.
    private struct Lookup {
        let seed: UInt64
        /// The table has `1 << bits` slots.
        let bits: Int
        /// The index of the name in each slot (-1 for none), and the name packed.
        let slots: [(index: Int16, name: PackedName)]
    }

    private static let lookup: Lookup = {
        let packed = all.map { name in
            var name = name
            return name.withUTF8 { PackedName($0)! }
        }
        // At least 256 slots and four per name: some odd seed near the golden ratio's spreads
        // the names out within a few dozen tries; a table twice as big is tried after 1,000.
        var bits = 8
        while 1 << bits < 4 * packed.count { bits += 1 }
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        var attempts = 0
        while true {
            attempts += 1
            if attempts % 1_000 == 0 { bits += 1 }
            var slots = [(index: Int16, name: PackedName)](repeating: (-1, PackedName()), count: 1 << bits)
            var clash = false
            for (index, name) in packed.enumerated() {
                let slot = name.hashSlot(seed: seed, bits: bits)
                if slots[slot].index >= 0 { clash = true; break }
                slots[slot] = (Int16(index), name)
            }
            if !clash { return Lookup(seed: seed, bits: bits, slots: slots) }
            seed &+= 2
        }
    }()

    /// The index of the name spelled by `bytes`, if the schema knows it.
    static func index(of bytes: UnsafeBufferPointer<UInt8>) -> UInt16? {
        guard let key = PackedName(bytes) else { return nil }
        return index(of: key)
    }

    /// The index of the packed name `key`, if the schema knows it.
    @inline(__always)
    static func index(of key: PackedName) -> UInt16? {
        let lookup = lookup
        return lookup.slots.withUnsafeBufferPointer { slots in
            let entry = slots[key.hashSlot(seed: lookup.seed, bits: lookup.bits)]
            return entry.index >= 0 && entry.name == key ? UInt16(entry.index) : nil
        }
    }

    static func index(of name: String) -> UInt16? {
        var name = name
        return name.withUTF8 { index(of: $0) }
    }
}

extension UnsafeBufferPointer<UInt8> {
    /// The bytes of `range` in this buffer (a table's text).
    @inline(__always)
    func slice(_ range: TextRange) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: self[range.start..<(range.start + range.count)])
    }
}

extension UnsafeMutableBufferPointer<UInt8> {
    /// Copies `bytes` into this buffer (a storage's text region) at `end`, moves `end` past
    /// them, and returns the range they take.
    @inline(__always)
    func store(_ bytes: UnsafeBufferPointer<UInt8>, at end: inout Int) -> TextRange {
        let range = TextRange(start: end, count: bytes.count)
        if let source = bytes.baseAddress, !bytes.isEmpty { (baseAddress! + end).update(from: source, count: bytes.count) }
        end += bytes.count
        return range
    }
}

// MARK: - Building

/// Builds a `FieldTable` from fields, writes and devices in any order; `finish()` puts the
/// table in canonical order (devices, then each field's writes, then the fields).
///
/// It fills a storage of its own (grown when a region is full) and finishes by handing over
/// that storage, or a copy of exactly the filled size when much of it is unused. A builder
/// has one owner while it is filled: appends assume the storage is not shared (asserted in
/// debug builds; a check on every append measured at 5 % of receiving a state). Finishing, which may
/// reorder what is stored, copies a shared storage first. (The fast reader of canonical
/// states fills a `FieldScratch` instead, and the merge builds from its `MergePlan`: both
/// know the exact size before they allocate.)
struct FieldTableBuilder {
    private(set) var devices: [DeviceID] = []
    private var storage: FieldStorage
    private var lastDevice: DeviceID?
    private var lastDeviceIndex: UInt32 = 0
    private var openSlot: FieldSlot?

    init(expectedWrites: Int = 16) {
        self.init(slots: expectedWrites, writes: expectedWrites, text: expectedWrites * 32)
    }

    /// Room for the given numbers of slots, writes and text bytes before growing.
    init(slots: Int, writes: Int, text: Int) {
        storage = FieldStorage.make(slots: max(slots, 1), writes: max(writes, 1), text: text)
    }

    var writeCount: Int { storage.counts.writeCount }

    /// The index of `device` in the table, added when new.
    mutating func device(_ device: DeviceID) -> UInt32 {
        if let lastDevice, lastDevice == device { return lastDeviceIndex }
        let index = Self.index(of: device, in: &devices)
        lastDevice = device
        lastDeviceIndex = index
        return index
    }

    /// The index of `device` in `devices`, appended when new.
    static func index(of device: DeviceID, in devices: inout [DeviceID]) -> UInt32 {
        if let found = devices.firstIndex(of: device) { return UInt32(found) }
        if devices.isEmpty { devices.reserveCapacity(4) }  // one allocation, not one per growth
        devices.append(device)
        return UInt32(devices.count - 1)
    }

    /// Appends `bytes` to the text and returns where they went.
    @inline(__always)
    mutating func text(_ bytes: UnsafeBufferPointer<UInt8>) -> TextRange {
        reserve(text: bytes.count)
        return storage.withMutableParts { _, _, text, header in text.store(bytes, at: &header.textCount) }
    }

    mutating func text(_ string: String) -> TextRange {
        var string = string
        return string.withUTF8 { text($0) }
    }

    /// Appends the unescaped bytes of the JSON string at the reader's position.
    mutating func text(from reader: inout JSONReader) throws(ModelError) -> TextRange {
        try reader.readString { text($0) }
    }

    /// The bytes of `range` of the text, as a string.
    func string(_ range: TextRange) -> String {
        storage.withParts { _, _, text in String(decoding: text.slice(range), as: UTF8.self) }
    }

    /// Byte order of two runs of the text.
    func compareText(_ left: TextRange, _ right: TextRange) -> Int {
        storage.withParts { _, _, text in SyncModel.compareText(text.slice(left), text.slice(right)) }
    }

    /// Starts a field; its writes follow, then `endField()`.
    mutating func beginField(nameBytes: UnsafeBufferPointer<UInt8>, isSet: Bool) {
        if let known = FieldNames.index(of: nameBytes) {
            beginField(known: known, isSet: isSet)
        } else {
            openSlot = FieldSlot(name: FieldSlot.unknownName, isSet: isSet, unknownNameRange: text(nameBytes), writeStart: writeCount, writeCount: 0)
        }
    }

    /// Starts a field the schema knows, by its index in `FieldNames.all`.
    @inline(__always)
    mutating func beginField(known name: UInt16, isSet: Bool) {
        openSlot = FieldSlot(name: name, isSet: isSet, writeStart: writeCount, writeCount: 0)
    }

    mutating func beginField(named name: String, isSet: Bool) {
        var name = name
        name.withUTF8 { beginField(nameBytes: $0, isSet: isSet) }
    }

    /// The name of the field being built, for error messages.
    var openFieldName: String {
        guard let slot = openSlot else { return "" }
        if slot.name != FieldSlot.unknownName { return FieldNames.all[Int(slot.name)] }
        return string(slot.unknownNameRange)
    }

    @inline(__always)
    mutating func append(_ write: FlatWrite) {
        reserve(writes: 1)
        storage.withMutableParts { _, writes, _, header in
            writes[header.writeCount] = write
            header.writeCount += 1
        }
    }

    /// Appends a finished slot whose writes were appended before it.
    @inline(__always)
    mutating func append(_ slot: FieldSlot) {
        reserve(slots: 1)
        storage.withMutableParts { slots, _, _, header in
            slots[header.slotCount] = slot
            header.slotCount += 1
        }
    }

    /// Appends a register entry or (with `element`) a set stamp given as public values.
    mutating func append(_ stamp: Stamp, value: FieldValue) {
        let device = device(stamp.dot.device)
        switch value {
        case let .text(text):
            append(FlatWrite(counter: stamp.dot.counter, time: stamp.time, payload: self.text(text).packed, device: device, kind: .text))
        case let .integer(number):
            append(FlatWrite(counter: stamp.dot.counter, time: stamp.time, payload: Int64(number), device: device, kind: .integer))
        case let .boolean(flag):
            append(FlatWrite(counter: stamp.dot.counter, time: stamp.time, payload: flag ? 1 : 0, device: device, kind: .boolean))
        }
    }

    /// Appends one field given as public values.
    mutating func append(_ field: RecordField) {
        switch field.state {
        case let .register(register):
            beginField(named: field.name, isSet: false)
            for entry in register.entries { append(entry.stamp, value: entry.value) }
        case let .set(set):
            beginField(named: field.name, isSet: true)
            for element in set.elements {
                let range = text(element.value)
                for stamp in element.stamps {
                    append(FlatWrite(counter: stamp.dot.counter, time: stamp.time, payload: range.packed, device: device(stamp.dot.device), kind: .text))
                }
            }
        }
        endField()
    }

    @inline(__always)
    mutating func endField() {
        guard var slot = openSlot else { return }
        slot.writeCount = writeCount - slot.writeStart
        append(slot)
        openSlot = nil
    }

    /// Room for the given numbers of slots, writes and text bytes: when a region is too
    /// small, everything moves to a new storage (a region that grows at least doubles, so
    /// appends stay amortised constant).
    @inline(__always)
    private mutating func reserve(slots: Int = 0, writes: Int = 0, text: Int = 0) {
        assert(isKnownUniquelyReferenced(&storage), "a builder's storage has one owner while it is filled")
        let header = storage.counts
        guard header.slotCount + slots > header.slotCapacity || header.writeCount + writes > header.writeCapacity
                || header.textCount + text > header.textCapacity else { return }
        moveStorage(slots: slots, writes: writes, text: text)
    }

    /// The storage, not shared with a copy of this builder, before reordering it.
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { moveStorage() }
    }

    private mutating func moveStorage(slots: Int = 0, writes: Int = 0, text: Int = 0) {
        let header = storage.counts
        func room(_ needed: Int, count: Int, capacity: Int) -> Int {
            count + needed <= capacity ? capacity - count : max(needed, capacity)
        }
        storage = FieldStorage.make(
            copying: storage,
            slotRoom: room(slots, count: header.slotCount, capacity: header.slotCapacity),
            writeRoom: room(writes, count: header.writeCount, capacity: header.writeCapacity),
            textRoom: room(text, count: header.textCount, capacity: header.textCapacity))
    }

    /// The table in canonical order.
    consuming func finish() -> FieldTable {
        endField()
        sortDevices()
        makeUnique()
        storage.withMutableParts { slots, writes, text, header in
            let text = UnsafeBufferPointer(rebasing: text[0..<header.textCount])
            for slot in UnsafeBufferPointer(rebasing: slots[0..<header.slotCount]) {
                var run = UnsafeMutableBufferPointer(rebasing: writes[slot.writeRange])
                if slot.isSet {
                    let precedes: (FlatWrite, FlatWrite) -> Bool = { left, right in
                        let order = SyncModel.compareText(text.slice(left.textRange), text.slice(right.textRange))
                        return order != 0 ? order < 0 : (left.device, left.counter) < (right.device, right.counter)
                    }
                    if !run.isSorted(by: precedes) { run.sort(by: precedes) }
                } else {
                    let precedes: (FlatWrite, FlatWrite) -> Bool = { ($0.device, $0.counter) < ($1.device, $1.counter) }
                    if !run.isSorted(by: precedes) { run.sort(by: precedes) }
                }
            }
            var filled = UnsafeMutableBufferPointer(rebasing: slots[0..<header.slotCount])
            let slotPrecedes: (FieldSlot, FieldSlot) -> Bool = { FieldTable.compareNames($0, text, $1, text) < 0 }
            if !filled.isSorted(by: slotPrecedes) { filled.sort(by: slotPrecedes) }
        }
        return table()
    }

    /// Sorts the devices and renumbers the writes' device indices to match.
    private mutating func sortDevices() {
        guard !devices.isSorted(by: <) else { return }
        makeUnique()
        storage.withMutableParts { _, writes, _, header in
            Self.sort(&devices, renumbering: UnsafeMutableBufferPointer(rebasing: writes[0..<header.writeCount]))
        }
    }

    /// Sorts `devices` and renumbers the device indices of `writes` to match.
    static func sort(_ devices: inout [DeviceID], renumbering writes: UnsafeMutableBufferPointer<FlatWrite>) {
        let order = devices.indices.sorted { devices[$0] < devices[$1] }
        var newIndex = [UInt32](repeating: 0, count: order.count)
        for (new, old) in order.enumerated() { newIndex[old] = UInt32(new) }
        devices = order.map { devices[$0] }
        for index in writes.indices { writes[index].device = newIndex[Int(writes[index].device)] }
    }

    /// The storage as a table: as it is when at most an eighth of it is unused room, else a
    /// copy of exactly the filled size.
    private func table() -> FieldTable {
        let header = storage.counts
        if header.slotCount == 0 && header.writeCount == 0 && header.textCount == 0 { return FieldTable(devices: devices) }
        let room = (header.slotCapacity - header.slotCount) * MemoryLayout<FieldSlot>.stride
            + (header.writeCapacity - header.writeCount) * MemoryLayout<FlatWrite>.stride + header.textCapacity - header.textCount
        return FieldTable(devices: devices, storage: room * 8 <= header.textOffset + header.textCapacity ? storage : FieldStorage.make(copying: storage))
    }
}

extension FieldTable {
    /// Byte order of the names of two slots, each with the text of its own table.
    @inline(__always)
    static func compareNames(_ left: FieldSlot, _ leftText: UnsafeBufferPointer<UInt8>, _ right: FieldSlot, _ rightText: UnsafeBufferPointer<UInt8>) -> Int {
        if left.name != FieldSlot.unknownName, right.name != FieldSlot.unknownName { return Int(left.name) - Int(right.name) }
        if left.name == FieldSlot.unknownName, right.name == FieldSlot.unknownName {
            return compareText(leftText.slice(left.unknownNameRange), rightText.slice(right.unknownNameRange))
        }
        if left.name == FieldSlot.unknownName {
            return -compareText(FieldNames.all[Int(right.name)], leftText.slice(left.unknownNameRange))
        }
        return compareText(FieldNames.all[Int(left.name)], rightText.slice(right.unknownNameRange))
    }
}

// MARK: - Views

extension FieldTable {
    /// The name of the field in `slot`.
    func name(of slot: FieldSlot) -> String {
        if slot.name != FieldSlot.unknownName { return FieldNames.all[Int(slot.name)] }
        return text.withUnsafeBufferPointer { String(decoding: $0.slice(slot.unknownNameRange), as: UTF8.self) }
    }

    /// Whether `slot` is the field called `name`.
    func slot(_ slot: FieldSlot, isNamed name: String, knownIndex: UInt16?) -> Bool {
        if let knownIndex { return slot.name == knownIndex }
        guard slot.name == FieldSlot.unknownName else { return false }
        var name = name
        return name.withUTF8 { bytes in text.withUnsafeBufferPointer { compareText($0.slice(slot.unknownNameRange), bytes) == 0 } }
    }

    /// The index of the slot of field `name`, if the table holds it.
    func slotIndex(named name: String) -> Int? {
        let known = FieldNames.index(of: name)
        for (index, slot) in slots.enumerated() where self.slot(slot, isNamed: name, knownIndex: known) { return index }
        return nil
    }

    func value(of write: FlatWrite) -> FieldValue {
        switch write.kind {
        case .text: return .text(string(write.textRange))
        case .integer: return .integer(Int(write.payload))
        case .boolean: return .boolean(write.payload != 0)
        }
    }

    func string(_ range: TextRange) -> String {
        text.withUnsafeBufferPointer { String(decoding: $0.slice(range), as: UTF8.self) }
    }

    func stamp(of write: FlatWrite) -> Stamp {
        Stamp(dot: Dot(device: devices[Int(write.device)], counter: write.counter), time: write.time)
    }

    /// The field in `slot` as the public value types show it.
    func fieldState(of slot: FieldSlot) -> FieldState {
        if !slot.isSet {
            return .register(Register(sortedEntries: SmallArray(writes[slot.writeRange].map {
                RegisterEntry(stamp: stamp(of: $0), value: value(of: $0))
            })))
        }
        var elements: [AddWinsSet.Element] = []
        var index = slot.writeStart
        while index < slot.writeEnd {
            let end = elementEnd(from: index, in: slot)
            let stamps = SmallArray(writes[index..<end].map { stamp(of: $0) })
            elements.append(AddWinsSet.Element(value: string(writes[index].textRange), sortedStamps: stamps))
            index = end
        }
        return .set(AddWinsSet(sortedElements: elements))
    }

    /// The end of the set element whose first stamp is `writes[start]`.
    func elementEnd(from start: Int, in slot: FieldSlot) -> Int {
        writes.withUnsafeBufferPointer { writes in
            text.withUnsafeBufferPointer { Self.elementEnd(from: start, in: slot, writes: writes, text: $0) }
        }
    }

    /// `elementEnd(from:in:)` over a table's parts: stamps run on while their element's bytes
    /// are the same.
    static func elementEnd(from start: Int, in slot: FieldSlot, writes: UnsafeBufferPointer<FlatWrite>, text: UnsafeBufferPointer<UInt8>) -> Int {
        let element = text.slice(writes[start].textRange)
        var end = start + 1
        while end < slot.writeEnd, compareText(text.slice(writes[end].textRange), element) == 0 { end += 1 }
        return end
    }

    var fields: [RecordField] {
        slots.map { RecordField(name: name(of: $0), state: fieldState(of: $0)) }
    }

    /// The value a register shows: its only value, or in a conflict the one written last by
    /// wall clock (ties broken by dot), as `Register.displayValue`.
    func displayWrite(of slot: FieldSlot) -> FlatWrite {
        var latest = writes[slot.writeStart]
        for write in writes[slot.writeStart..<slot.writeEnd].dropFirst()
        where (latest.time, latest.device, latest.counter) < (write.time, write.device, write.counter) {
            latest = write
        }
        return latest
    }

    /// Whether two writes of this table hold the same value.
    func sameValue(_ left: FlatWrite, _ right: FlatWrite) -> Bool {
        guard left.kind == right.kind else { return false }
        if left.payload == right.payload { return true }
        guard left.kind == .text else { return false }
        return text.withUnsafeBufferPointer { compareText($0.slice(left.textRange), $0.slice(right.textRange)) == 0 }
    }

    /// A register holding two or more different values (a conflict).
    func isConflicted(_ slot: FieldSlot) -> Bool {
        guard !slot.isSet, slot.writeCount > 1 else { return false }
        let first = writes[slot.writeStart]
        return writes[(slot.writeStart + 1)..<slot.writeEnd].contains { !sameValue(first, $0) }
    }
}

// MARK: - Equality and hashing

extension FieldTable {
    /// Whether both tables hold the same fields and writes (layouts may differ).
    func holdsSameWrites(as other: FieldTable) -> Bool {
        guard slots.count == other.slots.count, writes.count == other.writes.count else { return false }
        let sameDevices = devices == other.devices
        return text.withUnsafeBufferPointer { left in
            other.text.withUnsafeBufferPointer { right in
                for (slot, otherSlot) in zip(slots, other.slots) {
                    guard slot.name == otherSlot.name, slot.isSet == otherSlot.isSet, slot.writeCount == otherSlot.writeCount else { return false }
                    if slot.name == FieldSlot.unknownName,
                       compareText(left.slice(slot.unknownNameRange), right.slice(otherSlot.unknownNameRange)) != 0 { return false }
                    for offset in 0..<slot.writeCount {
                        let write = writes[slot.writeStart + offset]
                        let otherWrite = other.writes[otherSlot.writeStart + offset]
                        guard write.counter == otherWrite.counter, write.time == otherWrite.time, write.kind == otherWrite.kind else { return false }
                        if sameDevices {
                            guard write.device == otherWrite.device else { return false }
                        } else {
                            guard devices[Int(write.device)] == other.devices[Int(otherWrite.device)] else { return false }
                        }
                        if write.kind == .text {
                            guard compareText(left.slice(write.textRange), right.slice(otherWrite.textRange)) == 0 else { return false }
                        } else {
                            guard write.payload == otherWrite.payload else { return false }
                        }
                    }
                }
                return true
            }
        }
    }

    /// Hashes what `holdsSameWrites` compares.
    func hashWrites(into hasher: inout Hasher) {
        hasher.combine(slots.count)
        text.withUnsafeBufferPointer { text in
            for slot in slots {
                hasher.combine(slot.name)
                hasher.combine(slot.isSet)
                if slot.name == FieldSlot.unknownName { hasher.combine(bytes: UnsafeRawBufferPointer(text.slice(slot.unknownNameRange))) }
                hasher.combine(slot.writeCount)
                for write in writes[slot.writeRange] {
                    hasher.combine(devices[Int(write.device)])
                    hasher.combine(write.counter)
                    hasher.combine(write.time)
                    hasher.combine(write.kind)
                    if write.kind == .text {
                        hasher.combine(write.textRange.count)
                        hasher.combine(bytes: UnsafeRawBufferPointer(text.slice(write.textRange)))
                    } else {
                        hasher.combine(write.payload)
                    }
                }
            }
        }
    }
}
