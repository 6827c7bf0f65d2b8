/// A field spec's kind and value type as plain values, for validating the values a state
/// holds without copying or reference counting (a `FieldSpec` holds strings and lists, and
/// every state a replica receives is validated field by field).
///
/// It only says whether a value passes; a value it does not pass goes to `FieldSpec.check`,
/// which decides again and names the problem. So it may pass less than the spec, never more.
struct ValueCheck: Sendable {
    enum Kind: UInt8, Sendable {
        case text, choice, date, reference, userName, boolean, integer
        /// Checked by the spec only.
        case other
    }

    let kind: Kind
    let isSet: Bool
    let maxBytes: Int
    let multiline: Bool
    let range: ClosedRange<Int>
    /// The allowed words of a choice, in the schema's `choiceWords`.
    let words: Range<Int>

    /// The check of `spec`; its choice words are appended to `words`.
    init(_ spec: FieldSpec, words: inout [PackedName]) {
        isSet = spec.kind == .set
        var maxBytes = 0
        var multiline = false
        var range = 0...0
        let start = words.count
        switch spec.valueType {
        case let .text(limit, lines):
            kind = .text
            (maxBytes, multiline) = (limit, lines)
        case let .choice(choices):
            let packed = choices.compactMap(PackedName.init)
            // A word too long to pack is left to the spec.
            kind = packed.count == choices.count ? .choice : .other
            if kind == .choice { words += packed }
        case .date: kind = .date
        case .reference: kind = .reference
        case .userName: kind = .userName
        case .boolean: kind = .boolean
        case let .integer(allowed):
            kind = .integer
            range = allowed
        case .timestamp: kind = .other
        }
        self.maxBytes = maxBytes
        self.multiline = multiline
        self.range = range
        self.words = start..<words.count
    }

    /// Whether `write` (with its table's text) certainly passes.
    @inline(__always)
    func passes(_ write: FlatWrite, text: UnsafeBufferPointer<UInt8>, words: UnsafeBufferPointer<PackedName>) -> Bool {
        switch write.kind {
        case .text: return passes(text: text.slice(write.textRange), words: words)
        case .integer: return kind == .integer && range.contains(Int(write.payload))
        case .boolean: return kind == .boolean
        }
    }

    /// Whether the text value `bytes` certainly passes.
    func passes(text bytes: UnsafeBufferPointer<UInt8>, words: UnsafeBufferPointer<PackedName>) -> Bool {
        switch kind {
        case .text:
            return bytes.count <= maxBytes && FieldSpec.isPlain(bytes, multiline: multiline)
        case .choice:
            guard let word = PackedName(bytes) else { return false }
            return words[self.words].contains(word)
        case .date:
            return CalendarText.isDate(bytes)
        case .reference:
            return RecordID.parse(bytes: bytes) != nil
        case .userName:
            return DeviceID.isValid(bytes)
        case .boolean, .integer, .other:
            return false
        }
    }
}
