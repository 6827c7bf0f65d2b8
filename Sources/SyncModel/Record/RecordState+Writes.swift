extension RecordState {
    /// Applies a local write: every change in `changes` is stamped with the one `stamp`
    /// (one user action, one dot). Validates all changes against the schema first, so a
    /// rejected write changes nothing.
    ///
    /// - Throws: `stale_stamp` when `stamp` is not newer than what this record has seen from
    ///   its device, `record_deleted` on a deleted record, schema errors for bad fields/values.
    public mutating func apply(_ changes: [FieldChange], stamp: Stamp) throws(ModelError) {
        try checkFresh(stamp)
        guard !isDeleted else {
            throw ModelError(.recordDeleted, "\(type.rawValue) \(id) is deleted; restore it or resolve its conflict first")
        }
        let schema = RecordSchema.for(type)
        for change in changes {
            let spec = try schema.spec(change.field)
            switch change {
            case let .set(_, value):
                guard spec.kind == .register else {
                    throw ModelError(.wrongFieldKind, "\(type.rawValue).\(spec.name) is a set: add or remove elements instead of setting it", field: spec.name)
                }
                try spec.check(value)
            case let .add(_, element), let .remove(_, element):
                guard spec.kind == .set else {
                    throw ModelError(.wrongFieldKind, "\(type.rawValue).\(spec.name) holds one value: set it instead of adding or removing", field: spec.name)
                }
                try spec.check(.text(element))
            case .clear:
                guard spec.kind == .register else {
                    throw ModelError(.wrongFieldKind, "\(type.rawValue).\(spec.name) is a set: remove its elements instead of clearing it", field: spec.name)
                }
                guard !spec.required else {
                    throw ModelError(.missingField, "\(type.rawValue).\(spec.name) is required and cannot be cleared; give it a new value instead", field: spec.name)
                }
                // An absent visibility or confidentiality reads as the widest: clearing one
                // would hand a caucus note or a restricted case to everyone.
                guard !RecordSchema.holdingFields.contains(spec.name) else {
                    throw ModelError(.invalidValue, "\(type.rawValue).\(spec.name) decides who may hold the record and cannot be cleared; set it to \(spec.valueType.summary)", field: spec.name)
                }
            }
        }
        write(changes, stamp: stamp)
        version.record(stamp.dot)
    }

    /// Convenience for a single register write.
    public mutating func set(_ field: String, _ value: FieldValue, stamp: Stamp) throws(ModelError) {
        try apply([.set(field, value)], stamp: stamp)
    }

    /// Deletes the record: a tombstone that has seen every write this state holds.
    public mutating func delete(stamp: Stamp) throws(ModelError) {
        try writeDeletion(true, stamp: stamp)
    }

    /// Restores a deleted record with every field it had.
    public mutating func restore(stamp: Stamp) throws(ModelError) {
        try writeDeletion(false, stamp: stamp)
    }

    /// Ends a conflict on `field` by writing `value`, a write that has seen every sibling.
    /// For the pseudo-field `deleted`, `true` confirms the delete and `false` restores.
    public mutating func resolve(_ field: String, to value: FieldValue, stamp: Stamp) throws(ModelError) {
        if field == RecordSchema.deletedField {
            guard case let .boolean(deleted) = value else {
                throw ModelError(.wrongValueType, "deleted takes true (keep the delete) or false (keep the record)", field: field)
            }
            try writeDeletion(deleted, stamp: stamp)
            return
        }
        let schema = RecordSchema.for(type)
        let spec = try schema.spec(field)
        guard spec.kind == .register else {
            throw ModelError(.wrongFieldKind, "\(type.rawValue).\(field) is a set and never conflicts", field: field)
        }
        try checkFresh(stamp)
        try spec.check(value)
        write([.set(field, value)], stamp: stamp)
        version.record(stamp.dot)
    }

    /// Ends a conflict on `field` by writing again the value that `device` wrote.
    /// For `deleted`, keeping the deleting device confirms the delete and keeping a device
    /// whose edit competes with it restores the record.
    public mutating func resolve(_ field: String, keeping device: DeviceID, stamp: Stamp) throws(ModelError) {
        let sides = conflicts.first { $0.field == field }?.sides.filter { $0.stamp.dot.device == device } ?? []
        if let own = sides.first(where: { $0.field == field }) {
            try resolve(field, to: own.value, stamp: stamp)
        } else if field == RecordSchema.deletedField, !sides.isEmpty {
            try resolve(field, to: .boolean(false), stamp: stamp)
        } else {
            throw ModelError(.invalidValue, "\(type.rawValue) \(id) has no conflicting value of \(field) from device \(device)", field: field)
        }
    }

    private mutating func writeDeletion(_ deleted: Bool, stamp: Stamp) throws(ModelError) {
        try checkFresh(stamp)
        version.record(stamp.dot)
        deletion = [DeletionMark(stamp: stamp, deleted: deleted, seen: version)]
    }

    private func checkFresh(_ stamp: Stamp) throws(ModelError) {
        guard stamp.dot.counter > version[stamp.dot.device], stamp.dot.counter <= Dot.maxCounter else {
            throw ModelError(.staleStamp, "write \(stamp.dot) is not newer than \(type.rawValue) \(id) has already seen from \(stamp.dot.device) (counter \(version[stamp.dot.device]))")
        }
    }

    /// Applies checked changes in order: each changed field's new state is worked out on
    /// the public value types, then the table is rebuilt once with those fields replaced.
    private mutating func write(_ changes: [FieldChange], stamp: Stamp) {
        var replaced: [(name: String, state: FieldState?)] = []
        for change in changes {
            let name = change.field
            let position = replaced.firstIndex { $0.name == name }
            let current = position.map { replaced[$0].state } ?? field(name)
            let state: FieldState?
            switch change {
            case let .set(_, value):
                state = .register(Register(sortedEntries: .one(RegisterEntry(stamp: stamp, value: value))))
            case let .add(_, element):
                var elements: [AddWinsSet.Element] = []
                if case let .set(set)? = current { elements = set.elements }
                let index = elements.firstIndex { !utf8Precedes($0.value, element) } ?? elements.count
                let added = AddWinsSet.Element(value: element, sortedStamps: .one(stamp))
                if index < elements.count, utf8Equal(elements[index].value, element) {
                    elements[index] = added
                } else {
                    elements.insert(added, at: index)
                }
                state = .set(AddWinsSet(sortedElements: elements))
            case let .remove(_, element):
                guard case let .set(set)? = current else { continue }
                let elements = set.elements.filter { !utf8Equal($0.value, element) }
                state = elements.isEmpty ? nil : .set(AddWinsSet(sortedElements: elements))
            case .clear:
                state = nil
            }
            if let position { replaced[position].state = state } else { replaced.append((name, state)) }
        }
        table = table.replacing(replaced)
    }
}

extension FieldTable {
    /// This table with the named fields replaced (nil removes a field).
    func replacing(_ replaced: [(name: String, state: FieldState?)]) -> FieldTable {
        let known = replaced.map { FieldNames.index(of: $0.name) }
        var builder = FieldTableBuilder(expectedWrites: writes.count + replaced.count)
        text.withUnsafeBufferPointer { text in
            for slot in slots where !replaced.indices.contains(where: { self.slot(slot, isNamed: replaced[$0].name, knownIndex: known[$0]) }) {
                if slot.name == FieldSlot.unknownName {
                    builder.beginField(nameBytes: text.slice(slot.unknownNameRange), isSet: slot.isSet)
                } else {
                    builder.beginField(named: FieldNames.all[Int(slot.name)], isSet: slot.isSet)
                }
                for write in writes[slot.writeRange] {
                    var copied = write
                    copied.device = builder.device(devices[Int(write.device)])
                    if write.kind == .text { copied.payload = builder.text(text.slice(write.textRange)).packed }
                    builder.append(copied)
                }
                builder.endField()
            }
        }
        for (name, state) in replaced {
            if let state { builder.append(RecordField(name: name, state: state)) }
        }
        return builder.finish()
    }
}
