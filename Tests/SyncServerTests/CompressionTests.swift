import CompressNIO
import Foundation
import Hummingbird
import HummingbirdTesting
import SyncModel
import Testing

/// gzip both ways, with the body limit applied to the inflated size.
struct CompressionTests {
    @Test func gzipPushesAreAcceptedAndPullsServedCompressed() async throws {
        let fixture = try await NodeFixture()
        let states = try (1...20).map { try NodeFixture.caseState(UInt64($0), by: "sue-desk", counter: $0) }
        var plain = NodeFixture.pushBody(states)
        let compressed = try plain.compress(with: .gzip())
        try await fixture.test { client in
            try await client.execute(uri: "/v1/sync/push", method: .post,
                                     headers: [.authorization: fixture.credentials["sue-desk"] ?? "", .contentEncoding: "gzip"], body: compressed) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/v1/sync/pull", method: .get,
                                     headers: [.authorization: fixture.credentials["sue-desk"] ?? "", .acceptEncoding: "gzip"]) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentEncoding] == "gzip")
                var body = response.body
                let inflated = try body.decompress(with: .gzip())
                let page = try NodeFixture.object(inflated)
                #expect((page["records"] as? [Any])?.count == 20)
            }
        }
    }

    @Test func aGzipBombIsRefusedAsTooLargeAndCorruptGzipAsBadRequest() async throws {
        let fixture = try await NodeFixture(maxBodyBytes: 64 << 10)
        var bomb = ByteBuffer(string: #"{"records":[""# + String(repeating: " ", count: 2 << 20) + "]}")
        let compressedBomb = try bomb.compress(with: .gzip())
        #expect(compressedBomb.readableBytes < 64 << 10, "small on the wire")
        try await fixture.test { client in
            let headers: HTTPFields = [.authorization: fixture.credentials["sue-desk"] ?? "", .contentEncoding: "gzip"]
            try await client.execute(uri: "/v1/sync/push", method: .post, headers: headers, body: compressedBomb) { response in
                #expect(response.status == .contentTooLarge)
            }
            try await client.execute(uri: "/v1/sync/push", method: .post, headers: headers, body: ByteBuffer(string: "not gzip at all")) { response in
                #expect(response.status == .badRequest)
            }
            // Two members: the second (another record) would be dropped silently by a reader
            // that stops at the first. One member, whole, or nothing.
            var first = NodeFixture.pushBody([try NodeFixture.caseState(1, by: "sue-desk", counter: 1)])
            var second = NodeFixture.pushBody([try NodeFixture.caseState(2, by: "sue-desk", counter: 2)])
            var twoMembers = try first.compress(with: .gzip())
            var secondMember = try second.compress(with: .gzip())
            twoMembers.writeBuffer(&secondMember)
            try await client.execute(uri: "/v1/sync/push", method: .post, headers: headers, body: twoMembers) { response in
                let answer = try NodeFixture.object(response.body)
                #expect(response.status == .badRequest && NodeFixture.errorCode(answer) == "malformed_gzip", "\(answer)")
            }
        }
        #expect(try await fixture.store.recordCount() == 0)
    }
}
