import SyncModel

/// A JSON value for command output. Objects keep their keys sorted so output is stable.
enum JSONOutput {
    case string(String)
    case integer(Int)
    case boolean(Bool)
    case null
    case array([JSONOutput])
    case object([(String, JSONOutput)])

    init(_ value: FieldValue) {
        switch value {
        case let .text(text): self = .string(text)
        case let .integer(number): self = .integer(number)
        case let .boolean(flag): self = .boolean(flag)
        }
    }

    /// An object from pairs, sorted by key.
    static func sortedObject(_ pairs: [(String, JSONOutput)]) -> JSONOutput {
        .object(pairs.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) })
    }

    func write(to writer: inout CanonicalJSONWriter) {
        switch self {
        case let .string(text): writer.string(text)
        case let .integer(number): writer.integer(number)
        case let .boolean(flag): writer.boolean(flag)
        case .null: writer.raw("null")
        case let .array(items):
            writer.byte(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                item.write(to: &writer)
            }
            writer.byte(UInt8(ascii: "]"))
        case let .object(pairs):
            writer.byte(UInt8(ascii: "{"))
            for (index, pair) in pairs.enumerated() {
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.string(pair.0)
                writer.byte(UInt8(ascii: ":"))
                pair.1.write(to: &writer)
            }
            writer.byte(UInt8(ascii: "}"))
        }
    }

    var text: String {
        var writer = CanonicalJSONWriter()
        write(to: &writer)
        return String(decoding: writer.bytes, as: UTF8.self)
    }
}
