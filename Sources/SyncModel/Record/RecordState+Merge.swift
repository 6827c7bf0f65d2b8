extension RecordState {
    /// The join of two states of the same record: field by field, every value the other side
    /// has not seen survives, values one side has seen and overwritten are dropped, and the
    /// version vectors are joined. Throws `identity_mismatch` for states of different records.
    public func merged(with other: RecordState) throws(ModelError) -> RecordState {
        var merged = self
        try merged.merge(other)
        return merged
    }

    /// Merges `other` into this state in place (see `merged(with:)`).
    public mutating func merge(_ other: RecordState) throws(ModelError) {
        guard id == other.id, type == other.type else {
            throw ModelError(.identityMismatch, "cannot merge \(type.rawValue) \(id) with \(other.type.rawValue) \(other.id): they are different records")
        }
        let joined = version.joined(with: other.version)
        let fields = FieldTable.merge(table, seenBy: version, other.table, seenBy: other.version)
        if deletion.isEmpty && other.deletion.isEmpty {
            // Most merges give one side's fields back: a replica receiving a newer state of a
            // record, or one it already holds. That side's buffers are then shared.
            switch fields {
            case .left: break
            case .right: self = other
            case let .built(table): self.table = table
            }
        } else {
            deletion = Array(mergeDotted(SmallArray(deletion), seenByLeft: version, SmallArray(other.deletion), seenByRight: other.version, prefer: DeletionMark.precedes))
            table = fields.table(left: table, right: other.table)
        }
        version = joined
    }
}

/// What merging two field tables gives: one of them as it is, or a table built anew.
enum FieldMergeResult {
    case left
    case right
    case built(FieldTable)

    /// The merged table, given the two tables merged.
    func table(left: FieldTable, right: FieldTable) -> FieldTable {
        switch self {
        case .left: left
        case .right: right
        case let .built(table): table
        }
    }
}

extension FieldTable {
    /// The merge of two states' fields (PROTOCOL.md §3): per field, every write both sides
    /// hold, and every write one side holds that the other has not seen.
    ///
    /// Two passes. The first walks both tables in order and writes down what survives (a
    /// `MergePlan`), building nothing; when that is exactly one side, that side is the
    /// answer. Otherwise the second copies the survivors into one storage of exactly the
    /// merged size, already in order. `alwaysBuild` builds even then (for tests).
    static func merge(_ left: FieldTable, seenBy leftVersion: VersionVector, _ right: FieldTable, seenBy rightVersion: VersionVector,
                      alwaysBuild: Bool = false) -> FieldMergeResult {
        let sameDevices = left.devices == right.devices
        let counts = (left: left.devices.count, right: right.devices.count)
        // Per device of each side: its index in the union, and what the other side has seen of it.
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * (counts.left + counts.right)) { scratch in
            let leftMap = UnsafeMutableBufferPointer(rebasing: scratch[0..<counts.left])
            let rightMap = UnsafeMutableBufferPointer(rebasing: scratch[counts.left..<(counts.left + counts.right)])
            let leftSeen = UnsafeMutableBufferPointer(rebasing: scratch[(counts.left + counts.right)..<(2 * counts.left + counts.right)])
            let rightSeen = UnsafeMutableBufferPointer(rebasing: scratch[(2 * counts.left + counts.right)...])
            let unionCount = sameDevices ? counts.left : mapDevices(left.devices, right.devices, leftMap: leftMap, rightMap: rightMap)
            for (index, device) in left.devices.enumerated() { leftSeen[index] = rightVersion[device] }
            for (index, device) in right.devices.enumerated() { rightSeen[index] = leftVersion[device] }
            return left.withUnsafeParts { leftSlots, leftWrites, leftText in
                right.withUnsafeParts { rightSlots, rightWrites, rightText in
                    let leftSide = MergeSide(slots: leftSlots, writes: leftWrites, text: leftText, isRight: false,
                                             deviceMap: sameDevices ? nil : UnsafeBufferPointer(leftMap), seenByOther: UnsafeBufferPointer(leftSeen))
                    let rightSide = MergeSide(slots: rightSlots, writes: rightWrites, text: rightText, isRight: true,
                                              deviceMap: sameDevices ? nil : UnsafeBufferPointer(rightMap), seenByOther: UnsafeBufferPointer(rightSeen))
                    let walk = MergeWalk(left: leftSide, right: rightSide)
                    return walk.plan { plan in
                        if !alwaysBuild && plan.givesLeft { return .left }
                        if !alwaysBuild && plan.givesRight { return .right }
                        // A union as long as one side's devices is that side's devices.
                        let devices = unionCount == counts.left ? left.devices
                            : unionCount == counts.right ? right.devices : unionOfDevices(left.devices, right.devices)
                        return .built(walk.build(plan, devices: devices))
                    }
                }
            }
        }
    }

    /// Where each side's devices go in the sorted union of two tables' devices, written to
    /// `leftMap` and `rightMap`; returns the number of devices in the union.
    private static func mapDevices(_ left: [DeviceID], _ right: [DeviceID], leftMap: UnsafeMutableBufferPointer<Int>, rightMap: UnsafeMutableBufferPointer<Int>) -> Int {
        var count = 0
        var leftIndex = 0
        var rightIndex = 0
        while leftIndex < left.count || rightIndex < right.count {
            let step = leftIndex == left.count ? 1 : rightIndex == right.count ? -1 : DeviceID.order(left[leftIndex], right[rightIndex])
            if step <= 0 {
                leftMap[leftIndex] = count
                leftIndex += 1
            }
            if step >= 0 {
                rightMap[rightIndex] = count
                rightIndex += 1
            }
            count += 1
        }
        return count
    }

    /// The sorted union of two tables' devices.
    private static func unionOfDevices(_ left: [DeviceID], _ right: [DeviceID]) -> [DeviceID] {
        var union: [DeviceID] = []
        union.reserveCapacity(left.count + right.count)
        var leftIndex = 0
        var rightIndex = 0
        while leftIndex < left.count || rightIndex < right.count {
            let step = leftIndex == left.count ? 1 : rightIndex == right.count ? -1 : DeviceID.order(left[leftIndex], right[rightIndex])
            union.append(step <= 0 ? left[leftIndex] : right[rightIndex])
            if step <= 0 { leftIndex += 1 }
            if step >= 0 { rightIndex += 1 }
        }
        return union
    }
}

/// One side of a merge: its table's parts, device mapping and what the other side has seen.
struct MergeSide {
    let slots: UnsafeBufferPointer<FieldSlot>
    let writes: UnsafeBufferPointer<FlatWrite>
    let text: UnsafeBufferPointer<UInt8>
    /// Whether this is the right side (`other` in `RecordState.merge`): the low bit of the
    /// plan's entries.
    let isRight: Bool
    /// Union index of each of this side's devices; nil when both sides have the same devices.
    let deviceMap: UnsafeBufferPointer<Int>?
    /// Per device of this side, the highest counter the other side has seen.
    let seenByOther: UnsafeBufferPointer<Int>

    @inline(__always)
    func device(_ write: FlatWrite) -> UInt32 {
        deviceMap.map { UInt32(truncatingIfNeeded: $0[Int(write.device)]) } ?? write.device
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

/// What survives the merge of two tables (which writes and fields of which side, and so
/// the merged table's exact size), as `MergeWalk` writes it down.
struct MergePlan {
    /// Per surviving write, in merged order: its index on its side << 2, | 2 when it is a
    /// stamp of the same set element as the write before it (which holds the text), | 1
    /// for the right side.
    fileprivate let writeOps: UnsafeMutablePointer<UInt32>
    /// Per surviving field, two entries: the index of the slot it is named like << 1 (| 1
    /// for the right side), and its number of writes.
    fileprivate let slotOps: UnsafeMutablePointer<UInt32>
    fileprivate(set) var writeCount = 0
    fileprivate(set) var slotCount = 0
    /// Text bytes the merged table holds.
    fileprivate(set) var textCount = 0
    /// Whether the merged table is the left one, write for write.
    fileprivate(set) var givesLeft = true
    /// Whether the merged table is the right one, write for write.
    fileprivate(set) var givesRight = true
    private var slotStart = 0
    /// The bytes of the set element last kept in the current field.
    private var lastElement: UnsafeBufferPointer<UInt8>?

    fileprivate init(writeOps: UnsafeMutablePointer<UInt32>, slotOps: UnsafeMutablePointer<UInt32>) {
        self.writeOps = writeOps
        self.slotOps = slotOps
    }

    @inline(__always)
    fileprivate mutating func beginSlot() {
        lastElement = nil
        slotStart = writeCount
    }

    /// Write `index` of `side` survives; `shared` when the other side holds it too, with the
    /// same content.
    @inline(__always)
    fileprivate mutating func keep(_ index: Int, of side: MergeSide, isSetStamp: Bool, shared: Bool) {
        if !shared {
            if side.isRight { givesLeft = false } else { givesRight = false }
        }
        var op = UInt32(truncatingIfNeeded: index) << 2 | (side.isRight ? 1 : 0)
        let write = side.writes[index]
        if write.kind == .text {
            let bytes = side.bytes(write)
            if isSetStamp, let last = lastElement, sameBytes(last, bytes) {
                op |= 2
            } else {
                textCount += bytes.count
                if isSetStamp { lastElement = bytes }
            }
        }
        writeOps[writeCount] = op
        writeCount += 1
    }

    /// A write or an empty field of `side` does not survive.
    @inline(__always)
    fileprivate mutating func drop(_ side: MergeSide) {
        if side.isRight { givesRight = false } else { givesLeft = false }
    }

    /// Closes the field begun with `beginSlot()`, named like slot `index` of `side`; a field
    /// left with no writes disappears.
    @inline(__always)
    fileprivate mutating func endSlot(_ index: Int, of side: MergeSide) {
        let count = writeCount - slotStart
        guard count > 0 else { return }
        slotOps[2 * slotCount] = UInt32(truncatingIfNeeded: index) << 1 | (side.isRight ? 1 : 0)
        slotOps[2 * slotCount + 1] = UInt32(truncatingIfNeeded: count)
        slotCount += 1
        let slot = side.slots[index]
        if slot.name == FieldSlot.unknownName { textCount += slot.unknownNameRange.count }
    }
}

/// The merge rule as one walk over two tables in order, written down as a `MergePlan`, and
/// the build of the merged table from that plan.
///
/// Fields are matched by name; a field one side holds keeps the writes the other side has
/// not seen; a field both hold is walked in its order (by dot for a register; by element
/// bytes, then dot, for a set), keeping each write both hold once and each write one holds
/// unless the other has seen it.
struct MergeWalk {
    let left: MergeSide
    let right: MergeSide

    /// Walks the two sides and calls `body` with the plan (whose buffers live only as long).
    func plan<Result>(_ body: (MergePlan) -> Result) -> Result {
        // A table holds far fewer than 2^30 writes (a state is bounded by the request size),
        // so an index and two flags fit in 32 bits.
        let writeRoom = left.writes.count + right.writes.count
        let slotRoom = 2 * (left.slots.count + right.slots.count)
        return withUnsafeTemporaryAllocation(of: UInt32.self, capacity: max(1, writeRoom + slotRoom)) { buffer in
            var plan = MergePlan(writeOps: buffer.baseAddress!, slotOps: buffer.baseAddress! + writeRoom)
            walk(into: &plan)
            return body(plan)
        }
    }

    private func walk(into plan: inout MergePlan) {
        let leftSlots = left.slots
        let rightSlots = right.slots
        var leftIndex = 0
        var rightIndex = 0
        while leftIndex < leftSlots.count || rightIndex < rightSlots.count {
            let order: Int
            if leftIndex == leftSlots.count {
                order = 1
            } else if rightIndex == rightSlots.count {
                order = -1
            } else {
                order = FieldTable.compareNames(leftSlots[leftIndex], left.text, rightSlots[rightIndex], right.text)
            }
            if order < 0 {
                keepUnseen(slot: leftIndex, of: left, into: &plan)
                leftIndex += 1
            } else if order > 0 {
                keepUnseen(slot: rightIndex, of: right, into: &plan)
                rightIndex += 1
            } else {
                let leftSlot = leftSlots[leftIndex]
                let rightSlot = rightSlots[rightIndex]
                if leftSlot.isSet != rightSlot.isSet {
                    // A kind mismatch cannot pass validation; keep the register side so the
                    // result still does not depend on argument order.
                    plan.drop(left)
                    plan.drop(right)
                    if !leftSlot.isSet {
                        keepUnseen(slot: leftIndex, of: left, into: &plan)
                    } else {
                        keepUnseen(slot: rightIndex, of: right, into: &plan)
                    }
                } else if !leftSlot.isSet, leftSlot.writeCount == 1, rightSlot.writeCount == 1,
                          holdSameWrite(leftSlot.writeStart, rightSlot.writeStart) {
                    // Most fields of two states of a record are one write both sides hold
                    // (what `merge` finds, in a few instructions).
                    plan.beginSlot()
                    plan.keep(leftSlot.writeStart, of: left, isSetStamp: false, shared: true)
                    plan.endSlot(leftIndex, of: left)
                } else {
                    merge(leftSlot, rightSlot, named: leftIndex, into: &plan)
                }
                leftIndex += 1
                rightIndex += 1
            }
        }
    }

    /// A field only one side holds: keep the writes the other side has not seen.
    private func keepUnseen(slot index: Int, of side: MergeSide, into plan: inout MergePlan) {
        let slot = side.slots[index]
        // A field with no writes (only a decoded state has one) is dropped with them.
        if slot.writeCount == 0 { plan.drop(side) }
        plan.beginSlot()
        for write in slot.writeRange {
            keepUnseen(write, of: side, isSetStamp: slot.isSet, into: &plan)
        }
        plan.endSlot(index, of: side)
    }

    /// A write only one side holds survives unless the other side has seen it.
    @inline(__always)
    private func keepUnseen(_ index: Int, of side: MergeSide, isSetStamp: Bool, into plan: inout MergePlan) {
        if side.otherHasSeen(side.writes[index]) {
            plan.drop(side)
        } else {
            plan.keep(index, of: side, isSetStamp: isSetStamp, shared: false)
        }
    }

    /// A field both sides hold: walk both runs in their order.
    private func merge(_ leftSlot: FieldSlot, _ rightSlot: FieldSlot, named leftSlotIndex: Int, into plan: inout MergePlan) {
        let isSet = leftSlot.isSet
        if leftSlot.writeCount == 0 { plan.drop(left) }
        if rightSlot.writeCount == 0 { plan.drop(right) }
        plan.beginSlot()
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
                keepUnseen(leftIndex, of: left, isSetStamp: isSet, into: &plan)
                leftIndex += 1
            } else if order > 0 {
                keepUnseen(rightIndex, of: right, isSetStamp: isSet, into: &plan)
                rightIndex += 1
            } else {
                // The same write on both sides; if their contents differ (an invalid
                // history) keep the smaller, so the result does not depend on argument order.
                let content = compareContent(leftWrites[leftIndex], rightWrites[rightIndex])
                if content <= 0 {
                    plan.keep(leftIndex, of: left, isSetStamp: isSet, shared: content == 0)
                } else {
                    plan.keep(rightIndex, of: right, isSetStamp: isSet, shared: false)
                }
                leftIndex += 1
                rightIndex += 1
            }
        }
        plan.endSlot(leftSlotIndex, of: left)
    }

    /// Whether write `leftIndex` of the left side and `rightIndex` of the right are one write
    /// (same dot) with the same content.
    @inline(always)
    private func holdSameWrite(_ leftIndex: Int, _ rightIndex: Int) -> Bool {
        let leftWrite = left.writes[leftIndex]
        let rightWrite = right.writes[rightIndex]
        return leftWrite.counter == rightWrite.counter && left.device(leftWrite) == right.device(rightWrite)
            && compareContent(leftWrite, rightWrite) == 0
    }

    /// The order of two writes with one dot: register entries by value (booleans, numbers,
    /// text by bytes), then time; set stamps (same element) by time. Zero when they hold
    /// the same content.
    @inline(always)
    private func compareContent(_ leftWrite: FlatWrite, _ rightWrite: FlatWrite) -> Int {
        if leftWrite.kind != rightWrite.kind {
            return FlatWrite.kindRank(leftWrite.kind) < FlatWrite.kindRank(rightWrite.kind) ? -1 : 1
        }
        if leftWrite.kind == .text {
            let leftBytes = left.bytes(leftWrite)
            let rightBytes = right.bytes(rightWrite)
            // Both sides hold the same text in nearly every merge: equal bytes are found
            // without a call, and only different ones are ordered.
            if !sameBytes(leftBytes, rightBytes) { return compareText(leftBytes, rightBytes) }
        } else if leftWrite.payload != rightWrite.payload {
            return leftWrite.payload < rightWrite.payload ? -1 : 1
        }
        return leftWrite.time == rightWrite.time ? 0 : (leftWrite.time < rightWrite.time ? -1 : 1)
    }

    /// The merged table: the surviving writes and fields copied in plan order into one
    /// storage of exactly their size, devices renumbered and text ranges moved.
    func build(_ plan: MergePlan, devices: [DeviceID]) -> FieldTable {
        guard plan.slotCount > 0 else { return FieldTable(devices: devices) }
        let storage = FieldStorage.make(slots: plan.slotCount, writes: plan.writeCount, text: plan.textCount)
        storage.withMutableParts { slots, writes, text, header in
            var textEnd = 0
            for index in 0..<plan.writeCount {
                let op = plan.writeOps[index]
                let side = op & 1 == 0 ? left : right
                var write = side.writes[Int(op >> 2)]
                write.device = side.device(write)
                if write.kind == .text {
                    if op & 2 != 0 {
                        write.payload = writes[index - 1].payload
                    } else {
                        write.payload = text.store(side.bytes(write), at: &textEnd).packed
                    }
                }
                writes[index] = write
            }
            var writeStart = 0
            for index in 0..<plan.slotCount {
                let op = plan.slotOps[2 * index]
                let count = Int(plan.slotOps[2 * index + 1])
                let side = op & 1 == 0 ? left : right
                let source = side.slots[Int(op >> 1)]
                var slot = FieldSlot(name: source.name, isSet: source.isSet, writeStart: writeStart, writeCount: count)
                if source.name == FieldSlot.unknownName {
                    slot.unknownNameRange = text.store(side.text.slice(source.unknownNameRange), at: &textEnd)
                }
                slots[index] = slot
                writeStart += count
            }
            header.slotCount = plan.slotCount
            header.writeCount = plan.writeCount
            header.textCount = textEnd
        }
        return FieldTable(devices: devices, storage: storage)
    }
}

/// Whether two byte runs are equal: by words, with no call (texts in a table are short).
@inline(always)
func sameBytes(_ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>) -> Bool {
    let count = left.count
    guard count == right.count else { return false }
    guard count > 0, let leftBase = left.baseAddress, let rightBase = right.baseAddress else { return true }
    let leftRaw = UnsafeRawPointer(leftBase)
    let rightRaw = UnsafeRawPointer(rightBase)
    if count < 8 {
        var offset = 0
        while offset < count {
            guard leftBase[offset] == rightBase[offset] else { return false }
            offset += 1
        }
        return true
    }
    var offset = 0
    while offset + 8 < count {
        guard leftRaw.loadUnaligned(fromByteOffset: offset, as: UInt64.self) == rightRaw.loadUnaligned(fromByteOffset: offset, as: UInt64.self) else { return false }
        offset += 8
    }
    // The last word, overlapping the one before: it ends at the runs' end.
    return leftRaw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) == rightRaw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
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
