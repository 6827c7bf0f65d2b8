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
        if version == other.version && self == other { return self }

        var merged = RecordState(type: type, id: id)
        merged.table = FieldTable.merged(table, seenBy: version, other.table, seenBy: other.version)
        if !deletion.isEmpty || !other.deletion.isEmpty {
            merged.deletion = Array(mergeDotted(SmallArray(deletion), seenByLeft: version, SmallArray(other.deletion), seenByRight: other.version, prefer: DeletionMark.precedes))
        }
        merged.version = version.joined(with: other.version)
        return merged
    }
}

extension FieldTable {
    /// The merge of two states' fields (PROTOCOL.md §3): per field, every write both sides
    /// hold, and every write one side holds that the other has not seen. Both tables are
    /// walked in order and the result is built in order, so it needs no sorting.
    static func merged(_ left: FieldTable, seenBy leftVersion: VersionVector, _ right: FieldTable, seenBy rightVersion: VersionVector) -> FieldTable {
        let sameDevices = left.devices == right.devices
        let counts = (left: left.devices.count, right: right.devices.count)
        // Per device of each side: its index in the union, and what the other side has seen of it.
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * (counts.left + counts.right)) { scratch in
            let leftMap = UnsafeMutableBufferPointer(rebasing: scratch[0..<counts.left])
            let rightMap = UnsafeMutableBufferPointer(rebasing: scratch[counts.left..<(counts.left + counts.right)])
            let leftSeen = UnsafeMutableBufferPointer(rebasing: scratch[(counts.left + counts.right)..<(2 * counts.left + counts.right)])
            let rightSeen = UnsafeMutableBufferPointer(rebasing: scratch[(2 * counts.left + counts.right)...])
            var result = FieldTable()
            result.devices = sameDevices ? left.devices : unionOfDevices(left.devices, right.devices, leftMap: leftMap, rightMap: rightMap)
            for (index, device) in left.devices.enumerated() { leftSeen[index] = rightVersion[device] }
            for (index, device) in right.devices.enumerated() { rightSeen[index] = leftVersion[device] }
            result.slots.reserveCapacity(max(left.slots.count, right.slots.count))
            result.writes.reserveCapacity(max(left.writes.count, right.writes.count) + 1)
            result.text.reserveCapacity(max(left.text.count, right.text.count))
            return left.text.withUnsafeBufferPointer { leftText in
                right.text.withUnsafeBufferPointer { rightText in
                    let merge = FieldMerge(
                        left: MergeSide(table: left, text: leftText, deviceMap: sameDevices ? nil : UnsafeBufferPointer(leftMap), seenByOther: UnsafeBufferPointer(leftSeen)),
                        right: MergeSide(table: right, text: rightText, deviceMap: sameDevices ? nil : UnsafeBufferPointer(rightMap), seenByOther: UnsafeBufferPointer(rightSeen)))
                    var output = MergeOutput(table: result)
                    merge.run(into: &output)
                    return output.table
                }
            }
        }
    }

    /// The devices of two tables as one sorted list; `leftMap` and `rightMap` receive where
    /// each side's devices went.
    private static func unionOfDevices(_ left: [DeviceID], _ right: [DeviceID], leftMap: UnsafeMutableBufferPointer<Int>, rightMap: UnsafeMutableBufferPointer<Int>) -> [DeviceID] {
        var all: [DeviceID] = []
        all.reserveCapacity(left.count + right.count)
        var leftIndex = 0
        var rightIndex = 0
        while leftIndex < left.count || rightIndex < right.count {
            if rightIndex == right.count || (leftIndex < left.count && left[leftIndex] < right[rightIndex]) {
                leftMap[leftIndex] = all.count
                all.append(left[leftIndex])
                leftIndex += 1
            } else if leftIndex == left.count || right[rightIndex] < left[leftIndex] {
                rightMap[rightIndex] = all.count
                all.append(right[rightIndex])
                rightIndex += 1
            } else {
                leftMap[leftIndex] = all.count
                rightMap[rightIndex] = all.count
                all.append(left[leftIndex])
                leftIndex += 1
                rightIndex += 1
            }
        }
        return all
    }
}

/// One side of a merge: its table, text, device mapping and what the other side has seen.
struct MergeSide {
    let table: FieldTable
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

/// The table a merge builds.
struct MergeOutput {
    var table: FieldTable
    /// The last set element copied into `table`, so a run of stamps shares its bytes.
    var lastElement: TextRange?
}

/// The walk that merges two tables. Its sides are constants and all building goes to one
/// `MergeOutput`, so the walk reads both tables without copying (or retaining) them.
struct FieldMerge {
    let left: MergeSide
    let right: MergeSide

    func run(into output: inout MergeOutput) {
        let leftSlots = left.table.slots
        let rightSlots = right.table.slots
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
                copyUnseen(leftSlots[leftIndex], from: left, into: &output)
                leftIndex += 1
            } else if order > 0 {
                copyUnseen(rightSlots[rightIndex], from: right, into: &output)
                rightIndex += 1
            } else {
                let leftSlot = leftSlots[leftIndex]
                let rightSlot = rightSlots[rightIndex]
                if leftSlot.isSet == rightSlot.isSet {
                    merge(leftSlot, rightSlot, into: &output)
                } else if !leftSlot.isSet {
                    // A kind mismatch cannot pass validation; keep the register side so the
                    // result still does not depend on argument order.
                    copyUnseen(leftSlot, from: left, into: &output)
                } else {
                    copyUnseen(rightSlot, from: right, into: &output)
                }
                leftIndex += 1
                rightIndex += 1
            }
        }
    }

    /// A field only one side holds: keep the writes the other side has not seen.
    private func copyUnseen(_ slot: FieldSlot, from side: MergeSide, into output: inout MergeOutput) {
        let start = beginSlot(&output)
        for index in slot.writeRange {
            let write = side.table.writes[index]
            if !side.otherHasSeen(write) { copy(write, from: side, isSetStamp: slot.isSet, into: &output) }
        }
        endSlot(like: slot, from: side, start: start, into: &output)
    }

    /// A field both sides hold: walk both runs in their order (by dot for a register; by
    /// element, then dot, for a set).
    private func merge(_ leftSlot: FieldSlot, _ rightSlot: FieldSlot, into output: inout MergeOutput) {
        let isSet = leftSlot.isSet
        let start = beginSlot(&output)
        let leftWrites = left.table.writes
        let rightWrites = right.table.writes
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
                let write = leftWrites[leftIndex]
                if !left.otherHasSeen(write) { copy(write, from: left, isSetStamp: isSet, into: &output) }
                leftIndex += 1
            } else if order > 0 {
                let write = rightWrites[rightIndex]
                if !right.otherHasSeen(write) { copy(write, from: right, isSetStamp: isSet, into: &output) }
                rightIndex += 1
            } else {
                // The same write on both sides; if their contents differ (an invalid
                // history) keep the smaller, so the result does not depend on argument order.
                let leftWrite = leftWrites[leftIndex]
                let rightWrite = rightWrites[rightIndex]
                if keepsLeft(leftWrite, rightWrite) {
                    copy(leftWrite, from: left, isSetStamp: isSet, into: &output)
                } else {
                    copy(rightWrite, from: right, isSetStamp: isSet, into: &output)
                }
                leftIndex += 1
                rightIndex += 1
            }
        }
        endSlot(like: leftSlot, from: left, start: start, into: &output)
    }

    /// Of two writes with one dot: register entries by value (booleans, numbers, text by
    /// bytes), then time; set stamps (same element) by time.
    private func keepsLeft(_ leftWrite: FlatWrite, _ rightWrite: FlatWrite) -> Bool {
        if leftWrite.kind != rightWrite.kind {
            return FlatWrite.kindRank(leftWrite.kind) < FlatWrite.kindRank(rightWrite.kind)
        }
        if leftWrite.kind == .text {
            let order = compareText(left.bytes(leftWrite), right.bytes(rightWrite))
            if order != 0 { return order < 0 }
        } else if leftWrite.payload != rightWrite.payload {
            return leftWrite.payload < rightWrite.payload
        }
        return leftWrite.time <= rightWrite.time
    }

    private func beginSlot(_ output: inout MergeOutput) -> Int {
        output.lastElement = nil
        return output.table.writes.count
    }

    /// Closes the slot begun at `start`; a field left with no writes disappears.
    private func endSlot(like slot: FieldSlot, from side: MergeSide, start: Int, into output: inout MergeOutput) {
        let count = output.table.writes.count - start
        guard count > 0 else { return }
        var merged = FieldSlot(name: slot.name, isSet: slot.isSet, writeStart: start, writeCount: count)
        if slot.name == FieldSlot.unknownName { merged.unknownNameRange = output.table.append(text: side.text.slice(slot.unknownNameRange)) }
        output.table.slots.append(merged)
    }

    @inline(__always)
    private func copy(_ write: FlatWrite, from side: MergeSide, isSetStamp: Bool, into output: inout MergeOutput) {
        var copied = write
        copied.device = side.device(write)
        if write.kind == .text {
            let bytes = side.bytes(write)
            if isSetStamp, let last = output.lastElement, output.table.text.withUnsafeBufferPointer({ compareText($0.slice(last), bytes) == 0 }) {
                copied.payload = last.packed
            } else {
                let range = output.table.append(text: bytes)
                copied.payload = range.packed
                if isSetStamp { output.lastElement = range }
            }
        }
        output.table.writes.append(copied)
    }
}

extension FieldTable {
    /// Appends bytes to the text and returns where they went.
    mutating func append(text bytes: UnsafeBufferPointer<UInt8>) -> TextRange {
        let start = text.count
        text.append(contentsOf: bytes)
        return TextRange(start: start, count: bytes.count)
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
