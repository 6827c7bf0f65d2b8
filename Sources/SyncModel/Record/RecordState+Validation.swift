extension RecordState {
    /// Checks everything a replica must check before it stores or merges a state it did not
    /// make itself: every field known to the schema with the right kind and value type,
    /// counters in range, every dot covered by the version vector, no dot twice in a field,
    /// tombstones consistent, and (when `requireComplete`) every required field present.
    ///
    /// Merge vectors and partial test states use `requireComplete: false`; pushes use the default.
    public func validate(requireComplete: Bool = true) throws(ModelError) {
        let schema = RecordSchema.for(type)
        for dot in version.dots where dot.counter < 1 || dot.counter > Dot.maxCounter {
            throw ModelError(.invalidCounter, "version of \(type.rawValue) \(id) has counter \(dot.counter) for \(dot.device); counters run from 1 to 2^53-1")
        }
        try table.text.withUnsafeBufferPointer { text throws(ModelError) in
            // What the version has seen of each device the writes name (on the stack: this
            // runs for every state a replica receives).
            try withUnsafeTemporaryAllocation(of: Int.self, capacity: table.devices.count) { seen throws(ModelError) in
                for (index, device) in table.devices.enumerated() { seen[index] = version[device] }
                try checkFields(of: schema, text: text, seen: UnsafeBufferPointer(seen))
            }
        }
        try checkDots(deletion, field: RecordSchema.deletedField)
        for mark in deletion {
            guard mark.seen.contains(mark.dot), version.dominates(mark.seen) else {
                throw ModelError(.dotAboveVersion, "tombstone \(mark.dot) of \(type.rawValue) \(id) must have seen its own write and nothing beyond the record's version", field: RecordSchema.deletedField)
            }
        }
        if requireComplete {
            for known in schema.requiredKnownNames where !table.slots.contains(where: { $0.name == known }) {
                let name = FieldNames.all[Int(known)]
                throw ModelError(.missingField, "\(type.rawValue) \(id) lacks required field \(name)", field: name)
            }
        }
    }

    /// Every field: names in order and unique, known with the right kind, dots and values
    /// valid. Values are checked as plain values (`ValueCheck`); the spec names a failure.
    private func checkFields(of schema: RecordSchema, text: UnsafeBufferPointer<UInt8>, seen: UnsafeBufferPointer<Int>) throws(ModelError) {
        try table.slots.withUnsafeBufferPointer { slots throws(ModelError) in
            try table.writes.withUnsafeBufferPointer { writes throws(ModelError) in
                try schema.checks.withUnsafeBufferPointer { checks throws(ModelError) in
                    try schema.choiceWords.withUnsafeBufferPointer { words throws(ModelError) in
                        for (index, slot) in slots.enumerated() {
                            if index > 0, FieldTable.compareNames(slots[index - 1], text, slot, text) >= 0 {
                                let name = table.name(of: slot)
                                throw ModelError(.malformedJSON, "field \(name) appears twice", field: name)
                            }
                            guard slot.name != FieldSlot.unknownName, let specIndex = schema.specIndex(ofKnownName: slot.name) else {
                                _ = try schema.spec(table.name(of: slot))
                                continue
                            }
                            try checkField(slot, writes: writes, check: checks[specIndex], spec: specIndex, of: schema, text: text, words: words, seen: seen)
                        }
                    }
                }
            }
        }
    }

    /// One known field of the schema: its kind, its dots and its values.
    @inline(__always)
    private func checkField(_ slot: FieldSlot, writes: UnsafeBufferPointer<FlatWrite>, check: ValueCheck, spec specIndex: Int, of schema: RecordSchema,
                            text: UnsafeBufferPointer<UInt8>, words: UnsafeBufferPointer<PackedName>, seen: UnsafeBufferPointer<Int>) throws(ModelError) {
        guard check.isSet == slot.isSet else {
            let spec = schema.fields[specIndex]
            throw ModelError(.wrongFieldKind, "\(type.rawValue).\(spec.name) is a \(spec.kind.rawValue), not a \(slot.isSet ? "set" : "register")", field: spec.name)
        }
        guard slot.isSet else {
            guard slot.writeCount > 0 else {
                let name = table.name(of: slot)
                throw ModelError(.invalidValue, "\(name) has an empty list of values", field: name)
            }
            guard slot.writeCount <= Self.maxConcurrentValues else { throw tooManyValues(slot, slot.writeCount) }
            try checkDots(UnsafeBufferPointer(rebasing: writes[slot.writeRange]), seen: seen, field: slot)
            for write in writes[slot.writeRange] where !check.passes(write, text: text, words: words) {
                try schema.fields[specIndex].check(table.value(of: write))
            }
            return
        }
        // A set: each element's run of stamps (equal element bytes), then its value.
        var start = slot.writeStart
        while start < slot.writeEnd {
            let element = text.slice(writes[start].textRange)
            let end = FieldTable.elementEnd(from: start, in: slot, writes: writes, text: text)
            guard end - start <= Self.maxConcurrentValues else { throw tooManyValues(slot, end - start) }
            try checkDots(UnsafeBufferPointer(rebasing: writes[start..<end]), seen: seen, field: slot)
            if !check.passes(text: element, words: words) {
                try schema.fields[specIndex].check(.text(String(decoding: element, as: UTF8.self)))
            }
            start = end
        }
    }

    /// At most this many concurrent values in one register (and concurrent adds of one set
    /// element). Honest concurrency is bounded by the devices that write one case while
    /// apart, a handful; without a bound one device could make every replica hold and show
    /// thousands of sides of one field.
    public static let maxConcurrentValues = 64

    private func tooManyValues(_ slot: FieldSlot, _ count: Int) -> ModelError {
        let name = table.name(of: slot)
        return ModelError(.tooManyValues, "\(name) holds \(count) concurrent values, more than \(Self.maxConcurrentValues); resolve its conflict (`casesync resolve`) before it takes more", field: name)
    }

    /// Checks the bound on concurrent values (`maxConcurrentValues`) alone: a sync node checks
    /// it on the state a merge makes, since two states within the bound can merge beyond it.
    public func checkConcurrentValues() throws(ModelError) {
        for slot in table.slots {
            guard slot.isSet else {
                guard slot.writeCount <= Self.maxConcurrentValues else { throw tooManyValues(slot, slot.writeCount) }
                continue
            }
            var start = slot.writeStart
            while start < slot.writeEnd {
                let end = table.elementEnd(from: start, in: slot)
                guard end - start <= Self.maxConcurrentValues else { throw tooManyValues(slot, end - start) }
                start = end
            }
        }
    }

    /// The dots of one register or set element: counters in range, seen by the version,
    /// strictly increasing (so none twice). `seen` is the version's counter per table device.
    @inline(__always)
    private func checkDots(_ run: UnsafeBufferPointer<FlatWrite>, seen: UnsafeBufferPointer<Int>, field slot: FieldSlot) throws(ModelError) {
        var field: String { table.name(of: slot) }
        var previous: FlatWrite?
        for write in run {
            guard write.counter >= 1, write.counter <= Dot.maxCounter else {
                throw ModelError(.invalidCounter, "\(field) has a write with counter \(write.counter); counters run from 1 to 2^53-1", field: field)
            }
            guard write.counter <= seen[Int(write.device)] else {
                let dot = table.stamp(of: write).dot
                throw ModelError(.dotAboveVersion, "\(field) holds write \(dot) but the record's version has only seen \(dot.device) up to \(version[dot.device])", field: field)
            }
            if let previous, !((previous.device, previous.counter) < (write.device, write.counter)) {
                throw ModelError(.duplicateDot, "\(field) holds write \(table.stamp(of: write).dot) twice", field: field)
            }
            previous = write
        }
    }

    private func checkDots(_ items: [DeletionMark], field: String) throws(ModelError) {
        var previous: Dot?
        for item in items {
            let dot = item.dot
            guard dot.counter >= 1, dot.counter <= Dot.maxCounter else {
                throw ModelError(.invalidCounter, "\(field) has a write with counter \(dot.counter); counters run from 1 to 2^53-1", field: field)
            }
            guard version.contains(dot) else {
                throw ModelError(.dotAboveVersion, "\(field) holds write \(dot) but the record's version has only seen \(dot.device) up to \(version[dot.device])", field: field)
            }
            if let previous, !(previous < dot) {
                throw ModelError(.duplicateDot, "\(field) holds write \(dot) twice", field: field)
            }
            previous = dot
        }
    }

    /// What a sync node checks before merging a state pushed by `device` over its `stored`
    /// state of the same record (nil when new): the pusher may introduce only writes of its
    /// own (no other device's counter above what the node has seen), may not go back on its
    /// own counter, and may not hold different content under a dot the node already has.
    ///
    /// `mayRelay` says which writes of other devices, unseen by the node, the pusher may bring
    /// anyway: a node restored from a backup takes back, for a while, writes it lost from the
    /// devices that hold them (see PROTOCOL.md, "Restore"). Returns whether the state brought
    /// any such relayed write.
    @discardableResult
    public func checkIntroduction(by device: DeviceID, over stored: RecordState?,
                                  mayRelay: (Dot) -> Bool = { _ in false }) throws(ModelError) -> Bool {
        let known = stored?.version ?? VersionVector()
        var relays = false
        for dot in version.dots where dot.device != device && dot.counter > known[dot.device] {
            guard mayRelay(dot) else {
                throw ModelError(.foreignDot, "\(type.rawValue) \(id) claims writes of device \(dot.device) up to \(dot.counter) that this node has not seen (it has \(known[dot.device])); a device may only introduce its own writes")
            }
            relays = true
        }
        if version[device] < known[device] {
            throw ModelError(.counterRegression, "\(type.rawValue) \(id) from \(device) has counter \(version[device]) but this node already holds its write \(known[device]); a device's counter never goes backwards")
        }
        guard let stored else { return relays }
        guard stored.type == type, stored.id == id else {
            throw ModelError(.identityMismatch, "record \(id) is a \(stored.type.rawValue), not a \(type.rawValue)")
        }
        var storedStamps: [StampContent.Place: StampContent] = [:]
        for content in stored.stampContents { storedStamps[content.place] = content }
        for content in stampContents {
            if let existing = storedStamps[content.place], existing != content {
                throw ModelError(.equivocation, "\(type.rawValue) \(id) holds write \(content.dot) with content different from the one this node has for that write", field: content.field)
            }
        }
        return relays
    }

    /// One write's content in one place, to compare what two states hold under a dot.
    struct StampContent: Hashable {
        struct Place: Hashable {
            let dot: Dot
            let field: String
        }

        var place: Place { Place(dot: dot, field: field) }
        let dot: Dot
        let field: String
        let time: Int64
        let value: FieldValue
    }

    var stampContents: [StampContent] {
        var result: [StampContent] = []
        for field in fields {
            switch field.state {
            case let .register(register):
                for entry in register.entries {
                    result.append(StampContent(dot: entry.dot, field: field.name, time: entry.stamp.time, value: entry.value))
                }
            case let .set(set):
                for element in set.elements {
                    for stamp in element.stamps {
                        result.append(StampContent(dot: stamp.dot, field: field.name + "/" + element.value, time: stamp.time, value: .text(element.value)))
                    }
                }
            }
        }
        for mark in deletion {
            result.append(StampContent(dot: mark.dot, field: RecordSchema.deletedField, time: mark.stamp.time, value: .boolean(mark.deleted)))
        }
        return result
    }
}
