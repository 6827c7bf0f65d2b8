import Foundation
import Hummingbird
import HummingbirdTesting
import SyncModel
import SyncServer
import Testing

/// Reporting carries only the schema's allow-list: a unique marker planted in every field
/// that is free text or names a person never appears in an export or the summary, and a
/// party that withheld consent to share is absent, with the feedback that names it.
struct ReportAllowListTests {
    /// A marker per omitted field, e.g. `MARK-case-title`.
    static func marker(_ type: RecordType, _ field: String) -> String { "MARK-\(type.rawValue)-\(field)" }

    /// The allow-list, as PROTOCOL.md §11 gives it.
    static let documented: [RecordType: [String]] = [
        .case: ["reference", "kind", "site", "status", "confidentiality", "mediatorsCount", "opened", "agreed", "closed", "stageEntered"],
        .party: ["role", "consentToMediate", "consentToShare"],
        .session: ["at", "kind", "attendeesCount"],
        .note: ["session", "visibility"],
        .action: ["due", "status", "reviewed", "completed", "replacedBy"],
        .feedback: ["party", "rating", "submitted"],
    ]

    /// Every free-text field of `type` outside the documented allow-list, filled with its
    /// marker: whatever the schema says, none of them may reach a report.
    static func omittedFields(_ type: RecordType) -> [FieldChange] {
        RecordSchema.for(type).declared.filter { !(documented[type] ?? []).contains($0.name) && $0.kind == .register }.compactMap { spec in
            guard case .text = spec.valueType else { return nil }
            return .set(spec.name, .text(marker(type, spec.name)))
        }
    }

    @Test(arguments: StoreKind.available) func noOmittedFieldReachesAReportAndSetsAreCounts(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        let theCase = try NodeFixture.record(.case, 1, counter: 1, Self.omittedFields(.case) + [
            .set("reference", .text("MED-1")), .set("status", .text("intake")), .set("site", .text("North")),
            .add("mediators", "ann"), .add("mediators", "bob"),
        ])
        let consenting = try NodeFixture.record(.party, 2, in: theCase.id, counter: 2, Self.omittedFields(.party) + [
            .set("role", .text("patient")), .set("consentToShare", .boolean(true)),
        ])
        let withholding = try NodeFixture.record(.party, 3, in: theCase.id, counter: 3, [
            .set("role", .text("family")), .set("name", .text("WITHHELD-PARTY-NAME")), .set("consentToShare", .boolean(false)),
        ])
        let session = try NodeFixture.record(.session, 4, in: theCase.id, counter: 4, Self.omittedFields(.session) + [
            .set("at", .text("2026-11-02T10:00:00Z")), .add("attendees", "MARK-session-attendee-1"), .add("attendees", "MARK-session-attendee-2"),
        ])
        let note = try NodeFixture.record(.note, 5, in: theCase.id, counter: 5, Self.omittedFields(.note) + [.set("visibility", .text("shared"))])
        let action = try NodeFixture.record(.action, 6, in: theCase.id, counter: 6, Self.omittedFields(.action) + [.set("status", .text("open"))])
        let feedback = try NodeFixture.record(.feedback, 7, in: theCase.id, counter: 7, Self.omittedFields(.feedback) + [
            .set("rating", .integer(5)), .set("party", .text(consenting.id.rawValue)),
        ])
        let withheldFeedback = try NodeFixture.record(.feedback, 8, in: theCase.id, counter: 8, [
            .set("rating", .integer(1)), .set("party", .text(withholding.id.rawValue)),
        ])
        let records = [theCase, consenting, withholding, session, note, action, feedback, withheldFeedback]
        #expect(records.count == Set(records.map(\.id)).count)
        try await fixture.test { client in
            #expect(try await fixture.push(client, records, as: "sue-desk").0 == .ok)
            var outputs: [String] = []
            func get(_ uri: String) async throws -> String {
                try await client.execute(uri: uri, method: .get, headers: [.authorization: fixture.credentials["rita-desk"] ?? ""]) { response in
                    #expect(response.status == .ok, "\(uri)")
                    return String(buffer: response.body)
                }
            }
            outputs.append(try await get("/v1/export?format=ndjson"))
            for type in RecordType.allCases {
                outputs.append(try await get("/v1/export?format=csv&type=\(type.rawValue)"))
                outputs.append(try await get("/v1/export?format=ndjson&type=\(type.rawValue)"))
            }
            outputs.append(try await get("/v1/report/summary"))
            let everything = outputs.joined(separator: "\n")
            #expect(!everything.contains("MARK-"), "a free-text or name field was reported")
            #expect(!everything.contains("WITHHELD-PARTY-NAME"))
            #expect(!everything.contains("\"ann\"") && !everything.contains("\"bob\""), "mediators are counted, not named")

            let rows = outputs[0].split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
            let ids = Set(rows.compactMap { $0["id"] as? String })
            #expect(ids == Set([theCase, consenting, session, note, action, feedback].map(\.id.rawValue)),
                    "the party without consent to share and the feedback naming it are absent")
            let fields = Dictionary(uniqueKeysWithValues: rows.compactMap { row in (row["id"] as? String).map { ($0, row["fields"] as? [String: Any] ?? [:]) } })
            #expect(fields[theCase.id.rawValue]?["mediatorsCount"] as? Int == 2)
            #expect(fields[session.id.rawValue]?["attendeesCount"] as? Int == 2)
            #expect(fields[theCase.id.rawValue]?["site"] as? String == "North")
            #expect(fields[feedback.id.rawValue]?["rating"] as? Int == 5)
        }
    }

    /// The allow-list, as PROTOCOL.md §11 gives it: a change to the schema's reporting must
    /// change the documented table too.
    @Test func theAllowListIsTheDocumentedOne() {
        for type in RecordType.allCases {
            #expect(ExportRow.columns(type).compactMap(\.reportColumn) == Self.documented[type], "\(type)")
            let confidential = ExportRow.columns(type).filter { $0.confidential }
            #expect(confidential.isEmpty, "\(type): a confidential field is never reported")
        }
    }
}
