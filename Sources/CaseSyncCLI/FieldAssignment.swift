import SyncModel

/// Parses the `FIELD=VALUE` words of `case set` and `action set` into field changes, typed
/// by the schema: `FIELD=VALUE` sets a register and `FIELD=` (nothing after `=`) clears an
/// optional one; for set fields `FIELD+=VALUE` adds and `FIELD-=VALUE` removes. Booleans take true/false/yes/no, numbers whole digits.
enum FieldAssignment {
    static func parse(_ words: [String], type: RecordType) throws -> [FieldChange] {
        guard !words.isEmpty else { throw CLIError(.usage, "give at least one FIELD=VALUE") }
        let schema = RecordSchema.for(type)
        return try words.map { word in
            guard let equals = word.firstIndex(of: "=") else {
                throw CLIError(.usage, "\"\(word.prefix(40))\" is not FIELD=VALUE; fields of \(type.rawValue): \(schema.fields.map(\.name).joined(separator: ", "))")
            }
            var name = String(word[..<equals])
            let value = String(word[word.index(after: equals)...])
            var operation: Character = "="
            if let last = name.last, last == "+" || last == "-" {
                operation = last
                name.removeLast()
            }
            let spec = try schema.spec(name)
            guard name != "case" else { throw CLIError(.usage, "a record cannot move to another case") }
            switch (spec.kind, operation) {
            case (.register, "=") where value.isEmpty:
                guard !spec.required else { throw CLIError(.usage, "\(name) is required and cannot be cleared; give it a value: \(name)=…") }
                return .clear(name)
            case (.register, "="):
                return .set(name, try typedValue(value, spec: spec))
            case (.set, "+"):
                return .add(name, value)
            case (.set, "-"):
                return .remove(name, value)
            case (.set, _):
                throw CLIError(.usage, "\(name) is a set: use \(name)+=VALUE to add or \(name)-=VALUE to remove")
            default:
                throw CLIError(.usage, "\(name) holds one value: use \(name)=VALUE")
            }
        }
    }

    /// A command-line word as the value type of `spec` wants it.
    static func typedValue(_ text: String, spec: FieldSpec) throws -> FieldValue {
        switch spec.valueType {
        case .boolean:
            switch text.lowercased() {
            case "true", "yes", "y", "1": return .boolean(true)
            case "false", "no", "n", "0": return .boolean(false)
            default: throw CLIError(.usage, "\(spec.name) takes yes or no, not \"\(text.prefix(40))\"")
            }
        case .integer:
            guard let number = Int(text) else { throw CLIError(.usage, "\(spec.name) takes \(spec.valueType.summary), not \"\(text.prefix(40))\"") }
            return .integer(number)
        case .timestamp:
            guard let normalized = WallClock.normalizeTimestamp(text) else {
                throw CLIError(.usage, "\(spec.name) \"\(text.prefix(40))\" is not a time; write it like 2026-11-22T14:00 or 2026-11-22 14:00")
            }
            return .text(normalized)
        default:
            return .text(text)
        }
    }
}
