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
            }
        }
        for change in changes { write(change, stamp: stamp) }
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
        write(.set(field, value), stamp: stamp)
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

    private mutating func write(_ change: FieldChange, stamp: Stamp) {
        let (index, found) = fieldIndex(change.field)
        switch change {
        case let .set(name, value):
            let field = RecordField(name: name, state: .register(Register(sortedEntries: [RegisterEntry(stamp: stamp, value: value)] as SmallArray)))
            if found { fields[index] = field } else { fields.insert(field, at: index) }
        case let .add(name, element):
            var elements = found ? set(name).elements : []
            let position = elements.firstIndex { !utf8Precedes($0.value, element) } ?? elements.count
            let added = AddWinsSet.Element(value: element, sortedStamps: .one(stamp))
            if position < elements.count, utf8Equal(elements[position].value, element) {
                elements[position] = added
            } else {
                elements.insert(added, at: position)
            }
            let field = RecordField(name: name, state: .set(AddWinsSet(sortedElements: elements)))
            if found { fields[index] = field } else { fields.insert(field, at: index) }
        case let .remove(_, element):
            guard found else { return }
            let elements = set(change.field).elements.filter { !utf8Equal($0.value, element) }
            if elements.isEmpty {
                fields.remove(at: index)
            } else {
                fields[index].state = .set(AddWinsSet(sortedElements: elements))
            }
        }
    }
}
