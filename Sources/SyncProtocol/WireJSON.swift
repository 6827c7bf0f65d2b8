import Foundation

/// How the protocol's envelopes are written and read: Codable with sorted keys, so every
/// answer's bytes are stable (scripts diff them; tests compare them). Record states are not
/// envelopes: they are canonical JSON written and read by hand (SyncModel), because their
/// bytes are what is hashed, stored and spliced unchanged into pull pages, and the
/// hand-written path measured several times faster on the node's hot paths.
public enum WireJSON {
    /// The JSON of `value` with sorted keys and unescaped slashes; `{}` if encoding ever failed.
    public static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding these value types cannot fail (no floats that are not finite, no
        // throwing `encode(to:)`); an empty object stands in if it ever did.
        return (try? Array(encoder.encode(value))) ?? Array("{}".utf8)
    }

    /// Decodes `type` from `bytes`; throws `DecodingError` for anything else.
    public static func decode<Value: Decodable>(_ type: Value.Type, from bytes: [UInt8]) throws -> Value {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}
