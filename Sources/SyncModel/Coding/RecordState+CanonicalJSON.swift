extension RecordState {
    /// The canonical JSON bytes of this state (see `Protocol/PROTOCOL.md`, "Record format").
    /// Equal states always give equal bytes, so replicas can compare and hash them.
    public func canonicalJSON() -> [UInt8] {
        var writer = CanonicalJSONWriter(capacity: 256 + fields.count * 96)
        write(to: &writer)
        return writer.bytes
    }

    /// Appends the canonical JSON of this state to `writer`.
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.byte(UInt8(ascii: "{"))
        if !deletion.isEmpty {
            writer.raw("\"deleted\":[")
            for (index, mark) in deletion.enumerated() {
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.raw("{\"at\":")
                writer.integer(Int(mark.stamp.time))
                writer.raw(",\"dot\":")
                mark.dot.write(to: &writer)
                writer.raw(",\"seen\":")
                mark.seen.write(to: &writer)
                writer.raw(",\"value\":")
                writer.boolean(mark.deleted)
                writer.byte(UInt8(ascii: "}"))
            }
            writer.raw("],")
        }
        writer.raw("\"fields\":{")
        for (index, field) in fields.enumerated() {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.string(field.name)
            writer.byte(UInt8(ascii: ":"))
            switch field.state {
            case let .register(register):
                writer.byte(UInt8(ascii: "["))
                for (entryIndex, entry) in register.entries.enumerated() {
                    if entryIndex > 0 { writer.byte(UInt8(ascii: ",")) }
                    writer.raw("{\"at\":")
                    writer.integer(Int(entry.stamp.time))
                    writer.raw(",\"dot\":")
                    entry.dot.write(to: &writer)
                    writer.raw(",\"value\":")
                    writer.value(entry.value)
                    writer.byte(UInt8(ascii: "}"))
                }
                writer.byte(UInt8(ascii: "]"))
            case let .set(set):
                writer.byte(UInt8(ascii: "{"))
                for (elementIndex, element) in set.elements.enumerated() {
                    if elementIndex > 0 { writer.byte(UInt8(ascii: ",")) }
                    writer.string(element.value)
                    writer.raw(":[")
                    for (stampIndex, stamp) in element.stamps.enumerated() {
                        if stampIndex > 0 { writer.byte(UInt8(ascii: ",")) }
                        writer.raw("{\"at\":")
                        writer.integer(Int(stamp.time))
                        writer.raw(",\"dot\":")
                        stamp.dot.write(to: &writer)
                        writer.byte(UInt8(ascii: "}"))
                    }
                    writer.byte(UInt8(ascii: "]"))
                }
                writer.byte(UInt8(ascii: "}"))
            }
        }
        writer.raw("},\"id\":")
        writer.recordID(id)
        writer.raw(",\"type\":")
        writer.string(type.rawValue)
        writer.raw(",\"vv\":")
        version.write(to: &writer)
        writer.byte(UInt8(ascii: "}"))
    }

    /// Decodes and validates a state from JSON (any spelling, not only canonical), with
    /// `validate(requireComplete: false)`: what a replica checks before merging.
    public init(json bytes: [UInt8]) throws(ModelError) {
        self = try JSONReader.read(bytes) { reader throws(ModelError) in try RecordState.read(from: &reader) }
    }

    /// Reads one state at the reader's position (for states inside a larger document) and
    /// validates it with `validate(requireComplete: false)`. Pass `validate: false` only
    /// when the caller validates the state itself before using it (a sync node's push and
    /// `ReplicaStore.merge` do), so the work is not done twice.
    public static func read(from reader: inout JSONReader, validate: Bool = true) throws(ModelError) -> RecordState {
        var type: RecordType?
        var id: RecordID?
        var version: VersionVector?
        var fields: [RecordField] = []
        var deletion: [DeletionMark] = []
        var seenKeys: UInt8 = 0
        try reader.readFixedObject { reader, key throws(ModelError) in
            let bit: UInt8
            if key.is("fields") {
                bit = 2
                try reader.readObject { reader, name throws(ModelError) in
                    fields.append(RecordField(name: name, state: try FieldState.read(from: &reader, field: name)))
                }
            } else if key.is("id") {
                bit = 4
                id = try reader.readRecordID()
            } else if key.is("type") {
                bit = 8
                type = try RecordType(named: try reader.readString())
            } else if key.is("vv") {
                bit = 16
                version = try VersionVector.read(from: &reader)
            } else if key.is("deleted") {
                bit = 1
                try reader.readArray { reader throws(ModelError) in deletion.append(try DeletionMark.read(from: &reader)) }
            } else {
                throw reader.error("unknown key \"\(key.text.prefix(40))\" in a record state; expected deleted, fields, id, type, vv")
            }
            if seenKeys & bit != 0 { throw reader.error("key \"\(key.text)\" appears twice") }
            seenKeys |= bit
        }
        guard let type, let id, let version else {
            throw reader.error("a record state needs \"id\", \"type\" and \"vv\"")
        }
        if !fields.isSorted(by: { utf8Precedes($0.name, $1.name) }) { fields.sort { utf8Precedes($0.name, $1.name) } }
        if !deletion.isSorted(by: { $0.dot < $1.dot }) { deletion.sort { $0.dot < $1.dot } }
        var state = RecordState(type: type, id: id)
        state.version = version
        state.fields = fields
        state.deletion = deletion
        if validate { try state.validate(requireComplete: false) }
        return state
    }
}

extension RandomAccessCollection where Index == Int {
    func isSorted(by precedes: (Element, Element) -> Bool) -> Bool {
        var index = startIndex + 1
        while index < endIndex {
            if precedes(self[index], self[index - 1]) { return false }
            index += 1
        }
        return true
    }
}

extension Dot {
    func write(to writer: inout CanonicalJSONWriter) {
        writer.raw("[")
        writer.string(device.rawValue)
        writer.byte(UInt8(ascii: ","))
        writer.integer(counter)
        writer.byte(UInt8(ascii: "]"))
    }

    static func read(from reader: inout JSONReader) throws(ModelError) -> Dot {
        var device: DeviceID?
        var counter: Int?
        var index = 0
        try reader.readArray { reader throws(ModelError) in
            switch index {
            case 0: device = try reader.readDeviceID()
            case 1: counter = try reader.readInteger()
            default: throw reader.error("a dot is [device, counter]")
            }
            index += 1
        }
        guard let device, let counter else { throw reader.error("a dot is [device, counter]") }
        guard counter >= 1 else {
            throw ModelError(.invalidCounter, "write \(device):\(counter) has a counter below 1; counters start at 1")
        }
        return Dot(device: device, counter: counter)
    }
}

extension VersionVector {
    /// `{"device":counter,…}` in device order.
    public func write(to writer: inout CanonicalJSONWriter) {
        writer.byte(UInt8(ascii: "{"))
        for (index, dot) in dots.enumerated() {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.string(dot.device.rawValue)
            writer.byte(UInt8(ascii: ":"))
            writer.integer(dot.counter)
        }
        writer.byte(UInt8(ascii: "}"))
    }

    /// Reads `{"device":counter,…}`; rejects repeated devices and counters below 1.
    public static func read(from reader: inout JSONReader) throws(ModelError) -> VersionVector {
        var dots: [Dot] = []
        try reader.readObject { reader, key throws(ModelError) in
            let device = try DeviceID(key)
            let counter = try reader.readInteger()
            guard counter >= 1 else {
                throw ModelError(.invalidCounter, "version vector counter \(counter) for \(device) is below 1; counters start at 1")
            }
            dots.append(Dot(device: device, counter: counter))
        }
        if !dots.isSorted(by: { $0.device < $1.device }) { dots.sort { $0.device < $1.device } }
        for index in dots.indices.dropFirst() where dots[index].device == dots[index - 1].device {
            throw reader.error("device \(dots[index].device) appears twice in a version vector")
        }
        return VersionVector(sortedUnique: dots)
    }
}

/// The parts of one write object in JSON: `{"at","dot"}` plus `"value"` (register entries and
/// tombstones) and `"seen"` (tombstones). Read without closures: this is the innermost loop.
struct WriteObject {
    enum Shape { case setStamp, registerEntry, tombstone }

    var stamp: Stamp
    var value: FieldValue?
    var seen: VersionVector?

    static func read(from reader: inout JSONReader, shape: Shape, field: String) throws(ModelError) -> WriteObject {
        var time: Int?
        var dot: Dot?
        var value: FieldValue?
        var seen: VersionVector?
        var keys: UInt8 = 0
        try reader.readFixedObject { reader, key throws(ModelError) in
            let bit: UInt8
            if key.is("at") {
                bit = 1
                time = try reader.readInteger()
            } else if key.is("dot") {
                bit = 2
                dot = try Dot.read(from: &reader)
            } else if shape != .setStamp, key.is("value") {
                bit = 4
                switch try reader.peekKind() {
                case .string: value = .text(try reader.readString())
                case .number: value = .integer(try reader.readInteger())
                case .boolean: value = .boolean(try reader.readBoolean())
                default: throw ModelError(.wrongValueType, "\(field) values are text, whole numbers or true/false", field: field)
                }
            } else if shape == .tombstone, key.is("seen") {
                bit = 8
                seen = try VersionVector.read(from: &reader)
            } else {
                throw reader.error("unknown key \"\(key.text.prefix(40))\" in a write of \(field)")
            }
            if keys & bit != 0 { throw reader.error("key \"\(key.text)\" appears twice") }
            keys |= bit
        }
        guard let time, let dot else { throw reader.error("a write of \(field) needs \"at\" and \"dot\"") }
        guard time >= 0 else { throw reader.error("write time \(time) is before 1970") }
        if shape != .setStamp, value == nil { throw reader.error("a write of \(field) needs \"value\"") }
        if shape == .tombstone, seen == nil { throw reader.error("a tombstone needs \"seen\"") }
        return WriteObject(stamp: Stamp(dot: dot, time: Int64(time)), value: value, seen: seen)
    }
}

extension DeletionMark {
    static func read(from reader: inout JSONReader) throws(ModelError) -> DeletionMark {
        let write = try WriteObject.read(from: &reader, shape: .tombstone, field: RecordSchema.deletedField)
        guard case let .boolean(deleted)? = write.value, let seen = write.seen else {
            throw ModelError(.wrongValueType, "a tombstone's value is true (deleted) or false (restored)", field: RecordSchema.deletedField)
        }
        return DeletionMark(stamp: write.stamp, deleted: deleted, seen: seen)
    }
}

extension FieldState {
    /// A register is a JSON array of values; a set is an object from element to add stamps.
    static func read(from reader: inout JSONReader, field: String) throws(ModelError) -> FieldState {
        switch try reader.peekKind() {
        case .array:
            var entries = SmallArray<RegisterEntry>()
            try reader.readArray { reader throws(ModelError) in
                let write = try WriteObject.read(from: &reader, shape: .registerEntry, field: field)
                if let value = write.value { entries.append(RegisterEntry(stamp: write.stamp, value: value)) }
            }
            if !entries.isSorted(by: { $0.dot < $1.dot }) { entries = SmallArray(entries.sorted { $0.dot < $1.dot }) }
            return .register(Register(sortedEntries: entries))
        case .object:
            var elements: [AddWinsSet.Element] = []
            try reader.readObject { reader, element throws(ModelError) in
                var stamps = SmallArray<Stamp>()
                try reader.readArray { reader throws(ModelError) in
                    stamps.append(try WriteObject.read(from: &reader, shape: .setStamp, field: field).stamp)
                }
                if !stamps.isSorted(by: <) { stamps = SmallArray(stamps.sorted()) }
                elements.append(AddWinsSet.Element(value: element, sortedStamps: stamps))
            }
            if !elements.isSorted(by: { utf8Precedes($0.value, $1.value) }) { elements.sort { utf8Precedes($0.value, $1.value) } }
            return .set(AddWinsSet(sortedElements: elements))
        default:
            throw ModelError(.wrongFieldKind, "field \(field) must be a list of register values or an object of set elements", field: field)
        }
    }
}
