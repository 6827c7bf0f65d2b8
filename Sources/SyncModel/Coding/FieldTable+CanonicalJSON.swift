extension FieldTable {
    /// `"name":[entries]` for a register, `"name":{"element":[stamps],…}` for a set, in order.
    func write(to writer: inout CanonicalJSONWriter) {
        withUnsafeParts { slots, writes, text in
            for (index, slot) in slots.enumerated() {
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                if slot.name == FieldSlot.unknownName {
                    writer.string(text.slice(slot.unknownNameRange))
                } else {
                    writer.string(FieldNames.all[Int(slot.name)])
                }
                writer.byte(UInt8(ascii: ":"))
                if slot.isSet {
                    writer.byte(UInt8(ascii: "{"))
                    var element: UnsafeBufferPointer<UInt8>?
                    for write in UnsafeBufferPointer(rebasing: writes[slot.writeRange]) {
                        let bytes = text.slice(write.textRange)
                        if let element, compareText(element, bytes) == 0 {
                            writer.byte(UInt8(ascii: ","))
                        } else {
                            if element != nil { writer.raw("],") }
                            writer.string(bytes)
                            writer.raw(":[")
                            element = bytes
                        }
                        writer.raw("{\"at\":")
                        writer.integer(Int(write.time))
                        writer.raw(",\"dot\":")
                        writeDot(write, to: &writer)
                        writer.byte(UInt8(ascii: "}"))
                    }
                    if element != nil { writer.byte(UInt8(ascii: "]")) }
                    writer.byte(UInt8(ascii: "}"))
                } else {
                    writer.byte(UInt8(ascii: "["))
                    for (entryIndex, write) in UnsafeBufferPointer(rebasing: writes[slot.writeRange]).enumerated() {
                        if entryIndex > 0 { writer.byte(UInt8(ascii: ",")) }
                        writer.raw("{\"at\":")
                        writer.integer(Int(write.time))
                        writer.raw(",\"dot\":")
                        writeDot(write, to: &writer)
                        writer.raw(",\"value\":")
                        switch write.kind {
                        case .text: writer.string(text.slice(write.textRange))
                        case .integer: writer.integer(Int(write.payload))
                        case .boolean: writer.boolean(write.payload != 0)
                        }
                        writer.byte(UInt8(ascii: "}"))
                    }
                    writer.byte(UInt8(ascii: "]"))
                }
            }
        }
    }

    @inline(__always)
    private func writeDot(_ write: FlatWrite, to writer: inout CanonicalJSONWriter) {
        writer.byte(UInt8(ascii: "["))
        writer.string(devices[Int(write.device)].rawValue)
        writer.byte(UInt8(ascii: ","))
        writer.integer(write.counter)
        writer.byte(UInt8(ascii: "]"))
    }

    /// Reads one field into `builder`: a register is an array of entries, a set an object
    /// from element to add stamps. Checks here what the flat layout cannot hold: a set
    /// element with no stamps, or one element listed twice.
    static func readField(from reader: inout JSONReader, named name: JSONReader.Key, into builder: inout FieldTableBuilder) throws(ModelError) {
        let kind = try reader.peekKind()
        guard kind == .array || kind == .object else {
            throw ModelError(.wrongFieldKind, "field \(name.text) must be a list of register values or an object of set elements", field: name.text)
        }
        name.withBytes { builder.beginField(nameBytes: $0, isSet: kind == .object) }
        if kind == .array {
            try reader.readArray { reader throws(ModelError) in try readWrite(from: &reader, element: nil, into: &builder) }
            builder.endField()
            return
        }
        var elements: [TextRange] = []
        var inOrder = true
        try reader.readContainer(open: UInt8(ascii: "{"), close: UInt8(ascii: "}"), kind: "object") { reader throws(ModelError) in
            let element = try builder.text(from: &reader)
            try reader.consume(UInt8(ascii: ":"), "':' after a key")
            let before = builder.writeCount
            try reader.readArray { reader throws(ModelError) in try readWrite(from: &reader, element: element, into: &builder) }
            if builder.writeCount == before {
                let field = builder.openFieldName
                throw ModelError(.invalidValue, "\(field) element \"\(builder.string(element).prefix(40))\" has no add stamps", field: field)
            }
            if let last = elements.last, builder.compareText(last, element) >= 0 {
                inOrder = false
            }
            elements.append(element)
        }
        if !inOrder {
            elements.sort { builder.compareText($0, $1) < 0 }
            for index in elements.indices.dropFirst() where builder.compareText(elements[index - 1], elements[index]) == 0 {
                let field = builder.openFieldName
                throw ModelError(.malformedJSON, "\(field) lists element \"\(builder.string(elements[index]).prefix(40))\" twice", field: field)
            }
        }
        builder.endField()
    }

    /// Reads one write object, `{"at","dot","value"}` (a register entry) or `{"at","dot"}`
    /// (an add stamp of set `element`), into `builder`. Read without building values: this is
    /// the innermost loop of decoding.
    private static func readWrite(from reader: inout JSONReader, element: TextRange?, into builder: inout FieldTableBuilder) throws(ModelError) {
        var kind = FlatWrite.Kind.text
        var payload: Int64 = element?.packed ?? 0
        let (stamp, keys) = try WriteObject.read(from: &reader, field: { builder.openFieldName }) { reader, key throws(ModelError) in
            guard element == nil, key.is("value") else { return nil }
            switch try reader.peekKind() {
            case .string:
                kind = .text
                payload = try builder.text(from: &reader).packed
            case .number:
                kind = .integer
                payload = Int64(try reader.readInteger())
            case .boolean:
                kind = .boolean
                payload = try reader.readBoolean() ? 1 : 0
            default:
                let field = builder.openFieldName
                throw ModelError(.wrongValueType, "\(field) values are text, whole numbers or true/false", field: field)
            }
            return 4
        }
        if element == nil, keys & 4 == 0 { throw reader.error("a write of \(builder.openFieldName) needs \"value\"") }
        let device = builder.device(stamp.dot.device)
        builder.append(FlatWrite(counter: stamp.dot.counter, time: stamp.time, payload: payload, device: device, kind: kind))
    }
}
