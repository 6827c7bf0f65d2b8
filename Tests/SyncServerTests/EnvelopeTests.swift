import Foundation
import Hummingbird
import HummingbirdTesting
import NodeStorage
import SyncModel
import SyncProtocol
import Testing

/// The envelopes' bytes, written out: keys sorted, every documented key present (`null`
/// where a figure is undefined), whole numbers written as such.
struct EnvelopeTests {
    @Test func anEmptySummaryHasEveryKeyWithNulls() {
        let bytes = WireJSON.encode(ReportSummary(from: nil, to: nil, site: nil).answer)
        #expect(String(decoding: bytes, as: UTF8.self) == #"""
            {"actions":{"byStatus":{},"late":0,"medianDaysLate":null,"medianDaysOverdue":null,"missed":0,"onTime":0,"overdue":0,"total":0},"cases":{"byKind":{},"bySite":{},"byStatus":{},"total":0},"closedPerMonth":{},"feedback":{"meanRating":null,"ratings":{"1":0,"2":0,"3":0,"4":0,"5":0},"total":0},"filters":{"from":null,"site":null,"to":null},"oldestOpen":[],"openedPerMonth":{},"stages":{},"timeToAgreement":{"cases":0,"medianDays":null,"p90Days":null},"timeToClosure":{"cases":0,"medianDays":null,"p90Days":null}}
            """#)
    }

    @Test func aMedianIsWholeWhenItIsAndDecimalWhenItIsNot() throws {
        let whole = SummaryAnswer.Timing(cases: 3, medianDays: 12, p90Days: 20)
        let half = SummaryAnswer.Timing(cases: 2, medianDays: 12.5, p90Days: 13)
        #expect(String(decoding: WireJSON.encode(whole), as: UTF8.self) == #"{"cases":3,"medianDays":12,"p90Days":20}"#)
        #expect(String(decoding: WireJSON.encode(half), as: UTF8.self) == #"{"cases":2,"medianDays":12.5,"p90Days":13}"#)
        #expect(try WireJSON.decode(SummaryAnswer.Timing.self, from: WireJSON.encode(half)) == half)
        // The new figures decode back as the client reads them (null medians included).
        let empty = ReportSummary(from: nil, to: nil, site: "North").answer
        #expect(try WireJSON.decode(SummaryAnswer.self, from: WireJSON.encode(empty)) == empty)
    }

    @Test func anErrorNamesItsRecordOnlyWhenThereIsOne() {
        #expect(String(decoding: WireJSON.encode(ErrorAnswer(NodeError(.foreignDot, "record 3: no", index: 3))), as: UTF8.self)
                == #"{"error":{"code":"foreign_dot","index":3,"message":"record 3: no"}}"#)
        #expect(String(decoding: WireJSON.encode(ErrorAnswer(NodeError(.busy, "later"))), as: UTF8.self)
                == #"{"error":{"code":"busy","message":"later"}}"#)
    }

    @Test func anEnrollmentWithAKeyOfNoMeaningIsRefused() throws {
        let good = Array(#"{"device":"ann-phone","name":"Ann's phone","token":"t"}"#.utf8)
        #expect(try WireJSON.decode(EnrollRequest.self, from: good) == EnrollRequest(device: "ann-phone", name: "Ann's phone", token: "t"))
        #expect(throws: DecodingError.self) { try WireJSON.decode(EnrollRequest.self, from: Array(#"{"devcie":"x","device":"ann-phone","name":"n","token":"t"}"#.utf8)) }
        #expect(throws: DecodingError.self) { try WireJSON.decode(EnrollRequest.self, from: Array(#"{"device":"ann-phone","token":"t"}"#.utf8)) }
    }
}

/// A push refused while it is read names the record, by its position in the batch.
struct PushIndexTests {
    @Test func aRecordThatDoesNotReadIsNamedByItsIndex() async throws {
        let fixture = try await NodeFixture()
        let good = try NodeFixture.caseState(1, by: "sue-desk", counter: 1)
        let other = try NodeFixture.caseState(2, by: "sue-desk", counter: 2)
        let spaceship = String(decoding: try NodeFixture.caseState(3, by: "sue-desk", counter: 3).canonicalJSON(), as: UTF8.self)
            .replacingOccurrences(of: "\"type\":\"case\"", with: "\"type\":\"spaceship\"")
        let body = "{\"records\":[" + String(decoding: good.canonicalJSON(), as: UTF8.self) + "," + spaceship + ","
            + String(decoding: other.canonicalJSON(), as: UTF8.self) + "]}"
        let (status, answer) = try await fixture.test { client in
            try await client.execute(uri: "/v1/sync/push", method: .post, headers: [.authorization: fixture.credentials["sue-desk"] ?? ""],
                                     body: ByteBuffer(string: body)) { response in (response.status, try NodeFixture.object(response.body)) }
        }
        #expect(status == .unprocessableContent)
        #expect(NodeFixture.errorCode(answer) == "unknown_type")
        #expect((answer["error"] as? [String: Any])?["index"] as? Int == 1)
        #expect(try await fixture.store.recordCount() == 0, "nothing of the batch is stored")
    }
}
