extension RecordState {
    /// The canonical JSON bytes of this state (see `Protocol/PROTOCOL.md`, "Record format").
    /// Equal states always give equal bytes, so replicas can compare and hash them.
    public func canonicalJSON() -> [UInt8] {
        var writer = CanonicalJSONWriter(capacity: 256 + table.writes.count * 64 + table.text.count)
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
        table.write(to: &writer)
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
        if let state = reader.readCanonicalState() {
            if validate { try state.validate(requireComplete: false) }
            return state
        }
        return try readAnySpelling(from: &reader, validate: validate)
    }

    /// Like `read(from:validate:)`, and when the bytes read were exactly the state's
    /// canonical JSON (as replicas write it), those bytes too.
    public static func readReceived(from reader: inout JSONReader, validate: Bool = true) throws(ModelError) -> ReceivedState {
        let start = reader.startOfValue()
        if let state = reader.readCanonicalState() {
            if validate { try state.validate(requireComplete: false) }
            return ReceivedState(state, canonicalJSON: reader.bytes(from: start))
        }
        return ReceivedState(try readAnySpelling(from: &reader, validate: validate))
    }

    /// The general path of `read(from:validate:)`: any valid JSON spelling, every error named.
    static func readAnySpelling(from reader: inout JSONReader, validate: Bool) throws(ModelError) -> RecordState {
        var type: RecordType?
        var id: RecordID?
        var version: VersionVector?
        var builder = FieldTableBuilder()
        var deletion: [DeletionMark] = []
        var seenKeys: UInt8 = 0
        try reader.readFixedObject { reader, key throws(ModelError) in
            let bit: UInt8
            if key.is("fields") {
                bit = 2
                try reader.readFixedObject { reader, name throws(ModelError) in
                    try FieldTable.readField(from: &reader, named: name, into: &builder)
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
        if !deletion.isSorted(by: { $0.dot < $1.dot }) { deletion.sort { $0.dot < $1.dot } }
        var state = RecordState(type: type, id: id)
        state.version = version
        state.table = builder.finish()
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

/// The frame every write object shares: `"at"` and `"dot"`, plus the keys `extra` knows (it
/// reads the value and returns a bit of its own for the key, or nil for a key it does not
/// know). Refuses unknown and repeated keys, a missing `at` or `dot`, and times before 1970;
/// `field` names the field in those errors. Returns the stamp and the bits of the keys seen.
enum WriteObject {
    static func read(from reader: inout JSONReader, field: () -> String,
                     extra: (inout JSONReader, JSONReader.Key) throws(ModelError) -> UInt8?) throws(ModelError) -> (stamp: Stamp, keys: UInt8) {
        var time: Int?
        var dot: Dot?
        var keys: UInt8 = 0
        try reader.readFixedObject { reader, key throws(ModelError) in
            let bit: UInt8
            if key.is("at") {
                bit = 1
                time = try reader.readInteger()
            } else if key.is("dot") {
                bit = 2
                dot = try Dot.read(from: &reader)
            } else if let own = try extra(&reader, key) {
                bit = own
            } else {
                throw reader.error("unknown key \"\(key.text.prefix(40))\" in a write of \(field())")
            }
            if keys & bit != 0 { throw reader.error("key \"\(key.text)\" appears twice") }
            keys |= bit
        }
        guard let time, let dot else { throw reader.error("a write of \(field()) needs \"at\" and \"dot\"") }
        guard time >= 0 else { throw reader.error("write time \(time) is before 1970") }
        return (Stamp(dot: dot, time: Int64(time)), keys)
    }
}

extension DeletionMark {
    /// Reads a tombstone, `{"at","dot","seen","value"}`.
    static func read(from reader: inout JSONReader) throws(ModelError) -> DeletionMark {
        let field = RecordSchema.deletedField
        var deleted: Bool?
        var seen: VersionVector?
        let (stamp, _) = try WriteObject.read(from: &reader, field: { field }) { reader, key throws(ModelError) in
            if key.is("value") {
                guard try reader.peekKind() == .boolean else {
                    throw ModelError(.wrongValueType, "a tombstone's value is true (deleted) or false (restored)", field: field)
                }
                deleted = try reader.readBoolean()
                return 4
            }
            if key.is("seen") {
                seen = try VersionVector.read(from: &reader)
                return 8
            }
            return nil
        }
        guard let deleted else { throw reader.error("a write of \(field) needs \"value\"") }
        guard let seen else { throw reader.error("a tombstone needs \"seen\"") }
        return DeletionMark(stamp: stamp, deleted: deleted, seen: seen)
    }
}
