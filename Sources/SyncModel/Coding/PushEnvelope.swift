/// The body of a push, `{"records":[STATE,…]}` (PROTOCOL.md §9), read strictly: the one key
/// `records`, once. Each state comes with its bytes when they were canonical, so a node can
/// store them as received. Not validated here: the node validates each state before merging.
///
/// Here rather than in the server so that the one reader of the envelope is the one the
/// fuzzer (`Fuzz/`) exercises.
public enum PushEnvelope {
    /// Reads a push body. A record that does not read throws its error with the record's
    /// index as `field` (and in the message), so the node can name it.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws(ModelError) -> [ReceivedState] {
        var states: [ReceivedState] = []
        var sawRecords = false
        try JSONReader.read(bytes) { reader throws(ModelError) in
            try reader.readObject { reader, key throws(ModelError) in
                guard key == "records" else { throw reader.error("unknown key \"\(key.prefix(40))\"; a push is {\"records\":[…]}") }
                guard !sawRecords else { throw reader.error("the key \"records\" appears twice; a push is {\"records\":[…]} once") }
                sawRecords = true
                try reader.readArray { reader throws(ModelError) in
                    do throws(ModelError) {
                        states.append(try RecordState.readReceived(from: &reader, validate: false))
                    } catch {
                        throw ModelError(error.code, "record \(states.count): \(error.message)", field: error.field, recordIndex: states.count)
                    }
                }
            }
        }
        guard sawRecords else { throw ModelError(.malformedJSON, "a push is {\"records\":[…]}") }
        return states
    }
}
