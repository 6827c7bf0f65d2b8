extension RecordState {
    /// The join of two states of the same record: field by field, every value the other side
    /// has not seen survives, values one side has seen and overwritten are dropped, and the
    /// version vectors are joined. Throws `identity_mismatch` for states of different records.
    public func merged(with other: RecordState) throws(ModelError) -> RecordState {
        guard id == other.id, type == other.type else {
            throw ModelError(.identityMismatch, "cannot merge \(type.rawValue) \(id) with \(other.type.rawValue) \(other.id): they are different records")
        }
        return mergedUnchecked(with: other)
    }

    /// Merges `other` into this state in place (see `merged(with:)`).
    public mutating func merge(_ other: RecordState) throws(ModelError) {
        self = try merged(with: other)
    }

    func mergedUnchecked(with other: RecordState) -> RecordState {
        if other.version.isEmpty && other.table.isEmpty && other.deletion.isEmpty { return self }
        if version.isEmpty && table.isEmpty && deletion.isEmpty { return other }
        // Most merges give one side back: a replica receiving a newer state of a record, or
        // one it already holds. A walk that builds nothing finds that out; the side is then
        // returned as it is (with the joined version), sharing its buffers. With concurrent
        // versions neither side of a causal history can win whole, so that walk is skipped
        // (skipping it is always safe: the full merge below is the rule itself).
        let order = version.compare(other.version)
        if deletion.isEmpty && other.deletion.isEmpty && order != .concurrent {
            let shortcut = FieldTable.mergeShortcut(table, seenBy: version, other.table, seenBy: other.version)
            if shortcut.givesLeft || shortcut.givesRight {
                var merged = shortcut.givesLeft ? self : other
                merged.version = version.joined(with: other.version, order: order)
                return merged
            }
        }

        var merged = RecordState(type: type, id: id)
        merged.table = FieldTable.merged(table, seenBy: version, other.table, seenBy: other.version)
        if !deletion.isEmpty || !other.deletion.isEmpty {
            merged.deletion = Array(mergeDotted(SmallArray(deletion), seenByLeft: version, SmallArray(other.deletion), seenByRight: other.version, prefer: DeletionMark.precedes))
        }
        merged.version = version.joined(with: other.version, order: order)
        return merged
    }
}

extension FieldTable {
    /// The merge of two states' fields (PROTOCOL.md §3): per field, every write both sides
    /// hold, and every write one side holds that the other has not seen. Both tables are
    /// walked in order and the result is built in order, so it needs no sorting.
    static func merged(_ left: FieldTable, seenBy leftVersion: VersionVector, _ right: FieldTable, seenBy rightVersion: VersionVector) -> FieldTable {
        // Room for the larger side and a little more (a merge of concurrent states adds a few
        // writes), in a block small enough for the allocator's cache; more grows the builder,
        // which hands over a storage of exactly the merged size.
        let slots = max(left.slots.count, right.slots.count)
        let writes = max(left.writes.count, right.writes.count)
        let text = max(left.text.count, right.text.count)
        var output = MergeOutput(builder: FieldTableBuilder(slots: slots + 1, writes: writes + 2, text: text + text / 8))
        walk(left, seenBy: leftVersion, right, seenBy: rightVersion, into: &output)
        return output.builder.finishInOrder()
    }

    /// Whether merging the two tables would give one of them back unchanged, found by the
    /// merge's own walk with nothing built; it stops as soon as neither can be.
    static func mergeShortcut(_ left: FieldTable, seenBy leftVersion: VersionVector, _ right: FieldTable, seenBy rightVersion: VersionVector) -> MergeShortcut {
        var shortcut = MergeShortcut()
        walk(left, seenBy: leftVersion, right, seenBy: rightVersion, into: &shortcut)
        return shortcut
    }

    /// Walks both tables as the merge does, telling `sink` what survives.
    private static func walk<Sink: MergeSink>(_ left: FieldTable, seenBy leftVersion: VersionVector, _ right: FieldTable, seenBy rightVersion: VersionVector, into sink: inout Sink) {
        let sameDevices = left.devices == right.devices
        let counts = (left: left.devices.count, right: right.devices.count)
        // Per device of each side: its index in the union, and what the other side has seen of it.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * (counts.left + counts.right)) { scratch in
            let leftMap = UnsafeMutableBufferPointer(rebasing: scratch[0..<counts.left])
            let rightMap = UnsafeMutableBufferPointer(rebasing: scratch[counts.left..<(counts.left + counts.right)])
            let leftSeen = UnsafeMutableBufferPointer(rebasing: scratch[(counts.left + counts.right)..<(2 * counts.left + counts.right)])
            let rightSeen = UnsafeMutableBufferPointer(rebasing: scratch[(2 * counts.left + counts.right)...])
            if sameDevices {
                sink.useDevices(left.devices)
            } else {
                mapDevices(left.devices, right.devices, leftMap: leftMap, rightMap: rightMap) { sink.addDevice($0) }
            }
            for (index, device) in left.devices.enumerated() { leftSeen[index] = rightVersion[device] }
            for (index, device) in right.devices.enumerated() { rightSeen[index] = leftVersion[device] }
            left.withUnsafeParts { leftSlots, leftWrites, leftText in
                right.withUnsafeParts { rightSlots, rightWrites, rightText in
                    let merge = FieldMerge(
                        left: MergeSide(slots: leftSlots, writes: leftWrites, text: leftText,
                                        deviceMap: sameDevices ? nil : UnsafeBufferPointer(leftMap), seenByOther: UnsafeBufferPointer(leftSeen)),
                        right: MergeSide(slots: rightSlots, writes: rightWrites, text: rightText,
                                         deviceMap: sameDevices ? nil : UnsafeBufferPointer(rightMap), seenByOther: UnsafeBufferPointer(rightSeen)))
                    merge.run(into: &sink)
                }
            }
        }
    }

    /// The devices of two tables as one sorted list, given to `add` in order; `leftMap` and
    /// `rightMap` receive where each side's devices went.
    private static func mapDevices(_ left: [DeviceID], _ right: [DeviceID], leftMap: UnsafeMutableBufferPointer<Int>, rightMap: UnsafeMutableBufferPointer<Int>, add: (DeviceID) -> Void) {
        var count = 0
        var leftIndex = 0
        var rightIndex = 0
        while leftIndex < left.count || rightIndex < right.count {
            let step = leftIndex == left.count ? 1 : rightIndex == right.count ? -1 : DeviceID.order(left[leftIndex], right[rightIndex])
            if step < 0 {
                leftMap[leftIndex] = count
                add(left[leftIndex])
                leftIndex += 1
            } else if step > 0 {
                rightMap[rightIndex] = count
                add(right[rightIndex])
                rightIndex += 1
            } else {
                leftMap[leftIndex] = count
                rightMap[rightIndex] = count
                add(left[leftIndex])
                leftIndex += 1
                rightIndex += 1
            }
            count += 1
        }
    }
}

/// One side of a merge: its table's parts, device mapping and what the other side has seen.
struct MergeSide {
    let slots: UnsafeBufferPointer<FieldSlot>
    let writes: UnsafeBufferPointer<FlatWrite>
    let text: UnsafeBufferPointer<UInt8>
    /// Union index of each of this side's devices; nil when both sides have the same devices.
    let deviceMap: UnsafeBufferPointer<Int>?
    /// Per device of this side, the highest counter the other side has seen.
    let seenByOther: UnsafeBufferPointer<Int>

    @inline(__always)
    func device(_ write: FlatWrite) -> UInt32 {
        deviceMap.map { UInt32($0[Int(write.device)]) } ?? write.device
    }

    /// Whether the other side has seen (and so overwritten or removed) `write`.
    @inline(__always)
    func otherHasSeen(_ write: FlatWrite) -> Bool {
        write.counter <= seenByOther[Int(write.device)]
    }

    @inline(__always)
    func bytes(_ write: FlatWrite) -> UnsafeBufferPointer<UInt8> {
        text.slice(write.textRange)
    }
}

/// What a merge walk tells as it goes: which writes survive, field by field.
protocol MergeSink {
    /// Whether the walk may stop early.
    var isDone: Bool { get }
    /// The merged table's devices: both sides have these.
    mutating func useDevices(_ devices: [DeviceID])
    /// The next device of the merged table, in order (the sides' devices differ).
    mutating func addDevice(_ device: DeviceID)
    mutating func beginSlot()
    /// `write` of one side survives; `shared` when the other side holds it too, with the
    /// same content.
    mutating func keep(_ write: FlatWrite, from side: MergeSide, isLeft: Bool, isSetStamp: Bool, shared: Bool)
    /// A write of one side is dropped (the other side has seen and overwritten it), or a
    /// field of one side that holds no writes.
    mutating func drop(isLeft: Bool)
    /// Closes the field begun with `beginSlot()`, named like `slot` of `side`.
    mutating func endSlot(like slot: FieldSlot, from side: MergeSide)
    /// The sides hold one field with different kinds (only invalid states do): the field
    /// merges as `slot` of `side`, and the other side's writes are dropped.
    mutating func dropKindMismatch()
}

/// Builds the merged table.
struct MergeOutput: MergeSink {
    var builder: FieldTableBuilder
    /// The last set element copied, with its bytes on the side it came from, so a run of
    /// stamps of one element shares one copy.
    private var lastElement: (range: TextRange, bytes: UnsafeBufferPointer<UInt8>)?
    private var slotStart = 0

    init(builder: FieldTableBuilder) {
        self.builder = builder
    }

    var isDone: Bool { false }

    mutating func useDevices(_ devices: [DeviceID]) {
        builder.useDevices(devices)
    }

    mutating func addDevice(_ device: DeviceID) {
        builder.appendDevice(device)
    }

    mutating func beginSlot() {
        lastElement = nil
        slotStart = builder.writeCount
    }

    @inline(__always)
    mutating func keep(_ write: FlatWrite, from side: MergeSide, isLeft: Bool, isSetStamp: Bool, shared: Bool) {
        var copied = write
        copied.device = side.device(write)
        if write.kind == .text {
            let bytes = side.bytes(write)
            if isSetStamp, let last = lastElement, compareText(last.bytes, bytes) == 0 {
                copied.payload = last.range.packed
            } else {
                let range = builder.text(bytes)
                copied.payload = range.packed
                if isSetStamp { lastElement = (range, bytes) }
            }
        }
        builder.append(copied)
    }

    mutating func drop(isLeft: Bool) {}

    /// A field left with no writes disappears.
    mutating func endSlot(like slot: FieldSlot, from side: MergeSide) {
        let count = builder.writeCount - slotStart
        guard count > 0 else { return }
        var merged = FieldSlot(name: slot.name, isSet: slot.isSet, writeStart: slotStart, writeCount: count)
        if slot.name == FieldSlot.unknownName { merged.unknownNameRange = builder.text(side.text.slice(slot.unknownNameRange)) }
        builder.append(merged)
    }

    mutating func dropKindMismatch() {}
}

/// Finds out, building nothing, whether a merge gives one side back: it does when every
/// write of that side survives and nothing else does.
struct MergeShortcut: MergeSink {
    private(set) var givesLeft = true
    private(set) var givesRight = true

    var isDone: Bool { !givesLeft && !givesRight }

    mutating func useDevices(_ devices: [DeviceID]) {}
    mutating func addDevice(_ device: DeviceID) {}
    mutating func beginSlot() {}

    mutating func keep(_ write: FlatWrite, from side: MergeSide, isLeft: Bool, isSetStamp: Bool, shared: Bool) {
        guard !shared else { return }
        if isLeft { givesRight = false } else { givesLeft = false }
    }

    mutating func drop(isLeft: Bool) {
        if isLeft { givesLeft = false } else { givesRight = false }
    }

    mutating func endSlot(like slot: FieldSlot, from side: MergeSide) {}

    mutating func dropKindMismatch() {
        givesLeft = false
        givesRight = false
    }
}

/// The walk that merges two tables. Its sides are buffers and everything it finds goes to
/// one sink, so the walk reads both tables without copying (or retaining) them.
struct FieldMerge {
    let left: MergeSide
    let right: MergeSide

    func run<Sink: MergeSink>(into sink: inout Sink) {
        let leftSlots = left.slots
        let rightSlots = right.slots
        var leftIndex = 0
        var rightIndex = 0
        while (leftIndex < leftSlots.count || rightIndex < rightSlots.count) && !sink.isDone {
            let order: Int
            if leftIndex == leftSlots.count {
                order = 1
            } else if rightIndex == rightSlots.count {
                order = -1
            } else {
                order = FieldTable.compareNames(leftSlots[leftIndex], left.text, rightSlots[rightIndex], right.text)
            }
            if order < 0 {
                keepUnseen(leftSlots[leftIndex], from: left, isLeft: true, into: &sink)
                leftIndex += 1
            } else if order > 0 {
                keepUnseen(rightSlots[rightIndex], from: right, isLeft: false, into: &sink)
                rightIndex += 1
            } else {
                let leftSlot = leftSlots[leftIndex]
                let rightSlot = rightSlots[rightIndex]
                if leftSlot.isSet == rightSlot.isSet {
                    merge(leftSlot, rightSlot, into: &sink)
                } else {
                    // A kind mismatch cannot pass validation; keep the register side so the
                    // result still does not depend on argument order.
                    sink.dropKindMismatch()
                    if !leftSlot.isSet {
                        keepUnseen(leftSlot, from: left, isLeft: true, into: &sink)
                    } else {
                        keepUnseen(rightSlot, from: right, isLeft: false, into: &sink)
                    }
                }
                leftIndex += 1
                rightIndex += 1
            }
        }
    }

    /// A field only one side holds: keep the writes the other side has not seen.
    private func keepUnseen<Sink: MergeSink>(_ slot: FieldSlot, from side: MergeSide, isLeft: Bool, into sink: inout Sink) {
        // A field with no writes (only a decoded state has one) is dropped with them.
        if slot.writeCount == 0 { sink.drop(isLeft: isLeft) }
        sink.beginSlot()
        for index in slot.writeRange {
            keepUnseen(side.writes[index], from: side, isLeft: isLeft, isSetStamp: slot.isSet, into: &sink)
        }
        sink.endSlot(like: slot, from: side)
    }

    /// A write only one side holds survives unless the other side has seen it.
    @inline(__always)
    private func keepUnseen<Sink: MergeSink>(_ write: FlatWrite, from side: MergeSide, isLeft: Bool, isSetStamp: Bool, into sink: inout Sink) {
        if side.otherHasSeen(write) {
            sink.drop(isLeft: isLeft)
        } else {
            sink.keep(write, from: side, isLeft: isLeft, isSetStamp: isSetStamp, shared: false)
        }
    }

    /// A field both sides hold: walk both runs in their order (by dot for a register; by
    /// element, then dot, for a set).
    private func merge<Sink: MergeSink>(_ leftSlot: FieldSlot, _ rightSlot: FieldSlot, into sink: inout Sink) {
        let isSet = leftSlot.isSet
        if leftSlot.writeCount == 0 { sink.drop(isLeft: true) }
        if rightSlot.writeCount == 0 { sink.drop(isLeft: false) }
        sink.beginSlot()
        let leftWrites = left.writes
        let rightWrites = right.writes
        var leftIndex = leftSlot.writeStart
        var rightIndex = rightSlot.writeStart
        while leftIndex < leftSlot.writeEnd || rightIndex < rightSlot.writeEnd {
            var order: Int
            if leftIndex == leftSlot.writeEnd {
                order = 1
            } else if rightIndex == rightSlot.writeEnd {
                order = -1
            } else {
                let leftWrite = leftWrites[leftIndex]
                let rightWrite = rightWrites[rightIndex]
                order = isSet ? compareText(left.bytes(leftWrite), right.bytes(rightWrite)) : 0
                if order == 0 {
                    let leftDevice = left.device(leftWrite)
                    let rightDevice = right.device(rightWrite)
                    order = leftDevice != rightDevice ? (leftDevice < rightDevice ? -1 : 1)
                        : (leftWrite.counter != rightWrite.counter ? (leftWrite.counter < rightWrite.counter ? -1 : 1) : 0)
                }
            }
            if order < 0 {
                keepUnseen(leftWrites[leftIndex], from: left, isLeft: true, isSetStamp: isSet, into: &sink)
                leftIndex += 1
            } else if order > 0 {
                keepUnseen(rightWrites[rightIndex], from: right, isLeft: false, isSetStamp: isSet, into: &sink)
                rightIndex += 1
            } else {
                // The same write on both sides; if their contents differ (an invalid
                // history) keep the smaller, so the result does not depend on argument order.
                let leftWrite = leftWrites[leftIndex]
                let rightWrite = rightWrites[rightIndex]
                let content = compareContent(leftWrite, rightWrite)
                if content <= 0 {
                    sink.keep(leftWrite, from: left, isLeft: true, isSetStamp: isSet, shared: content == 0)
                } else {
                    sink.keep(rightWrite, from: right, isLeft: false, isSetStamp: isSet, shared: false)
                }
                leftIndex += 1
                rightIndex += 1
            }
        }
        sink.endSlot(like: leftSlot, from: left)
    }

    /// The order of two writes with one dot: register entries by value (booleans, numbers,
    /// text by bytes), then time; set stamps (same element) by time. Zero when they hold
    /// the same content.
    private func compareContent(_ leftWrite: FlatWrite, _ rightWrite: FlatWrite) -> Int {
        if leftWrite.kind != rightWrite.kind {
            return FlatWrite.kindRank(leftWrite.kind) < FlatWrite.kindRank(rightWrite.kind) ? -1 : 1
        }
        if leftWrite.kind == .text {
            let order = compareText(left.bytes(leftWrite), right.bytes(rightWrite))
            if order != 0 { return order }
        } else if leftWrite.payload != rightWrite.payload {
            return leftWrite.payload < rightWrite.payload ? -1 : 1
        }
        return leftWrite.time == rightWrite.time ? 0 : (leftWrite.time < rightWrite.time ? -1 : 1)
    }
}

extension FlatWrite {
    /// Canonical value order of kinds: booleans, then numbers, then text.
    static func kindRank(_ kind: Kind) -> Int {
        switch kind {
        case .boolean: return 0
        case .integer: return 1
        case .text: return 2
        }
    }
}
