import Testing
@testable import SyncModel

/// Invalid states are refused whole, with an error code naming the problem.
struct ValidationTests {
    static let id = "0192f0c4-7d3e-7a41-9b2c-000000000001"

    static func state(fields: String, vv: String = #"{"a":2}"#, type: String = "case", extra: String = "") -> [UInt8] {
        Array(#"{"fields":{\#(fields)},"id":"\#(id)","type":"\#(type)","vv":\#(vv)\#(extra)}"#.utf8)
    }

    @Test("invalid states are rejected with typed errors", arguments: [
        (#""title":[{"at":1,"dot":["a",3],"value":"x"}]"#, #"{"a":2}"#, "case", ModelError.Code.dotAboveVersion),
        (#""title":[{"at":1,"dot":["b",1],"value":"x"}]"#, #"{"a":2}"#, "case", .dotAboveVersion),
        (#""title":[{"at":1,"dot":["a",0],"value":"x"}]"#, #"{"a":2}"#, "case", .invalidCounter),
        (#""title":[]"#, #"{"a":2}"#, "case", .invalidValue),
        (#""title":[{"at":1,"dot":["a",1],"value":"x"}]"#, #"{"a":0}"#, "case", .invalidCounter),
        (#""title":[{"at":1,"dot":["a",1],"value":"x"},{"at":1,"dot":["a",1],"value":"y"}]"#, #"{"a":2}"#, "case", .duplicateDot),
        (#""colour":[{"at":1,"dot":["a",1],"value":"x"}]"#, #"{"a":2}"#, "case", .unknownField),
        (#""mediators":[{"at":1,"dot":["a",1],"value":"ann"}]"#, #"{"a":2}"#, "case", .wrongFieldKind),
        (#""title":{"ann":[{"at":1,"dot":["a",1]}]}"#, #"{"a":2}"#, "case", .wrongFieldKind),
        (#""title":[{"at":1,"dot":["a",1],"value":7}]"#, #"{"a":2}"#, "case", .wrongValueType),
        (#""status":[{"at":1,"dot":["a",1],"value":"paused"}]"#, #"{"a":2}"#, "case", .invalidValue),
        (#""opened":[{"at":1,"dot":["a",1],"value":"2026-13-01"}]"#, #"{"a":2}"#, "case", .invalidValue),
        (#""rating":[{"at":1,"dot":["a",1],"value":6}]"#, #"{"a":2}"#, "feedback", .invalidValue),
        (#""case":[{"at":1,"dot":["a",1],"value":"MED-1"}]"#, #"{"a":2}"#, "note", .invalidValue),
        (#""title":[{"at":1,"dot":["a",1],"value":"x"}]"#, #"{"a":2}"#, "dossier", .unknownType),
        (#""title":[{"at":1,"dot":["a",1],"value":"x"}]"#, #"{"A":2}"#, "case", .invalidDeviceID),
    ])
    func rejected(fields: String, vv: String, type: String, code: ModelError.Code) {
        #expect { try RecordState(json: Self.state(fields: fields, vv: vv, type: type)) } throws: {
            ($0 as? ModelError)?.code == code
        }
    }

    /// Validation scans text by words of eight bytes and the tail after them; a control
    /// character is found at any position of values of every length around a word.
    @Test("a control character anywhere in text is refused; a line break only in multiline text")
    func controlCharactersAreFoundAnywhere() throws {
        for length in 1...20 {
            for position in 0..<length {
                for (escape, isLineBreak) in [(#"\u0001"#, false), (#"\u007f"#, false), (#"\n"#, true), (#"\t"#, true)] {
                    var characters = Array(repeating: "a", count: length)
                    characters[position] = escape
                    let value = characters.joined()
                    for (field, multiline) in [("title", false), ("objectives", true)] {
                        let bytes = Self.state(fields: #""\#(field)":[{"at":1,"dot":["a",1],"value":"\#(value)"}]"#)
                        if multiline && isLineBreak {
                            #expect(throws: Never.self, "\(field): \(value)") { try RecordState(json: bytes) }
                        } else {
                            #expect("\(field): \(value)") { try RecordState(json: bytes) } throws: { ($0 as? ModelError)?.code == .invalidValue }
                        }
                    }
                }
            }
            let plain = Self.state(fields: #""title":[{"at":1,"dot":["a",1],"value":"\#(String(repeating: "a", count: length))"}]"#)
            #expect(throws: Never.self) { try RecordState(json: plain) }
        }
    }

    @Test func aTombstoneMustHaveSeenItsOwnWrite() {
        let bytes = Array(#"{"deleted":[{"at":1,"dot":["a",2],"seen":{"a":1},"value":true}],"fields":{},"id":"\#(Self.id)","type":"case","vv":{"a":2}}"#.utf8)
        #expect { try RecordState(json: bytes) } throws: { ($0 as? ModelError)?.code == .dotAboveVersion }
    }

    @Test func aCompleteRecordNeedsItsRequiredFields() throws {
        let partial = try RecordState(json: Self.state(fields: #""title":[{"at":1,"dot":["a",1],"value":"x"}]"#))
        try partial.validate(requireComplete: false)
        #expect { try partial.validate() } throws: { ($0 as? ModelError)?.code == .missingField && ($0 as? ModelError)?.field == "reference" }
    }

    @Test func aNodeRefusesForeignDotsRegressingCountersAndEquivocation() throws {
        let stored = try Fixtures.newCase(by: "ann-laptop", counter: 3)

        var forged = stored
        try forged.set("title", .text("forged"), stamp: Fixtures.stamp("bob-laptop", 1))
        #expect { try forged.checkIntroduction(by: Fixtures.device("ann-laptop"), over: stored) } throws: { ($0 as? ModelError)?.code == .foreignDot }
        try forged.checkIntroduction(by: Fixtures.device("bob-laptop"), over: stored)

        let older = try Fixtures.newCase(by: "ann-laptop", counter: 2)
        #expect { try older.checkIntroduction(by: Fixtures.device("ann-laptop"), over: stored) } throws: { ($0 as? ModelError)?.code == .counterRegression }

        let rewritten = try Fixtures.newCase(by: "ann-laptop", counter: 3, title: "Another title under the same dot")
        #expect { try rewritten.checkIntroduction(by: Fixtures.device("ann-laptop"), over: stored) } throws: { ($0 as? ModelError)?.code == .equivocation }

        var honest = stored
        try honest.set("site", .text("North"), stamp: Fixtures.stamp("ann-laptop", 4))
        try honest.checkIntroduction(by: Fixtures.device("ann-laptop"), over: stored)
        try honest.checkIntroduction(by: Fixtures.device("ann-laptop"), over: nil)
    }

    @Test func mergingDifferentRecordsIsRefused() throws {
        let one = try Fixtures.newCase(1)
        let two = try Fixtures.newCase(2)
        #expect { try one.merged(with: two) } throws: { ($0 as? ModelError)?.code == .identityMismatch }
    }

    @Test("dates and timestamps are checked against the calendar", arguments: [
        ("2024-02-29", true), ("2023-02-29", false), ("2026-04-31", false), ("2026-12-31", true), ("26-12-31", false), ("2026-1-01", false),
    ])
    func dates(text: String, valid: Bool) {
        #expect(CalendarText.isDate(text) == valid)
    }

    @Test("timestamps", arguments: [
        ("2026-11-22T14:02:00Z", true), ("2026-11-22T14:02:00.123+01:00", true), ("2026-11-22T24:00:00Z", false),
        ("2026-11-22T14:02Z", false), ("2026-11-22 14:02:00Z", false), ("2026-11-22T14:02:00", false),
    ])
    func timestamps(text: String, valid: Bool) {
        #expect(CalendarText.isTimestamp(text) == valid)
    }
}
