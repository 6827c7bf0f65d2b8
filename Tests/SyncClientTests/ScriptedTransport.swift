import Foundation
import Synchronization
import SyncClient
import SyncModel

/// A transport that answers from a script instead of a network: each request is logged and
/// handed to `answer` with its number (from 1), whose result or error the client receives.
final class ScriptedTransport: HTTPTransport {
    let baseURL = "http://scripted.test"
    private let answer: @Sendable (TransportRequest, Int) async throws -> TransportResponse
    private let log = Mutex<[TransportRequest]>([])
    private let inFlight = Mutex((now: 0, most: 0))

    init(_ answer: @escaping @Sendable (TransportRequest, Int) async throws -> TransportResponse) {
        self.answer = answer
    }

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        let number = log.withLock { log in
            log.append(request)
            return log.count
        }
        inFlight.withLock { $0.now += 1; $0.most = max($0.most, $0.now) }
        defer { inFlight.withLock { $0.now -= 1 } }
        return try await answer(request, number)
    }

    /// Every request received, in order.
    var requests: [TransportRequest] { log.withLock { $0 } }
    /// The most requests that were waiting for an answer at once.
    var mostInFlight: Int { inFlight.withLock { $0.most } }

    // MARK: Answers as the node gives them

    /// The ids of the records a push request carries, in order.
    static func pushedIDs(_ request: TransportRequest) -> [String] {
        guard let body = request.body, let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let records = object["records"] as? [[String: Any]] else { return [] }
        return records.compactMap { $0["id"] as? String }
    }

    /// The records a push request carries, as states.
    static func pushedStates(_ request: TransportRequest) throws -> [RecordState] {
        guard let body = request.body else { return [] }
        return try body.withUnsafeBufferPointer { bytes in try PushEnvelope.decode(bytes).map(\.state) }
    }

    /// A push answer taking every record with the version it carries (or `versions`).
    static func accepted(_ request: TransportRequest, versions: (RecordState) -> VersionVector = { $0.version }) throws -> TransportResponse {
        var writer = CanonicalJSONWriter()
        writer.raw("{\"results\":[")
        for (index, state) in try pushedStates(request).enumerated() {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.raw("{\"conflict\":false,\"id\":")
            writer.recordID(state.id)
            writer.raw(",\"vv\":")
            versions(state).write(to: &writer)
            writer.byte(UInt8(ascii: "}"))
        }
        writer.raw("],\"seq\":1}")
        return TransportResponse(status: 200, headers: ["content-type": "application/json"], body: writer.bytes)
    }

    /// An error answer in the node's shape.
    static func refusal(_ status: Int, code: String, index: Int? = nil, headers: [String: String] = [:]) -> TransportResponse {
        let index = index.map { ",\"index\":\($0)" } ?? ""
        return TransportResponse(status: status, headers: headers, body: Array(#"{"error":{"code":"\#(code)"\#(index),"message":"refused by the script"}}"#.utf8))
    }

    /// A pull page of `states`.
    static func page(_ states: [RecordState], next: Int, more: Bool) -> TransportResponse {
        page(json: states.map { $0.canonicalJSON() }, next: next, more: more)
    }

    /// A pull page of records given as JSON bytes (which need not be valid states).
    static func page(json records: [[UInt8]], next: Int, more: Bool) -> TransportResponse {
        var writer = CanonicalJSONWriter()
        writer.raw("{\"more\":")
        writer.boolean(more)
        writer.raw(",\"next\":")
        writer.integer(next)
        writer.raw(",\"records\":[")
        for (index, record) in records.enumerated() {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.json(record)
        }
        writer.raw("]}")
        return TransportResponse(status: 200, headers: ["content-type": "application/json"], body: writer.bytes)
    }

    static var emptyPage: TransportResponse { page([], next: 0, more: false) }
}
