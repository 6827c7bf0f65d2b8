/// The fields of one record type, as DESIGN.md defines them.
///
/// The schema is data, not code paths: validation, the CLI's `FIELD=VALUE` parsing, and the
/// server's redaction all read it, so a field is declared once. Fields sorted by name.
public struct RecordSchema: Hashable, Sendable {
    /// The record type these fields belong to.
    public let type: RecordType
    /// The type's fields sorted by name bytes, the order of a state's `fields` JSON.
    public let fields: [FieldSpec]
    /// The same fields in the order DESIGN.md lists them: the order people read them in
    /// (CSV columns, help texts).
    public let declared: [FieldSpec]
    /// For each index of `FieldNames.all`, the index of its spec in `fields`, or -1.
    private let specByKnownName: [Int]
    /// The known-name indices (see `FieldNames`) of the required fields.
    let requiredKnownNames: [UInt16]
    /// `fields` as plain values for validation, in the same order, and their choice words.
    let checks: [ValueCheck]
    let choiceWords: [PackedName]

    /// The optional fields that decide who may hold a record (`note.visibility`,
    /// `case.confidentiality`): absent, they read as the widest, so a write never clears them.
    public static let holdingFields: Set<String> = ["visibility", "confidentiality"]

    /// The pseudo-field that names a record's tombstone in conflicts and `resolve`.
    public static let deletedField = "deleted"

    init(_ type: RecordType, _ fields: [FieldSpec]) {
        self.type = type
        declared = fields
        let sorted = fields.sorted { utf8Precedes($0.name, $1.name) }
        self.fields = sorted
        specByKnownName = FieldNames.all.map { name in sorted.firstIndex { $0.name == name } ?? -1 }
        requiredKnownNames = sorted.filter(\.required).compactMap { FieldNames.index(of: $0.name) }
        var words: [PackedName] = []
        checks = sorted.map { ValueCheck($0, words: &words) }
        choiceWords = words
    }

    /// Everything else a schema holds is derived from its type and fields.
    public static func == (lhs: RecordSchema, rhs: RecordSchema) -> Bool {
        lhs.type == rhs.type && lhs.fields == rhs.fields
    }

    /// Hashes type and fields, the two things `==` compares.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(fields)
    }

    /// The index in `fields` of the known field name `index` (see `FieldNames`), if this type has it.
    @inline(__always)
    func specIndex(ofKnownName index: UInt16) -> Int? {
        let spec = specByKnownName[Int(index)]
        return spec >= 0 ? spec : nil
    }

    /// The field specs of `type`, without building its schema (`FieldNames` is built from these).
    static func fieldSpecs(of type: RecordType) -> [FieldSpec] {
        switch type {
        case .case: return caseFields
        case .party: return partyFields
        case .session: return sessionFields
        case .note: return noteFields
        case .action: return actionFields
        case .feedback: return feedbackFields
        }
    }

    /// The schema of `type`.
    public static func `for`(_ type: RecordType) -> RecordSchema {
        switch type {
        case .case: return caseSchema
        case .party: return partySchema
        case .session: return sessionSchema
        case .note: return noteSchema
        case .action: return actionSchema
        case .feedback: return feedbackSchema
        }
    }

    /// The spec of field `name`, or nil when the type has no such field.
    public func field(_ name: String) -> FieldSpec? {
        fields.first { $0.name == name }
    }

    /// The spec of field `name`; throws `unknown_field` listing the valid names.
    public func spec(_ name: String) throws(ModelError) -> FieldSpec {
        guard let spec = field(name) else {
            throw ModelError(.unknownField, "\(type.rawValue) has no field \"\(name.prefix(40))\"; its fields are \(fields.map(\.name).joined(separator: ", "))", field: name)
        }
        return spec
    }

    /// Names of the confidential fields, which never leave the server through export or summary.
    public var confidentialFields: [String] { fields.filter(\.confidential).map(\.name) }

    /// The fields a report carries, in declaration order (DESIGN.md's): the allow-list.
    public var reported: [FieldSpec] { declared.filter { $0.reporting != .omitted } }

    static let shortText = ValueType.text(maxBytes: 1_000, multiline: false)
    static let longText = ValueType.text(maxBytes: 100_000, multiline: true)
    static let caseLink = FieldSpec("case", .reference(.case), required: true)

    static let caseSchema = RecordSchema(.case, caseFields)
    static let caseFields: [FieldSpec] = [
        FieldSpec("reference", shortText, required: true, reporting: .value),
        FieldSpec("title", shortText, required: true),
        FieldSpec("kind", .choice(["clinical-dispute", "malpractice", "workplace-conduct", "family-clinician", "other"]), reporting: .value),
        FieldSpec("site", shortText, reporting: .value),
        FieldSpec("status", .choice(WorkflowStage.allCases.map(\.rawValue)), required: true, reporting: .value),
        FieldSpec("confidentiality", .choice(["standard", "restricted"]), reporting: .value),
        FieldSpec("mediators", .set, .userName, reporting: .count),
        FieldSpec("opened", .date, reporting: .value),
        FieldSpec("agreed", .date, reporting: .value),
        FieldSpec("closed", .date, reporting: .value),
        FieldSpec("stageEntered", .date, reporting: .value),
        FieldSpec("objectives", longText),
        FieldSpec("successCriteria", longText),
        FieldSpec("outcome", longText),
        FieldSpec("conflictOfInterest", longText, confidential: true),
    ]

    static let partySchema = RecordSchema(.party, partyFields)
    static let partyFields: [FieldSpec] = [
        caseLink,
        FieldSpec("role", .choice(["patient", "family", "clinician", "practitioner", "institution", "representative", "other"]), required: true, reporting: .value),
        FieldSpec("name", shortText, required: true, confidential: true),
        FieldSpec("organization", shortText),
        FieldSpec("contact", longText, confidential: true),
        FieldSpec("consentToMediate", .boolean, reporting: .value),
        FieldSpec("consentToShare", .boolean, reporting: .value),
    ]

    static let sessionSchema = RecordSchema(.session, sessionFields)
    static let sessionFields: [FieldSpec] = [
        caseLink,
        FieldSpec("at", .timestamp, required: true, reporting: .value),
        FieldSpec("kind", .choice(["joint", "caucus", "private"]), reporting: .value),
        FieldSpec("location", shortText),
        FieldSpec("attendees", .set, shortText, reporting: .count),
        FieldSpec("summary", longText),
    ]

    static let noteSchema = RecordSchema(.note, noteFields)
    static let noteFields: [FieldSpec] = [
        caseLink,
        FieldSpec("session", .reference(.session), reporting: .value),
        FieldSpec("author", shortText),
        FieldSpec("visibility", .choice(["shared", "mediator", "caucus"]), reporting: .value),
        FieldSpec("text", longText, required: true, confidential: true),
    ]

    static let actionSchema = RecordSchema(.action, actionFields)
    static let actionFields: [FieldSpec] = [
        caseLink,
        FieldSpec("text", longText, required: true),
        FieldSpec("owner", shortText),
        FieldSpec("due", .date, reporting: .value),
        FieldSpec("measure", longText),
        FieldSpec("status", .choice(["open", "in-progress", "met", "missed", "waived", "escalated"]), reporting: .value),
        FieldSpec("reviewed", .date, reporting: .value),
        FieldSpec("completed", .date, reporting: .value),
        FieldSpec("reviews", .set, shortText, confidential: true),
        FieldSpec("replacedBy", .reference(.action), reporting: .value),
    ]

    static let feedbackSchema = RecordSchema(.feedback, feedbackFields)
    static let feedbackFields: [FieldSpec] = [
        caseLink,
        FieldSpec("party", .reference(.party), reporting: .value),
        FieldSpec("rating", .integer(1...5), reporting: .value),
        FieldSpec("comments", longText, confidential: true),
        FieldSpec("submitted", .date, reporting: .value),
    ]
}
