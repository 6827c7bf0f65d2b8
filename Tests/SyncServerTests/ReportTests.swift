import Foundation
import NodeStorage
import Hummingbird
import HummingbirdTesting
import Logging
import SyncModel
import SyncServer
import Testing

/// Export and summary: roles, redaction, increments, and figures against a hand-computed fixture.
struct ReportTests {
    static let secrets = ["SECRET-NOTE-TEXT-41", "SECRET-CONTACT-42", "SECRET-NAME-43", "SECRET-COMMENTS-44", "SECRET-COI-45"]

    /// One case with every confidential field filled with a seeded secret.
    static func confidentialRecords() throws -> [RecordState] {
        let theCase = try NodeFixture.record(.case, 1, counter: 1, [
            .set("reference", .text("MED-1")), .set("title", .text("Visible title")), .set("status", .text("intake")),
            .set("conflictOfInterest", .text(secrets[4])), .set("site", .text("North")),
        ])
        return [
            theCase,
            try NodeFixture.record(.note, 2, in: theCase.id, counter: 2, [.set("text", .text(secrets[0])), .set("visibility", .text("shared"))]),
            try NodeFixture.record(.party, 3, in: theCase.id, counter: 3, [.set("role", .text("family")), .set("name", .text(secrets[2])), .set("contact", .text(secrets[1])), .set("organization", .text("Visible org"))]),
            try NodeFixture.record(.feedback, 4, in: theCase.id, counter: 4, [.set("rating", .integer(4)), .set("comments", .text(secrets[3]))]),
        ]
    }

    func get(_ client: any TestClientProtocol, _ uri: String, as device: String, fixture: NodeFixture) async throws -> (HTTPResponse.Status, String) {
        try await client.execute(uri: uri, method: .get, headers: [.authorization: fixture.credentials[device] ?? ""]) {
            ($0.status, String(buffer: $0.body))
        }
    }

    @Test(arguments: StoreKind.available) func onlyReportersAndSupervisorsReadReportsAndReportersDoNotSync(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            #expect(try await fixture.push(client, [try NodeFixture.caseState(1, by: "sue-desk", counter: 1)], as: "sue-desk").0 == .ok)
            for uri in ["/v1/export?format=ndjson", "/v1/export?format=csv&type=case", "/v1/report/summary"] {
                for device in ["ann-laptop", "adam-desk"] {
                    let (status, body) = try await get(client, uri, as: device, fixture: fixture)
                    #expect(status == .forbidden, "\(device) on \(uri)")
                    #expect(!body.contains("MED-2026"), "no case data reaches \(device)")
                }
                for device in ["rita-desk", "sue-desk"] {
                    let status = try await get(client, uri, as: device, fixture: fixture).0
                    #expect(status == .ok, "\(device) on \(uri)")
                }
                let nobody = try await get(client, uri, as: "nobody", fixture: fixture).0
                #expect(nobody == .unauthorized)
            }
            #expect(try await fixture.push(client, [], as: "rita-desk").0 == .forbidden)
            #expect(try await fixture.pull(client, as: "rita-desk").0 == .forbidden)
            #expect(try await get(client, "/v1/export?format=csv", as: "rita-desk", fixture: fixture).0 == .badRequest, "CSV needs a type")
            #expect(try await get(client, "/v1/export?format=xml&type=case", as: "rita-desk", fixture: fixture).0 == .badRequest)
            #expect(try await get(client, "/v1/report/summary?from=2026-02-30", as: "rita-desk", fixture: fixture).0 == .badRequest)
        }
    }

    @Test(arguments: StoreKind.available) func noConfidentialStringLeavesThroughExportSummaryOrLogs(store: StoreKind) async throws {
        let logs = LogCapture()
        let fixture = try await NodeFixture(store: store, logger: Logger(label: "node") { _ in logs })
        let records = try Self.confidentialRecords()
        try await fixture.test { client in
            #expect(try await fixture.push(client, records, as: "sue-desk").0 == .ok)
            var outputs: [String] = []
            outputs.append(try await get(client, "/v1/export?format=ndjson", as: "rita-desk", fixture: fixture).1)
            for type in RecordType.allCases {
                outputs.append(try await get(client, "/v1/export?format=csv&type=\(type.rawValue)", as: "rita-desk", fixture: fixture).1)
                outputs.append(try await get(client, "/v1/export?format=ndjson&type=\(type.rawValue)", as: "rita-desk", fixture: fixture).1)
            }
            outputs.append(try await get(client, "/v1/report/summary", as: "rita-desk", fixture: fixture).1)
            let all = outputs.joined(separator: "\n") + logs.text
            for secret in Self.secrets { #expect(!all.contains(secret), "\(secret) leaked") }
            // The export is not empty: the allow-listed fields are there, free text is not.
            #expect(outputs[0].contains("MED-1") && outputs[0].contains("North"))
            #expect(!outputs[0].contains("Visible title") && !outputs[0].contains("Visible org"), "free text is never reported")
            #expect(outputs[0].split(separator: "\n").count == 4)
            #expect(!logs.text.isEmpty, "the node did log")
        }
    }

    @Test(arguments: StoreKind.available) func csvFollowsRFC4180(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        // A reference and a site are text people type, and they are reported.
        let tricky = try NodeFixture.record(.case, 9, counter: 1, [
            .set("reference", .text("MED-9")), .set("title", .text("A title")), .set("status", .text("intake")),
            .set("site", .text("North, \"East\" wing")),
        ])
        // What a spreadsheet would run: each cell must reach it as text.
        let formulas = ["=HYPERLINK(\"http://x.example\")", "+1+1", "-2+3", "@SUM(A1)"]
        let injections = try formulas.enumerated().map { index, formula in
            try NodeFixture.record(.case, 20 + UInt64(index), counter: 2 + index, [
                .set("reference", .text("MED-2\(index)")), .set("title", .text("t")), .set("status", .text("intake")), .set("site", .text(formula)),
            ])
        }
        try await fixture.test { client in
            _ = try await fixture.push(client, [tricky] + injections, as: "sue-desk")
            let csv = try await get(client, "/v1/export?format=csv&type=case", as: "rita-desk", fixture: fixture).1
            let header = try #require(csv.components(separatedBy: "\r\n").first)
            // The schema's order (DESIGN.md), not the alphabet; only allow-listed fields.
            #expect(header == "seq,id,case,deleted,conflicted,changed,reference,kind,site,status,confidentiality,mediatorsCount,opened,agreed,closed,stageEntered")
            #expect(!header.contains("conflictOfInterest") && !header.contains("title"))
            for line in csv.components(separatedBy: "\r\n").dropFirst() {
                for cell in line.split(separator: ",", omittingEmptySubsequences: false) {
                    let text = cell.hasPrefix("\"") ? cell.dropFirst() : cell
                    #expect(!["=", "+", "@", "\t"].contains(where: { text.hasPrefix($0) }) && !(text.hasPrefix("-") && text.count > 1), "a formula reaches the spreadsheet: \(cell)")
                }
            }
            #expect(csv.contains("'=HYPERLINK") && csv.contains("'-2+3") && csv.contains("'@SUM(A1)"))
            let ndjson = try await get(client, "/v1/export?format=ndjson&type=case", as: "rita-desk", fixture: fixture).1
            #expect(ndjson.contains("\"site\":\"-2+3\""), "NDJSON carries the text unchanged: scripts parse it, spreadsheets do not")
            #expect(csv.contains("\"North, \"\"East\"\" wing\""))
            #expect(csv.hasSuffix("\r\n"))
        }
    }

    @Test(arguments: StoreKind.available) func twoIncrementalExportsEqualOneFullExport(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            let first = try (1...5).map { try NodeFixture.caseState(UInt64($0), by: "sue-desk", counter: $0) }
            _ = try await fixture.push(client, first, as: "sue-desk")
            let before = try Self.rows(try await get(client, "/v1/export?format=ndjson", as: "rita-desk", fixture: fixture).1)
            let cursor = try #require(before.map(\.seq).max())

            // Between the pulls: new records, and a change to one already exported.
            var changed = first[0]
            try changed.set("site", .text("East"), stamp: Stamp(device: try DeviceID("sue-desk"), counter: 20, time: 1))
            let second = try (6...8).map { try NodeFixture.caseState(UInt64($0), by: "sue-desk", counter: $0) }
            _ = try await fixture.push(client, second + [changed], as: "sue-desk")

            let after = try Self.rows(try await get(client, "/v1/export?format=ndjson&since=\(cursor)", as: "rita-desk", fixture: fixture).1)
            let full = try Self.rows(try await get(client, "/v1/export?format=ndjson", as: "rita-desk", fixture: fixture).1)
            #expect(after.allSatisfy { $0.seq > cursor }, "no row from before the cursor")
            #expect(Set(after.map(\.id)).count == after.count && Set(before.map(\.id)).count == before.count, "no duplicates within a pull")
            // Latest row per record across both pulls equals the full pull: no gaps.
            var latest: [String: (seq: Int, line: String)] = [:]
            for row in before + after where (latest[row.id]?.seq ?? -1) < row.seq { latest[row.id] = (row.seq, row.line) }
            #expect(latest.count == 8)
            #expect(Set(latest.values.map(\.line)) == Set(full.map(\.line)))
            #expect(full.map(\.seq) == full.map(\.seq).sorted(), "in sequence order")
        }
    }

    static func rows(_ ndjson: String) throws -> [(id: String, seq: Int, line: String)] {
        try ndjson.split(separator: "\n").map { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            return (try #require(object["id"] as? String), try #require(object["seq"] as? Int), String(line))
        }
    }

    /// Six cases, eight actions, five feedback records; every expected figure worked out by hand
    /// (on time, late, missed, overdue, age in stage, the oldest open cases, withdrawn left out
    /// of time to agreement, the mean rating).
    @Test(arguments: StoreKind.available) func theSummaryMatchesAHandComputedFixture(store: StoreKind) async throws {
        // "Today" is 2026-03-15.
        let fixture = try await NodeFixture(store: store, now: 1_773_532_800_000)
        func aCase(_ number: UInt64, _ counter: Int, opened: String, status: String, site: String, kind: String?, agreed: String? = nil, closed: String? = nil,
                   stageEntered: String? = nil) throws -> RecordState {
            var changes: [FieldChange] = [.set("reference", .text("MED-\(number)")), .set("title", .text("Case \(number)")), .set("status", .text(status)),
                                          .set("opened", .text(opened)), .set("site", .text(site))]
            if let kind { changes.append(.set("kind", .text(kind))) }
            if let agreed { changes.append(.set("agreed", .text(agreed))) }
            if let closed { changes.append(.set("closed", .text(closed))) }
            if let stageEntered { changes.append(.set("stageEntered", .text(stageEntered))) }
            return try NodeFixture.record(.case, number, counter: counter, changes)
        }
        let c1 = try aCase(1, 1, opened: "2026-01-10", status: "agreement", site: "North", kind: "malpractice", agreed: "2026-01-20",
                           stageEntered: "2026-01-20")                                                                                 // 10 days to agreement; 64 open, 54 in stage
        let c2 = try aCase(2, 2, opened: "2026-01-15", status: "closed", site: "North", kind: "clinical-dispute", agreed: "2026-02-14", closed: "2026-03-01")  // 30, 45
        let c3 = try aCase(3, 3, opened: "2026-02-01", status: "closed", site: "South", kind: "clinical-dispute", agreed: "2026-02-03", closed: "2026-02-11")  // 2, 10
        let c4 = try aCase(4, 4, opened: "2026-02-20", status: "negotiation", site: "South", kind: "other", stageEntered: "2026-03-01")  // 23 open, 14 in stage
        let c5 = try aCase(5, 5, opened: "2025-12-31", status: "intake", site: "East", kind: nil)                                    // 74 open; no stageEntered (an older case)
        let c6 = try aCase(6, 6, opened: "2026-02-05", status: "withdrawn", site: "South", kind: "other", agreed: "2026-02-25")        // withdrawn: not in time to agreement
        func action(_ number: UInt64, _ counter: Int, _ parent: RecordState, due: String, status: String, completed: String? = nil) throws -> RecordState {
            var changes: [FieldChange] = [.set("text", .text("Action \(number)")), .set("due", .text(due)), .set("status", .text(status))]
            if let completed { changes.append(.set("completed", .text(completed))) }
            return try NodeFixture.record(.action, number, in: parent.id, counter: counter, changes)
        }
        let actions = [
            try action(11, 11, c1, due: "2026-02-01", status: "open"),         // overdue by 42 days
            try action(12, 12, c1, due: "2026-04-01", status: "open"),         // not yet due
            try action(13, 13, c2, due: "2026-02-01", status: "met", completed: "2026-01-28"),  // on time
            try action(14, 14, c3, due: "2026-03-01", status: "in-progress"),  // overdue by 14 days
            try action(15, 15, c4, due: "2026-01-01", status: "missed"),       // closed as missed, not overdue
            try action(16, 16, c3, due: "2026-02-05", status: "met", completed: "2026-02-10"),  // late by 5 days
            try action(17, 17, c4, due: "2026-02-15", status: "escalated"),    // missed, re-agreed
            try action(18, 18, c2, due: "2026-02-01", status: "met"),          // met, no completion day: neither on time nor late
        ]
        let feedback = [
            try NodeFixture.record(.feedback, 21, in: c2.id, counter: 21, [.set("rating", .integer(5))]),
            try NodeFixture.record(.feedback, 22, in: c3.id, counter: 22, [.set("rating", .integer(4))]),
            try NodeFixture.record(.feedback, 23, in: c3.id, counter: 23, [.set("rating", .integer(5))]),
            try NodeFixture.record(.feedback, 24, in: c1.id, counter: 24, [.set("submitted", .text("2026-02-01"))]),
            try NodeFixture.record(.feedback, 25, in: c6.id, counter: 25, [.set("rating", .integer(2))]),
        ]
        try await fixture.test { client in
            #expect(try await fixture.push(client, [c1, c2, c3, c4, c5, c6] + actions + feedback, as: "sue-desk").0 == .ok)
            let all = try #require(try JSONSerialization.jsonObject(with: Data(try await get(client, "/v1/report/summary", as: "rita-desk", fixture: fixture).1.utf8)) as? [String: Any])
            let cases = try #require(all["cases"] as? [String: Any])
            #expect(cases["total"] as? Int == 6)
            #expect(cases["byStatus"] as? [String: Int] == ["agreement": 1, "closed": 2, "negotiation": 1, "intake": 1, "withdrawn": 1])
            #expect(cases["bySite"] as? [String: Int] == ["North": 2, "South": 3, "East": 1])
            #expect(cases["byKind"] as? [String: Int] == ["malpractice": 1, "clinical-dispute": 2, "other": 2, "(none)": 1])
            #expect(all["openedPerMonth"] as? [String: Int] == ["2025-12": 1, "2026-01": 2, "2026-02": 3])
            #expect(all["closedPerMonth"] as? [String: Int] == ["2026-02": 1, "2026-03": 1])
            let agreement = try #require(all["timeToAgreement"] as? [String: Any])   // [2, 10, 30]: the withdrawn C6's 20 left out
            #expect(agreement["cases"] as? Int == 3 && agreement["medianDays"] as? Int == 10 && agreement["p90Days"] as? Int == 30)
            let closure = try #require(all["timeToClosure"] as? [String: Any])       // [10, 45]
            #expect(closure["cases"] as? Int == 2 && closure["medianDays"] as? Double == 27.5 && closure["p90Days"] as? Int == 45)
            let actionFigures = try #require(all["actions"] as? [String: Any])
            #expect(actionFigures["total"] as? Int == 8 && actionFigures["overdue"] as? Int == 2)
            #expect(actionFigures["byStatus"] as? [String: Int] == ["open": 2, "met": 3, "in-progress": 1, "missed": 1, "escalated": 1])
            #expect(actionFigures["onTime"] as? Int == 1 && actionFigures["late"] as? Int == 1 && actionFigures["missed"] as? Int == 2)
            #expect(actionFigures["medianDaysLate"] as? Int == 5 && actionFigures["medianDaysOverdue"] as? Int == 28)   // overdue [14, 42]
            let ratings = try #require(all["feedback"] as? [String: Any])
            #expect(ratings["ratings"] as? [String: Int] == ["1": 0, "2": 1, "3": 0, "4": 1, "5": 2] && ratings["total"] as? Int == 4)
            #expect(ratings["meanRating"] as? Int == 4)   // (5 + 4 + 5 + 2) / 4
            let stages = try #require(all["stages"] as? [String: [String: Any]])
            #expect(Set(stages.keys) == ["agreement", "negotiation", "intake"], "open stages only")
            #expect(stages["agreement"]?["cases"] as? Int == 1 && stages["agreement"]?["medianDays"] as? Int == 54 && stages["agreement"]?["maxDays"] as? Int == 54)
            #expect(stages["negotiation"]?["medianDays"] as? Int == 14)
            #expect(stages["intake"]?["cases"] as? Int == 1 && stages["intake"]?["medianDays"] is NSNull, "a case without stageEntered has no age in stage")
            let oldest = try #require(all["oldestOpen"] as? [[String: Any]])
            #expect(oldest.map { $0["reference"] as? String } == ["MED-5", "MED-1", "MED-4"])
            #expect(oldest.map { $0["daysOpen"] as? Int } == [74, 64, 23])
            #expect(oldest.map { $0["daysInStage"] as? Int } == [nil, 54, 14])
            #expect(oldest.allSatisfy { Set($0.keys) == ["id", "reference", "status", "opened", "daysOpen", "daysInStage"] }, "ids and references only, no free text")

            // January openings only: C1 and C2.
            let january = try #require(try JSONSerialization.jsonObject(with: Data(try await get(client, "/v1/report/summary?from=2026-01-01&to=2026-01-31", as: "rita-desk", fixture: fixture).1.utf8)) as? [String: Any])
            #expect((january["cases"] as? [String: Any])?["total"] as? Int == 2)
            let januaryAgreement = try #require(january["timeToAgreement"] as? [String: Any])  // [10, 30]
            #expect(januaryAgreement["medianDays"] as? Int == 20 && januaryAgreement["p90Days"] as? Int == 30)
            #expect((january["actions"] as? [String: Any])?["total"] as? Int == 4 && (january["actions"] as? [String: Any])?["overdue"] as? Int == 1)
            let south = try #require(try JSONSerialization.jsonObject(with: Data(try await get(client, "/v1/report/summary?site=South", as: "rita-desk", fixture: fixture).1.utf8)) as? [String: Any])
            #expect((south["cases"] as? [String: Any])?["total"] as? Int == 3)
            let filters = try #require(south["filters"] as? [String: Any])
            #expect(filters["site"] as? String == "South" && filters["from"] is NSNull && filters["to"] is NSNull, "filters are echoed")
        }
    }
}

/// Collects every log line and its metadata, to prove what logs never contain.
final class LogCapture: LogHandler, @unchecked Sendable {
    // @unchecked Sendable: `lines` is only touched under `lock`.
    private let lock = NSLock()
    private var lines: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lock.lock()
        lines.append("\(event.message) \(event.metadata ?? [:]) \(self.metadata)")
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return lines.joined(separator: "\n")
    }
}

/// The summary's list of the oldest open cases stays bounded, whatever the node holds.
struct OldestOpenTests {
    @Test func atMostTenOfTheOldestOpenCasesAreListedOldestFirst() throws {
        var summary = ReportSummary(from: nil, to: nil, site: nil)
        // Twelve open cases opened 2026-01-12 … 2026-01-01 (newest first), and a closed older one.
        for number in 1...12 {
            let day = String(format: "2026-01-%02d", 13 - number)
            let state = try NodeFixture.record(.case, UInt64(number), counter: number, [.set("reference", .text("MED-\(number)")), .set("title", .text("t")),
                                                                                      .set("status", .text("exploration")), .set("opened", .text(day))])
            let counted = summary.add(case: state, today: "2026-02-01")
            #expect(counted)
        }
        let closed = try NodeFixture.record(.case, 13, counter: 13, [.set("reference", .text("MED-13")), .set("title", .text("t")),
                                                                     .set("status", .text("closed")), .set("opened", .text("2025-06-01"))])
        let closedCounted = summary.add(case: closed, today: "2026-02-01")
        #expect(closedCounted)
        let oldest = summary.answer.oldestOpen
        #expect(oldest.map(\.reference) == (3...12).reversed().map { "MED-\($0)" }, "the ten oldest open cases, oldest first; closed ones are not open")
        #expect(oldest.first?.daysOpen == 31)
        #expect(summary.answer.stages["exploration"]?.cases == 12)
    }
}
