/// A strict pull reader of JSON text (RFC 8259) over bytes, used to decode record states and
/// protocol bodies without building an intermediate tree.
///
/// It accepts any valid JSON spelling (whitespace, escapes, key order) and rejects what is
/// not JSON: invalid UTF-8, lone surrogates, control characters in strings, leading zeros,
/// trailing garbage. Numbers are whole only (CaseSync has no fractional values) of at most 18
/// digits; callers check their own ranges (counters, for one, stop at 2^53 - 1).
/// A reader lives only inside `JSONReader.read(_:_:)`, which owns the byte buffer.
public struct JSONReader {
    /// What the next value is.
    public enum ValueKind: Sendable {
        case object, array, string, number, boolean, null
    }

    let buffer: UnsafeBufferPointer<UInt8>
    /// Byte offset of the next unread byte.
    public private(set) var position: Int
    /// Nesting depth, bounded so that hostile input cannot exhaust the stack.
    private var depth = 0
    private var lastDevice: DeviceID?
    private var lastDeviceBytes: [UInt8] = []
    static let maxDepth = 64

    init(_ buffer: UnsafeBufferPointer<UInt8>) {
        self.buffer = buffer
        position = 0
    }

    /// Runs `body` over a reader of `bytes`, then checks that only whitespace follows.
    public static func read<T>(_ bytes: [UInt8], _ body: (inout JSONReader) throws(ModelError) -> T) throws(ModelError) -> T {
        try bytes.withUnsafeBufferPointer { buffer throws(ModelError) in try read(buffer, body) }
    }

    /// Runs `body` over a reader of the bytes in `buffer` (valid for the call only), then
    /// checks that only whitespace follows. For bytes that already sit in another buffer (a
    /// request body), so they need not be copied into an array first.
    public static func read<T>(_ buffer: UnsafeBufferPointer<UInt8>, _ body: (inout JSONReader) throws(ModelError) -> T) throws(ModelError) -> T {
        var reader = JSONReader(buffer)
        let value = try body(&reader)
        try reader.finish()
        return value
    }

    /// The record state at the position if it is spelled exactly canonically (the usual
    /// case), read by the fast `CanonicalStateReader`; nil, with nothing consumed, otherwise.
    mutating func readCanonicalState() -> RecordState? {
        skipWhitespace()
        return CanonicalStateReader.read(buffer, at: &position)
    }

    /// Skips whitespace and returns the position of the next value.
    mutating func startOfValue() -> Int {
        skipWhitespace()
        return position
    }

    /// The bytes from `start` up to the position.
    func bytes(from start: Int) -> [UInt8] {
        Array(buffer[start..<position])
    }

    /// Throws unless only whitespace remains.
    public mutating func finish() throws(ModelError) {
        skipWhitespace()
        if position < buffer.count { throw error("unexpected data after the JSON value") }
    }

    /// A `malformed_json` error whose message names the current byte offset.
    public func error(_ message: String) -> ModelError {
        ModelError(.malformedJSON, "invalid JSON at byte \(position): \(message)")
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while position < buffer.count {
            switch buffer[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    /// The kind of the next value, without consuming it.
    public mutating func peekKind() throws(ModelError) -> ValueKind {
        skipWhitespace()
        guard position < buffer.count else { throw error("unexpected end of input") }
        switch buffer[position] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .boolean
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw error("unexpected character '\(Unicode.Scalar(buffer[position]))'")
        }
    }

    @inline(__always)
    mutating func consume(_ byte: UInt8, _ what: @autoclosure () -> String) throws(ModelError) {
        skipWhitespace()
        guard position < buffer.count, buffer[position] == byte else {
            throw error("expected \(what())")
        }
        position += 1
    }

    /// Reads an object, calling `body` with each key; `body` must read the value.
    /// Duplicate keys are rejected by the callers that care (record decoding does).
    public mutating func readObject(_ body: (inout JSONReader, String) throws(ModelError) -> Void) throws(ModelError) {
        try readContainer(open: UInt8(ascii: "{"), close: UInt8(ascii: "}"), kind: "object") { reader throws(ModelError) in
            let key = try reader.readString()
            try reader.consume(UInt8(ascii: ":"), "':' after a key")
            try body(&reader, key)
        }
    }

    /// A key of a fixed-key object, compared without building a `String` when unescaped.
    public struct Key {
        let raw: UnsafeBufferPointer<UInt8>?
        let decoded: String?

        /// Whether the key is exactly `literal`.
        @inline(__always)
        public func `is`(_ literal: StaticString) -> Bool {
            if let raw {
                guard raw.count == literal.utf8CodeUnitCount else { return false }
                let base = literal.utf8Start
                for index in 0..<raw.count where raw[index] != base[index] { return false }
                return true
            }
            return decoded.map { $0 == literal.description } ?? false
        }

        /// The key's bytes (unescaped; not checked to be UTF-8 when read raw).
        func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
            if let raw { return body(raw) }
            var decoded = decoded ?? ""
            return decoded.withUTF8(body)
        }

        /// The key as text, for error messages.
        public var text: String {
            if let raw { return String(decoding: raw, as: UTF8.self) }
            return decoded ?? ""
        }
    }

    /// Like `readObject`, for objects whose keys are a fixed set: keys come as `Key`.
    public mutating func readFixedObject(_ body: (inout JSONReader, Key) throws(ModelError) -> Void) throws(ModelError) {
        try readContainer(open: UInt8(ascii: "{"), close: UInt8(ascii: "}"), kind: "object") { reader throws(ModelError) in
            let key = try reader.readKey()
            try reader.consume(UInt8(ascii: ":"), "':' after a key")
            try body(&reader, key)
        }
    }

    /// A key as a slice of the buffer when it has no escapes, decoded otherwise.
    private mutating func readKey() throws(ModelError) -> Key {
        try consume(UInt8(ascii: "\""), "a key")
        let start = position
        while position < buffer.count, buffer[position] != UInt8(ascii: "\""), buffer[position] != UInt8(ascii: "\\"), buffer[position] >= 0x20 {
            position += 1
        }
        if position < buffer.count, buffer[position] == UInt8(ascii: "\"") {
            position += 1
            return Key(raw: UnsafeBufferPointer(rebasing: buffer[start..<(position - 1)]), decoded: nil)
        }
        position = start - 1
        return Key(raw: nil, decoded: try readString())
    }

    /// Reads a device id; a run of dots from one device decodes its id once.
    mutating func readDeviceID() throws(ModelError) -> DeviceID {
        skipWhitespace()
        if let last = lastDevice, position < buffer.count, buffer[position] == UInt8(ascii: "\"") {
            let end = position + 1 + lastDeviceBytes.count
            if end < buffer.count, buffer[end] == UInt8(ascii: "\""),
               matches(lastDeviceBytes, at: position + 1) {
                position = end + 1
                return last
            }
        }
        let device = try DeviceID(readString())
        lastDevice = device
        lastDeviceBytes = Array(device.rawValue.utf8)
        return device
    }

    /// Whether `bytes` occur at `offset` (the caller checked that they fit).
    @inline(__always)
    private func matches(_ bytes: [UInt8], at offset: Int) -> Bool {
        bytes.withUnsafeBufferPointer { known in
            for index in 0..<known.count where known[index] != buffer[offset + index] { return false }
            return true
        }
    }

    /// Reads an array, calling `body` once per element; `body` must read the element.
    public mutating func readArray(_ body: (inout JSONReader) throws(ModelError) -> Void) throws(ModelError) {
        try readContainer(open: UInt8(ascii: "["), close: UInt8(ascii: "]"), kind: "array", member: body)
    }

    /// The frame objects and arrays share: the opening bracket, the nesting limit, then
    /// `member` once per member, separated by commas, up to the closing bracket.
    @inline(__always)
    mutating func readContainer(open: UInt8, close: UInt8, kind: StaticString, member: (inout JSONReader) throws(ModelError) -> Void) throws(ModelError) {
        try consume(open, "an \(kind)")
        depth += 1
        guard depth <= JSONReader.maxDepth else { throw error("nesting deeper than \(JSONReader.maxDepth)") }
        skipWhitespace()
        if position < buffer.count, buffer[position] == close {
            position += 1
            depth -= 1
            return
        }
        while true {
            try member(&self)
            skipWhitespace()
            guard position < buffer.count else { throw error("unterminated \(kind)") }
            if buffer[position] == UInt8(ascii: ",") { position += 1; continue }
            if buffer[position] == close { position += 1; break }
            throw error("expected ',' or '\(Character(Unicode.Scalar(close)))' in an \(kind)")
        }
        depth -= 1
    }

    /// Reads `true` or `false` after any whitespace; throws `malformed_json` otherwise.
    public mutating func readBoolean() throws(ModelError) -> Bool {
        skipWhitespace()
        if matchLiteral("true") { return true }
        if matchLiteral("false") { return false }
        throw error("expected true or false")
    }

    /// Reads `null`.
    public mutating func readNull() throws(ModelError) {
        skipWhitespace()
        if !matchLiteral("null") { throw error("expected null") }
    }

    private mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard position + count <= buffer.count else { return false }
        let base = literal.utf8Start
        for offset in 0..<count where buffer[position + offset] != base[offset] { return false }
        position += count
        return true
    }

    /// Reads a whole number of at most 18 digits.
    public mutating func readInteger() throws(ModelError) -> Int {
        skipWhitespace()
        let start = position
        var negative = false
        if position < buffer.count, buffer[position] == UInt8(ascii: "-") {
            negative = true
            position += 1
        }
        let digitsStart = position
        var value = 0
        while position < buffer.count, buffer[position].isDigit {
            if position - digitsStart >= 18 { throw error("number too large") }
            value = value * 10 + Int(buffer[position] - UInt8(ascii: "0"))
            position += 1
        }
        let digits = position - digitsStart
        if digits == 0 { position = start; throw error("expected a number") }
        if digits > 1, buffer[digitsStart] == UInt8(ascii: "0") { throw error("number with a leading zero") }
        if position < buffer.count, buffer[position] == UInt8(ascii: ".") || buffer[position] == UInt8(ascii: "e") || buffer[position] == UInt8(ascii: "E") {
            throw error("expected a whole number")
        }
        return negative ? -value : value
    }

    /// Reads a record id string without allocating its text (escaped spellings fall back).
    public mutating func readRecordID() throws(ModelError) -> RecordID {
        skipWhitespace()
        let start = position
        if position + 38 <= buffer.count, buffer[position] == UInt8(ascii: "\""), buffer[position + 37] == UInt8(ascii: "\""),
           let id = RecordID.parse(bytes: UnsafeBufferPointer(rebasing: buffer[(position + 1)..<(position + 37)])) {
            position += 38
            return id
        }
        position = start
        return try RecordID(readString())
    }

    /// Reads a string, unescaping it; rejects invalid UTF-8 and raw control characters.
    public mutating func readString() throws(ModelError) -> String {
        let (start, asciiOnly) = try openString()
        switch buffer[position] {
        case UInt8(ascii: "\""):
            let slice = UnsafeBufferPointer(rebasing: buffer[start..<position])
            position += 1
            if asciiOnly { return String(decoding: slice, as: UTF8.self) }
            guard let text = String(validating: slice, as: UTF8.self) else {
                throw error("string is not valid UTF-8")
            }
            return text
        case UInt8(ascii: "\\"):
            return try readEscapedString(from: start)
        default:
            throw error("control character in a string must be escaped")
        }
    }

    /// Reads a string and calls `body` with its unescaped UTF-8 bytes, checked as
    /// `readString` checks them: a string without escapes straight from the input, with
    /// nothing copied or built; one with escapes as the `String` `readString` makes.
    mutating func readString<Result>(bytes body: (UnsafeBufferPointer<UInt8>) -> Result) throws(ModelError) -> Result {
        let (start, asciiOnly) = try openString()
        switch buffer[position] {
        case UInt8(ascii: "\""):
            let slice = UnsafeBufferPointer(rebasing: buffer[start..<position])
            if !asciiOnly, !JSONReader.isValidUTF8(slice) { throw error("string is not valid UTF-8") }
            position += 1
            return body(slice)
        case UInt8(ascii: "\\"):
            position = start - 1  // back to the opening quote: the general reader unescapes
            var text = try readString()
            return text.withUTF8(body)
        default:
            throw error("control character in a string must be escaped")
        }
    }

    /// Consumes a string's opening quote and the run after it that needs no unescaping
    /// (`plainRun`), leaving the position at the byte that ended the run: a quote, a
    /// backslash or a control character, for the caller to judge.
    private mutating func openString() throws(ModelError) -> (start: Int, asciiOnly: Bool) {
        try consume(UInt8(ascii: "\""), "a string")
        let start = position
        let run = JSONReader.plainRun(in: buffer, from: start)
        position = run.end
        guard position < buffer.count else { throw error("unterminated string") }
        return (start, run.asciiOnly)
    }

    /// The run of a string's bytes from `start` that needs no unescaping: it ends at the
    /// first quote, backslash or control character (or the buffer's end), which the caller
    /// judges. `asciiOnly` tells whether the run needs a UTF-8 check.
    @inline(always)  // every string of every state read goes through it
    static func plainRun(in buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> (end: Int, asciiOnly: Bool) {
        // Eight bytes at a time to the first byte that ends the run or is not ASCII.
        var end = start + ByteWord.firstFlagged(in: UnsafeBufferPointer(rebasing: buffer[start...])) { word in
            ByteWord.bytes(word, equalTo: UInt8(ascii: "\"")) | ByteWord.bytes(word, equalTo: UInt8(ascii: "\\"))
                | ByteWord.bytes(word, below: 0x20) | word & ByteWord.highBits
        }
        // From there (a byte that ends the run, one that is not ASCII, or the short tail) byte
        // by byte; every byte before it is plain ASCII.
        var asciiOnly = true
        while end < buffer.count {
            let byte = buffer[end]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            if byte >= 0x80 { asciiOnly = false }
            end += 1
        }
        return (end, asciiOnly)
    }

    /// Strict UTF-8 (no overlong forms, surrogates or code points above U+10FFFF).
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue: continue
            case .emptyInput: return true
            case .error: return false
            }
        }
    }

    private mutating func readEscapedString(from start: Int) throws(ModelError) -> String {
        var bytes = Array(buffer[start..<position])
        while position < buffer.count {
            let byte = buffer[position]
            position += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: bytes, as: UTF8.self) else {
                    throw error("string is not valid UTF-8")
                }
                return text
            case UInt8(ascii: "\\"):
                guard position < buffer.count else { throw error("unterminated escape") }
                let escape = buffer[position]
                position += 1
                switch escape {
                case UInt8(ascii: "\""): bytes.append(0x22)
                case UInt8(ascii: "\\"): bytes.append(0x5C)
                case UInt8(ascii: "/"): bytes.append(0x2F)
                case UInt8(ascii: "b"): bytes.append(0x08)
                case UInt8(ascii: "f"): bytes.append(0x0C)
                case UInt8(ascii: "n"): bytes.append(0x0A)
                case UInt8(ascii: "r"): bytes.append(0x0D)
                case UInt8(ascii: "t"): bytes.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try readHex4()
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard position + 1 < buffer.count, buffer[position] == UInt8(ascii: "\\"), buffer[position + 1] == UInt8(ascii: "u") else {
                            throw error("lone surrogate in \\u escape")
                        }
                        position += 2
                        let low = try readHex4()
                        guard (0xDC00...0xDFFF).contains(low) else { throw error("lone surrogate in \\u escape") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw error("lone surrogate in \\u escape")
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
                    bytes.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw error("unknown escape \\\(Unicode.Scalar(escape))")
                }
            default:
                if byte < 0x20 { throw error("control character in a string must be escaped") }
                bytes.append(byte)
            }
        }
        throw error("unterminated string")
    }

    private mutating func readHex4() throws(ModelError) -> UInt32 {
        guard position + 4 <= buffer.count else { throw error("short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = buffer[position]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("bad hex digit in \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    /// Skips any one value (bounded depth); numbers are skipped by their characters, so any
    /// JSON number passes here and is judged by whoever reads it for real.
    public mutating func skipValue() throws(ModelError) {
        switch try peekKind() {
        case .object: try readObject { reader, _ throws(ModelError) in try reader.skipValue() }
        case .array: try readArray { reader throws(ModelError) in try reader.skipValue() }
        case .string: _ = try readString()
        case .number:
            while position < buffer.count, "0123456789+-.eE".utf8.contains(buffer[position]) { position += 1 }
        case .boolean: _ = try readBoolean()
        case .null: try readNull()
        }
    }

    /// The bytes of the next value, unparsed (checked only as far as `skipValue` checks).
    public mutating func readRawValue() throws(ModelError) -> [UInt8] {
        skipWhitespace()
        let start = position
        try skipValue()
        return Array(buffer[start..<position])
    }
}
