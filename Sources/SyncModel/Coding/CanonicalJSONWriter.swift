/// Writes JSON in the one canonical form CaseSync uses for record states: no whitespace,
/// object keys in UTF-8 byte order (callers write them in that order), integers only,
/// strings with the shortest escapes (`\"`, `\\`, `\b \f \n \r \t`, `\u00XX` for other
/// control characters; everything else as raw UTF-8). Equal states give equal bytes.
public struct CanonicalJSONWriter: Sendable {
    /// The JSON written so far.
    public private(set) var bytes: [UInt8]

    /// An empty writer with room for `capacity` bytes reserved.
    public init(capacity: Int = 1024) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Appends ASCII punctuation or a literal key sequence known at compile time.
    @inline(__always)
    public mutating func raw(_ literal: StaticString) {
        literal.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Appends one byte unchanged (punctuation such as `,` or `}`).
    @inline(__always)
    public mutating func byte(_ value: UInt8) {
        bytes.append(value)
    }

    /// Appends bytes that are already valid JSON (for example a stored canonical state).
    public mutating func json(_ valid: some Sequence<UInt8>) {
        bytes.append(contentsOf: valid)
    }

    /// A string given as its UTF-8 bytes.
    mutating func string(_ utf8: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var needsEscape = false
        for byte in utf8 where byte < 0x20 || byte == 0x22 || byte == 0x5C {
            needsEscape = true
            break
        }
        if needsEscape {
            for byte in utf8 { escaped(byte) }
        } else {
            bytes.append(contentsOf: utf8)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends `value` as a JSON string, quoted, with the canonical escapes.
    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { string($0) }
    }

    private mutating func escaped(_ byte: UInt8) {
        switch byte {
        case 0x22: raw("\\\"")
        case 0x5C: raw("\\\\")
        case 0x08: raw("\\b")
        case 0x0C: raw("\\f")
        case 0x0A: raw("\\n")
        case 0x0D: raw("\\r")
        case 0x09: raw("\\t")
        case ..<0x20:
            let hex = Array("0123456789abcdef".utf8)
            raw("\\u00")
            bytes.append(hex[Int(byte >> 4)])
            bytes.append(hex[Int(byte & 15)])
        default:
            bytes.append(byte)
        }
    }

    /// A record id as a JSON string, written without building its text first.
    public mutating func recordID(_ id: RecordID) {
        bytes.append(UInt8(ascii: "\""))
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: 36))
        bytes.withUnsafeMutableBufferPointer { buffer in
            id.writeText(into: UnsafeMutableBufferPointer(rebasing: buffer[start..<(start + 36)]))
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends `value` in plain decimal: a `-` when negative, no leading zeros, no exponent.
    public mutating func integer(_ value: Int) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        if magnitude < 10 {
            bytes.append(UInt8(ascii: "0") + UInt8(magnitude))
            return
        }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            bytes.append(contentsOf: buffer[(20 - count)...])
        }
    }

    /// Appends `true` or `false`.
    public mutating func boolean(_ value: Bool) {
        if value { raw("true") } else { raw("false") }
    }

    /// Appends a field value as its JSON scalar: a string, an integer or a boolean.
    public mutating func value(_ value: FieldValue) {
        switch value {
        case let .text(text): string(text)
        case let .integer(number): integer(number)
        case let .boolean(flag): boolean(flag)
        }
    }
}
