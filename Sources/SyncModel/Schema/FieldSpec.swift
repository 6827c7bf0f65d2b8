/// One field of the schema: its name, merge kind, value type, and whether it is required
/// or confidential (never leaves the server through export or summary).
public struct FieldSpec: Hashable, Sendable {
    /// The field's name: its key in a state's `fields` and in `FIELD=VALUE` arguments.
    public let name: String
    /// How the field merges: a register (one value) or an add-wins set.
    public let kind: FieldKind
    /// What each value must look like (for a set, each element).
    public let valueType: ValueType
    /// Whether a full record pushed for storage must hold a value (`missing_field` otherwise).
    public let required: Bool
    /// Whether the field holds confidential content (a name, a contact, a note's text): it
    /// never leaves the server through export or summary.
    public let confidential: Bool
    /// What reporting (export) carries of the field: nothing unless the schema allows it.
    public let reporting: Reporting

    /// What a report may carry of a field. Default deny: free text and person names are
    /// never reported (data minimisation); a set of names is reported as a count.
    public enum Reporting: Hashable, Sendable {
        /// Not in any report.
        case omitted
        /// The value (a choice, a date, a flag, a number, an id, a site).
        case value
        /// Only how many elements the set holds, as `<name>Count`.
        case count
    }

    /// The export column this field is reported under, if any (`mediatorsCount` for a count).
    public var reportColumn: String? {
        switch reporting {
        case .omitted: nil
        case .value: name
        case .count: name + "Count"
        }
    }

    /// The pseudo-field `deleted` as `resolve` takes it: true keeps a delete, false restores.
    public static let deletedFlag = FieldSpec(RecordSchema.deletedField, .boolean)

    init(_ name: String, _ valueType: ValueType, required: Bool = false, confidential: Bool = false, reporting: Reporting = .omitted) {
        self.init(name, .register, valueType, required: required, confidential: confidential, reporting: reporting)
    }

    init(_ name: String, _ kind: FieldKind, _ valueType: ValueType, required: Bool = false, confidential: Bool = false,
         reporting: Reporting = .omitted) {
        precondition(!(confidential && reporting != .omitted), "a confidential field is never reported")
        precondition(reporting != .count || kind == .set, "only a set is reported as a count")
        self.name = name
        self.kind = kind
        self.valueType = valueType
        self.required = required
        self.confidential = confidential
        self.reporting = reporting
    }

    /// Checks one value (for a set: one element) against the value type; the error names
    /// the field and the problem. (Validating a received state passes most values through
    /// `ValueCheck` first and comes here only for the rest.)
    public func check(_ value: FieldValue) throws(ModelError) {
        switch (valueType, value) {
        case let (.text(maxBytes, multiline), .text(text)):
            guard text.utf8.count <= maxBytes else {
                throw ModelError(.invalidValue, "\(name) is \(text.utf8.count) bytes long; at most \(maxBytes) are allowed", field: name)
            }
            guard !text.isEmpty else {
                throw ModelError(.invalidValue, "\(name) must not be empty", field: name)
            }
            for byte in text.utf8 where byte < 0x20 || byte == 0x7F {
                if multiline && (byte == 0x0A || byte == 0x0D || byte == 0x09) { continue }
                throw ModelError(.invalidValue, "\(name) contains a control character\(multiline ? "" : " or line break")", field: name)
            }
        case let (.choice(words), .text(word)):
            guard words.contains(word) else {
                throw ModelError(.invalidValue, "\(name) \"\(word.prefix(40))\" is not \(valueType.summary)", field: name)
            }
        case let (.date, .text(text)):
            guard CalendarText.isDate(text) else {
                throw ModelError(.invalidValue, "\(name) \"\(text.prefix(40))\" is not a valid date YYYY-MM-DD", field: name)
            }
        case let (.timestamp, .text(text)):
            guard CalendarText.isTimestamp(text) else {
                throw ModelError(.invalidValue, "\(name) \"\(text.prefix(40))\" is not \(valueType.summary)", field: name)
            }
        case (.boolean, .boolean):
            return
        case let (.integer(range), .integer(number)):
            guard range.contains(number) else {
                throw ModelError(.invalidValue, "\(name) \(number) is not \(valueType.summary)", field: name)
            }
        case let (.reference(type), .text(text)):
            guard RecordID.isValid(text) else {
                throw ModelError(.invalidValue, "\(name) \"\(text.prefix(40))\" is not \(type == .case ? "a case" : "a record") id", field: name)
            }
        case let (.userName, .text(text)):
            guard DeviceID.isValid(text) else {
                throw ModelError(.invalidValue, "\(name) \"\(text.prefix(40))\" is not \(valueType.summary)", field: name)
            }
        default:
            throw ModelError(.wrongValueType, "\(name) must be \(valueType.summary), not \(value.typeName)", field: name)
        }
    }

    /// Non-empty and free of control characters (tab and newlines allowed when multiline).
    @inline(__always)
    static func isPlain(_ bytes: UnsafeBufferPointer<UInt8>, multiline: Bool) -> Bool {
        guard !bytes.isEmpty else { return false }
        // Eight bytes at a time to the first control character; then byte by byte, unless
        // none was found and the last eight bytes (overlapping the words before) hold none.
        let flags = { (word: UInt64) in ByteWord.bytes(word, below: 0x20) | ByteWord.bytes(word, equalTo: 0x7F) }
        let start = ByteWord.firstFlagged(in: bytes, by: flags)
        if bytes.count >= 8, start > bytes.count - 8, flags(ByteWord.load(bytes, at: bytes.count - 8)) == 0 { return true }
        for byte in bytes[start...] where byte < 0x20 || byte == 0x7F {
            if multiline && (byte == 0x0A || byte == 0x0D || byte == 0x09) { continue }
            return false
        }
        return true
    }
}

extension FieldValue {
    var typeName: String {
        switch self {
        case .text: return "text"
        case .integer: return "a number"
        case .boolean: return "true/false"
        }
    }
}
