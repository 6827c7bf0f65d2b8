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
        if other.version.isEmpty && other.fields.isEmpty && other.deletion.isEmpty { return self }
        if version.isEmpty && fields.isEmpty && deletion.isEmpty { return other }
        if version == other.version && self == other { return self }

        let seenBySelf = version
        let seenByOther = other.version
        var mergedFields: [RecordField] = []
        mergedFields.reserveCapacity(max(fields.count, other.fields.count))
        var left = 0
        var right = 0
        while left < fields.count || right < other.fields.count {
            let field: RecordField?
            if left < fields.count, right < other.fields.count, fields[left].name == other.fields[right].name {
                field = fields[left].merged(with: other.fields[right], seenBySelf: seenBySelf, seenByOther: seenByOther)
                left += 1
                right += 1
            } else if right == other.fields.count || (left < fields.count && utf8Precedes(fields[left].name, other.fields[right].name)) {
                field = fields[left].unseen(by: seenByOther)
                left += 1
            } else {
                field = other.fields[right].unseen(by: seenBySelf)
                right += 1
            }
            if let field { mergedFields.append(field) }
        }

        var merged = RecordState(type: type, id: id)
        merged.fields = mergedFields
        if !deletion.isEmpty || !other.deletion.isEmpty {
            merged.deletion = Array(mergeDotted(SmallArray(deletion), seenByLeft: seenBySelf, SmallArray(other.deletion), seenByRight: seenByOther, prefer: DeletionMark.precedes))
        }
        merged.version = seenBySelf.joined(with: seenByOther)
        return merged
    }
}

extension RecordField {
    /// This field as merged against a side that has no value for it; nil when nothing survives.
    func unseen(by seen: VersionVector) -> RecordField? {
        switch state {
        case let .register(register):
            let entries = unseenDotted(register.entries, by: seen)
            return entries.isEmpty ? nil : RecordField(name: name, state: .register(Register(sortedEntries: entries)))
        case let .set(set):
            let elements = set.merged(with: AddWinsSet(sortedElements: []), seenBySelf: .empty, seenByOther: seen)
            return elements.isEmpty ? nil : RecordField(name: name, state: .set(AddWinsSet(sortedElements: elements)))
        }
    }

    /// Both sides hold the field. A kind mismatch cannot pass validation; if it happens the
    /// register side is kept so that the result is still independent of argument order.
    func merged(with other: RecordField, seenBySelf: VersionVector, seenByOther: VersionVector) -> RecordField? {
        // Both sides hold the very same writes: nothing to merge (the usual case in a delta).
        if state == other.state { return self }
        switch (state, other.state) {
        case let (.register(left), .register(right)):
            let entries = left.merged(with: right, seenBySelf: seenBySelf, seenByOther: seenByOther)
            return entries.isEmpty ? nil : RecordField(name: name, state: .register(Register(sortedEntries: entries)))
        case let (.set(left), .set(right)):
            let elements = left.merged(with: right, seenBySelf: seenBySelf, seenByOther: seenByOther)
            return elements.isEmpty ? nil : RecordField(name: name, state: .set(AddWinsSet(sortedElements: elements)))
        case (.register, .set):
            return unseen(by: seenByOther)
        case (.set, .register):
            return other.unseen(by: seenBySelf)
        }
    }
}
