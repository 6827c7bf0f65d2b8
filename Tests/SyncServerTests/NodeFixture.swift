import Foundation
import Hummingbird
import Logging
import HummingbirdTesting
import NodeStorage
import SyncModel
import SyncServer
import SyncStore
import Testing

/// A sync node in memory with users of every role, each with one enrolled device, and
/// helpers to build record states and call the routes.
struct NodeFixture {
    let node: SyncNode
    /// The node's store, for setting up and inspecting what it holds.
    let store: any NodeStore
    /// The same store when it is SQLite's (for the tests of SQLite's own API), else nil.
    let sqlite: SQLiteNodeStore?
    let configuration: NodeConfiguration
    /// `Authorization` header values by device id.
    var credentials: [String: String] = [:]
    let time: Int64 = 1_795_000_000_000

    static let users: [(user: String, role: Role, device: String)] = [
        ("ann", .mediator, "ann-laptop"), ("bob", .mediator, "bob-laptop"), ("sue", .supervisor, "sue-desk"),
        ("rita", .reporter, "rita-desk"), ("adam", .admin, "adam-desk"),
    ]

    init(store kind: StoreKind = .sqlite, maxBodyBytes: Int = 1 << 20, maxPageSize: Int = 2_000, maxInFlight: Int = 512, now: Int64? = nil, logger: Logger? = nil) async throws {
        try await self.init(using: kind.makeStore(), maxBodyBytes: maxBodyBytes, maxPageSize: maxPageSize, maxInFlight: maxInFlight, now: now, logger: logger)
    }

    /// A node over `made`, a new, empty store.
    init(using made: any NodeStore, maxBodyBytes: Int = 1 << 20, maxPageSize: Int = 2_000, maxInFlight: Int = 512, now: Int64? = nil, logger: Logger? = nil) async throws {
        let clock: @Sendable () -> Int64
        if let now {
            clock = { now }
        } else {
            clock = { Int64(Date().timeIntervalSince1970 * 1000) }
        }
        store = made
        sqlite = made as? SQLiteNodeStore
        node = try await SyncNode(store: made, logger: logger ?? Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }, now: clock)
        configuration = NodeConfiguration(maxBodyBytes: maxBodyBytes, maxPageSize: maxPageSize, maxInFlight: maxInFlight)
        for entry in Self.users {
            _ = try await made.addUser(entry.user, role: entry.role, at: time)
            let token = try await node.makeEnrollmentToken(for: entry.user, ttl: 3600)
            let enrollment = try await node.enroll(token: token, device: try DeviceID(entry.device), name: entry.device)
            credentials[entry.device] = "Bearer \(entry.device):\(enrollment.secret)"
        }
    }

    var router: Router<NodeRequestContext> { buildRouter(node: node, configuration: configuration) }

    func test<Value>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let app = Application(router: router)
        return try await app.test(.router, body)
    }

    // MARK: Records

    static func caseState(_ number: UInt64, by device: String, counter: Int, title: String = "A case", mediators: [String] = []) throws -> RecordState {
        var state = RecordState(type: .case, id: RecordID(high: 0x0192_f0c4_7d3e_7a41, low: 0x9b2c_0000_0000_0000 | number))
        try state.apply([.set("reference", .text("MED-2026-\(number)")), .set("title", .text(title)), .set("status", .text("intake"))]
                        + mediators.map { .add("mediators", $0) },
                        stamp: Stamp(device: try DeviceID(device), counter: counter, time: 1_795_000_000_000 + Int64(counter)))
        return state
    }

    static func note(_ number: UInt64, in caseID: RecordID, by device: String, counter: Int, text: String = "a confidential note") throws -> RecordState {
        var state = RecordState(type: .note, id: RecordID(high: 0x0192_f0c4_7d3e_7a41, low: 0x9b2c_1000_0000_0000 | number))
        try state.apply([.set("case", .text(caseID.rawValue)), .set("text", .text(text))],
                        stamp: Stamp(device: try DeviceID(device), counter: counter, time: 1_795_000_000_000 + Int64(counter)))
        return state
    }

    /// A record of `type` in `caseID` (nil for a case) with `changes`, written by `device`.
    static func record(_ type: RecordType, _ number: UInt64, in caseID: RecordID? = nil, by device: String = "sue-desk", counter: Int, _ changes: [FieldChange]) throws -> RecordState {
        var state = RecordState(type: type, id: RecordID(high: 0x0192_f0c4_7d3e_7a41, low: 0x9b2c_2000_0000_0000 | number))
        try state.apply((caseID.map { [.set("case", .text($0.rawValue))] } ?? []) + changes,
                        stamp: Stamp(device: try DeviceID(device), counter: counter, time: 1_795_000_000_000 + Int64(counter)))
        return state
    }

    static func pushBody(_ states: [RecordState]) -> ByteBuffer {
        var writer = CanonicalJSONWriter()
        writer.raw("{\"records\":[")
        for (index, state) in states.enumerated() {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            state.write(to: &writer)
        }
        writer.raw("]}")
        return ByteBuffer(bytes: writer.bytes)
    }

    // MARK: Calls

    func push(_ client: any TestClientProtocol, _ states: [RecordState], as device: String) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(uri: "/v1/sync/push", method: .post, headers: [.authorization: credentials[device] ?? ""], body: Self.pushBody(states)) { response in
            (response.status, try Self.object(response.body))
        }
    }

    func pull(_ client: any TestClientProtocol, as device: String, since: Int = 0, after: Int? = nil, limit: Int = 500) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.execute(uri: "/v1/sync/pull?since=\(since)&limit=\(limit)" + (after.map { "&after=\($0)" } ?? ""), method: .get, headers: [.authorization: credentials[device] ?? ""]) { response in
            (response.status, try Self.object(response.body))
        }
    }

    /// Every record id a device receives by pulling until `more` is false, the final cursor,
    /// and the size of each page.
    func pullAll(_ client: any TestClientProtocol, as device: String, since: Int = 0, limit: Int = 500) async throws -> (ids: [String], next: Int, raw: String, pages: [Int], drops: [String]) {
        var cursor = since
        var after: Int?
        var ids: [String] = []
        var raw = ""
        var pages: [Int] = []
        var drops: [String] = []
        while true {
            let (status, page) = try await pull(client, as: device, since: cursor, after: after, limit: limit)
            #expect(status == .ok)
            let records = page["records"] as? [[String: Any]] ?? []
            ids += records.compactMap { $0["id"] as? String }
            // "reason case" for a whole case, "reason case record" for one record.
            drops += (page["drop"] as? [[String: Any]] ?? []).map { drop in
                ([drop["reason"], drop["case"], drop["id"]].compactMap { $0 as? String }).joined(separator: " ")
            }
            pages.append(records.count)
            raw += (try? String(data: JSONSerialization.data(withJSONObject: records), encoding: .utf8)) ?? ""
            cursor = page["next"] as? Int ?? cursor
            after = page["after"] as? Int
            if page["more"] as? Bool != true { break }
        }
        return (ids, cursor, raw, pages, drops)
    }

    static func object(_ buffer: ByteBuffer) throws -> [String: Any] {
        (try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any]) ?? [:]
    }

    static func errorCode(_ object: [String: Any]) -> String? {
        (object["error"] as? [String: Any])?["code"] as? String
    }
}
