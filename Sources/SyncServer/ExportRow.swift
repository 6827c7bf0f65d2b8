import SyncModel

/// One record as reporting sees it: only the fields the schema allows (`FieldSpec.reporting`,
/// default deny: no free text, no person names, a set of names as its count), no conflict
/// sides, no tombstone details, flattened to plain values, with the node's change sequence
/// so a script can ask for what changed after it.
public enum ExportRow {
    /// The fields a report carries for `type`, in the order DESIGN.md lists them (the
    /// schema's allow-list). NDJSON writes them sorted by column name, as all canonical objects.
    public static func columns(_ type: RecordType) -> [FieldSpec] {
        byType[type] ?? []
    }

    static func sortedColumns(_ type: RecordType) -> [FieldSpec] {
        sortedByType[type] ?? []
    }

    /// The allow-list of each type, worked out once, not for every row exported.
    private static let byType = Dictionary(uniqueKeysWithValues: RecordType.allCases.map { ($0, RecordSchema.for($0).reported) })
    private static let sortedByType = byType.mapValues { $0.sorted { ($0.reportColumn ?? "") < ($1.reportColumn ?? "") } }

    /// Whether `party` withheld consent to share (`consentToShare` false, in any of its
    /// values when it is in conflict): then it and the feedback naming it stay out of reports.
    public static func withholdsConsent(_ party: RecordState) -> Bool {
        party.register("consentToShare")?.values.contains(.boolean(false)) ?? false
    }

    /// `{"case","changed","conflicted","deleted","fields":{…},"id","seq","type"}` and a newline.
    public static func ndjson(seq: Int, state: RecordState, into writer: inout CanonicalJSONWriter) {
        writer.raw("{\"case\":")
        writer.recordID(state.caseID ?? state.id)
        writer.raw(",\"changed\":")
        writer.integer(Int(state.lastChanged))
        writer.raw(",\"conflicted\":")
        writer.boolean(state.hasConflicts)
        writer.raw(",\"deleted\":")
        writer.boolean(state.isDeleted)
        writer.raw(",\"fields\":{")
        var first = true
        for spec in sortedColumns(state.type) {
            guard let field = state.field(spec.name), let column = spec.reportColumn else { continue }
            if !first { writer.byte(UInt8(ascii: ",")) }
            first = false
            writer.string(column)
            writer.byte(UInt8(ascii: ":"))
            switch field {
            case let .register(register): writer.value(register.displayValue)
            case let .set(set): writer.integer(set.members.count)
            }
        }
        writer.raw("},\"id\":")
        writer.recordID(state.id)
        writer.raw(",\"seq\":")
        writer.integer(seq)
        writer.raw(",\"type\":")
        writer.string(state.type.rawValue)
        writer.raw("}\n")
    }

    /// The CSV header row (RFC 4180, CRLF) for `type`.
    public static func csvHeader(_ type: RecordType) -> String {
        (["seq", "id", "case", "deleted", "conflicted", "changed"] + columns(type).compactMap(\.reportColumn)).joined(separator: ",") + "\r\n"
    }

    /// One CSV row; a set is its count. Times are milliseconds since 1970.
    public static func csv(seq: Int, state: RecordState) -> String {
        var cells = [String(seq), state.id.rawValue, (state.caseID ?? state.id).rawValue,
                     state.isDeleted ? "true" : "false", state.hasConflicts ? "true" : "false", String(state.lastChanged)]
        for spec in columns(state.type) {
            switch state.field(spec.name) {
            case let .register(register)?: cells.append(neutralised(register.displayValue.description))
            case let .set(set)?: cells.append(String(set.members.count))
            case nil: cells.append("")
            }
        }
        return cells.map(quoted).joined(separator: ",") + "\r\n"
    }

    /// A cell a spreadsheet would run as a formula (it starts with `=`, `+`, `-`, `@`, a tab
    /// or a carriage return) gets a leading `'`, which spreadsheets show as text (OWASP's
    /// advice for CSV injection). Only text typed by people can start so; the fixed columns
    /// (sequence, ids, booleans, times) never do.
    static func neutralised(_ cell: String) -> String {
        guard let first = cell.utf8.first, [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D].contains(first) else { return cell }
        return "'" + cell
    }

    /// RFC 4180: a cell with a comma, quote or line break is quoted, quotes doubled.
    static func quoted(_ cell: String) -> String {
        guard cell.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
