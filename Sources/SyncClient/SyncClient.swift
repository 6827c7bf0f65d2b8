import Foundation
import SyncModel
import SyncProtocol

/// The device's side of the `/v1` protocol over an `HTTPTransport` (libcurl by default):
/// enroll, push, pull, with retries on connection failures, timeouts, 5xx and 429, and none
/// on other answers.
public struct SyncClient: Sendable {
    /// How requests reach the node.
    public let transport: any HTTPTransport
    /// When an exchange that got no usable answer is tried again.
    public let retry: RetryPolicy
    let authorization: String?

    /// A client for a server; `device` and `secret` are needed for push and pull.
    public init(server: String, caFile: String? = nil, device: DeviceID? = nil, secret: String? = nil,
                retry: RetryPolicy = RetryPolicy(), timeout: Duration = .seconds(120)) throws {
        guard server.hasPrefix("http://") || server.hasPrefix("https://") else {
            throw SyncError(.badInput, "server address \(server.prefix(60)) must start with https:// (or http:// for a local test node)")
        }
        self.init(transport: try CurlTransport(baseURL: server, caFile: caFile, timeout: timeout), device: device, secret: secret, retry: retry)
    }

    /// A client over `transport` (tests give an in-process or scripted one).
    public init(transport: any HTTPTransport, device: DeviceID? = nil, secret: String? = nil, retry: RetryPolicy = RetryPolicy()) {
        self.transport = transport
        self.retry = retry
        authorization = device.flatMap { device in secret.map { "Bearer \(device.rawValue):\($0)" } }
    }

    /// What enrollment returns.
    public struct Enrollment: Sendable, Equatable {
        /// This device's id, as the node bound it.
        public let device: DeviceID
        /// The device secret for `Authorization: Bearer DEVICE:SECRET`; the node keeps only its hash.
        public let secret: String
        /// The user the device acts for.
        public let user: String
        /// That user's role: `mediator`, `supervisor`, `reporter` or `admin`.
        public let role: String
        /// The device's offline lease in seconds (PROTOCOL.md §19); nil from an older node.
        public let lease: Int?
    }

    /// Redeems the one-time enrollment `token` for `device`, named `name` (`POST /v1/enroll`; needs no
    /// credentials). A refused token throws `SyncError` of kind `.unauthorised` (401 `refused`).
    public func enroll(token: String, device: DeviceID, name: String) async throws -> Enrollment {
        let request = WireJSON.encode(EnrollRequest(device: device.rawValue, name: name, token: token))
        let (answer, _): (EnrollAnswer, _) = try await exchange(TransportRequest(.post, "/v1/enroll", body: request)) { body in
            do {
                return try WireJSON.decode(EnrollAnswer.self, from: body)
            } catch {
                throw SyncError(.protocolViolation, "the server's enrollment answer lacks device, secret, user or role")
            }
        }
        guard answer.device == device.rawValue else {
            throw SyncError(.protocolViolation, "the server enrolled another device (\(answer.device.prefix(40))) than this one")
        }
        return Enrollment(device: device, secret: answer.secret, user: answer.user, role: answer.role, lease: answer.lease)
    }

    /// One pushed record's answer.
    public struct PushAnswer: Sendable, Equatable {
        /// The pushed record's id.
        public let id: RecordID
        /// The record's merged version vector on the node (`vv`): the outbox entry is cleared only if
        /// it has seen the local version.
        public let version: VersionVector
        /// Whether the merged record holds a conflict.
        public let conflict: Bool
    }

    /// What every answer says about the node: its generation id (nil from a node older than
    /// generations) and whether its restore window is open.
    public struct NodeState: Sendable, Equatable {
        /// The node's generation id (`CaseSync-Generation`); nil from a node older than generations.
        public let generation: String?
        /// Whether the node's restore window is open (`CaseSync-Restoring: 1`).
        public let restoring: Bool
        /// The node's directory version (`CaseSync-Directory`, on pull answers); nil from a
        /// node older than the directory.
        public let directory: String?

        init(_ headers: [String: String]) {
            generation = headers["casesync-generation"]
            restoring = headers["casesync-restoring"] == "1"
            directory = headers["casesync-directory"]
        }
    }

    /// A push's answer: one result per record, and the node's state.
    public struct PushReply: Sendable {
        /// One answer per pushed record, in the order sent.
        public let answers: [PushAnswer]
        /// What the answer's headers say about the node.
        public let node: NodeState
    }

    /// Pushes `states` (`POST /v1/sync/push`) as their canonical JSON; see `push(canonical:)`.
    public func push(_ states: [RecordState]) async throws -> PushReply {
        try await push(canonical: states.map { $0.canonicalJSON() })
    }

    /// Pushes states given as their canonical JSON (as the store keeps them), unchanged.
    public func push(canonical states: [[UInt8]]) async throws -> PushReply {
        var writer = CanonicalJSONWriter(capacity: states.reduce(16) { $0 + $1.count + 1 })
        writer.raw("{\"records\":[")
        for (index, state) in states.enumerated() {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.json(state)
        }
        writer.raw("]}")
        let (answers, node): ([PushAnswer], _) = try await exchange(TransportRequest(.post, "/v1/sync/push", headers: credentials(), body: writer.bytes)) { body in
        var answers: [PushAnswer] = []
        try Self.decode(body) { reader throws(ModelError) in
            try reader.readObject { reader, key throws(ModelError) in
                guard key == "results" else { try reader.skipValue(); return }
                try reader.readArray { reader throws(ModelError) in
                    var id: RecordID?
                    var version: VersionVector?
                    var conflict = false
                    try reader.readObject { reader, key throws(ModelError) in
                        switch key {
                        case "id": id = try reader.readRecordID()
                        case "vv": version = try VersionVector.read(from: &reader)
                        case "conflict": conflict = try reader.readBoolean()
                        default: try reader.skipValue()
                        }
                    }
                    guard let id, let version else { throw reader.error("a push result needs id and vv") }
                    answers.append(PushAnswer(id: id, version: version, conflict: conflict))
                }
            }
        }
        return answers
        }
        guard answers.count == states.count else {
            throw SyncError(.protocolViolation, "the server answered \(answers.count) results for \(states.count) records")
        }
        return PushReply(answers: answers, node: node)
    }

    /// One page of a pull, decoded but not yet validated (the store validates what it
    /// merges), each state with its bytes when they arrived canonical.
    public struct Page: Sendable {
        /// The page's records in delivery order.
        public let states: [ReceivedState]
        /// Where the next pull starts.
        public let next: PullCursor
        /// Whether the node holds more records after this page: pull again from `next`.
        public let more: Bool
        /// What this device must drop before it merges `states` (its user lost the right).
        public var drops: [DropNotice] = []
        /// Restricted cases this device's supervisor may not hold, as their metadata.
        public var metadata: [CaseMetadata] = []
        /// Break-glass grants this device is told of.
        public var grants: [AccessGrant] = []
        /// The node's state: a new generation means the node was restored and this page's
        /// cursor belongs to it, not to ours. Nil until the page is received.
        public let node: NodeState?
    }

    /// One page of at most `limit` records after `since` (`GET /v1/sync/pull`; the node allows up to
    /// 2,000). A cursor that goes backwards is a `protocolViolation`.
    public func pull(since: PullCursor, limit: Int = 500) async throws -> Page {
        var path = "/v1/sync/pull?since=\(since.delivery)&limit=\(limit)"
        if let after = since.after { path += "&after=\(after)" }
        let (page, node): (Page, _) = try await exchange(TransportRequest(.get, path, headers: credentials())) { body in
        var states: [ReceivedState] = []
        var next = since.delivery
        var after: Int?
        var more = false
        var drops: [DropNotice] = []
        var metadata: [CaseMetadata] = []
        var grants: [AccessGrant] = []
        try Self.decode(body) { reader throws(ModelError) in
            try reader.readObject { reader, key throws(ModelError) in
                switch key {
                // Validated where they are merged (`ReplicaStore.merge`), not twice.
                case "records": try reader.readArray { reader throws(ModelError) in states.append(try RecordState.readReceived(from: &reader, validate: false)) }
                case "next": next = try reader.readInteger()
                case "after": after = try reader.readInteger()
                case "more": more = try reader.readBoolean()
                case "drop": try reader.readArray { reader throws(ModelError) in drops.append(try Self.readDrop(from: &reader)) }
                case "meta": try reader.readArray { reader throws(ModelError) in metadata.append(try Self.readMetadata(from: &reader)) }
                case "access": try reader.readArray { reader throws(ModelError) in grants.append(try Self.readGrant(from: &reader)) }
                default: try reader.skipValue()
                }
            }
        }
        return Page(states: states, next: PullCursor(delivery: next, after: after), more: more, drops: drops, metadata: metadata, grants: grants, node: nil)
        }
        guard page.next >= since else { throw SyncError(.protocolViolation, "the server's cursor went backwards (\(page.next) < \(since))") }
        return Page(states: page.states, next: page.next, more: page.more, drops: page.drops, metadata: page.metadata, grants: page.grants, node: node)
    }

    /// One entry of a page's `meta` list: `{"case":…, "deleted":…, "fields":{…}, "seq":…}`,
    /// only the fields `CaseMetadata.fields` names kept.
    static func readMetadata(from reader: inout JSONReader) throws(ModelError) -> CaseMetadata {
        var caseID: RecordID?
        var deleted = false
        var seq = 0
        var values: [String: String] = [:]
        try reader.readObject { reader, key throws(ModelError) in
            switch key {
            case "case": caseID = try reader.readRecordID()
            case "deleted": deleted = try reader.readBoolean()
            case "seq": seq = try reader.readInteger()
            case "fields":
                try reader.readObject { reader, field throws(ModelError) in
                    let value = try reader.readString()
                    if CaseMetadata.fields.contains(field) { values[field] = value }
                }
            default: try reader.skipValue()
            }
        }
        guard let caseID else { throw ModelError(.missingField, "case metadata names no case", field: "case") }
        return CaseMetadata(caseID: caseID, seq: seq, deleted: deleted, values: values)
    }

    /// One entry of a page's `access` list (an `AccessAnswer`).
    static func readGrant(from reader: inout JSONReader) throws(ModelError) -> AccessGrant {
        var caseID: RecordID?
        var user = ""
        var reason = ""
        var granted: Int64 = 0
        var until: Int64 = 0
        var seq = 0
        try reader.readObject { reader, key throws(ModelError) in
            switch key {
            case "case": caseID = try reader.readRecordID()
            case "user": user = try reader.readString()
            case "reason": reason = try reader.readString()
            case "granted": granted = Int64(try reader.readInteger())
            case "until": until = Int64(try reader.readInteger())
            case "seq": seq = try reader.readInteger()
            default: try reader.skipValue()
            }
        }
        guard let caseID else { throw ModelError(.missingField, "a break-glass grant names no case", field: "case") }
        return AccessGrant(caseID: caseID, user: user, reason: reason, granted: granted, until: until, seq: seq)
    }

    /// Asks the node for break-glass access to case `caseID` (its id or reference) for
    /// `seconds` (24 hours when nil), giving `reason` (`POST /v1/access`; supervisors only).
    public func requestAccess(to caseID: String, reason: String, seconds: Int64?) async throws -> AccessGrant {
        let body = WireJSON.encode(AccessRequest(case: caseID, reason: reason, seconds: seconds))
        return try await exchange(TransportRequest(.post, "/v1/access", headers: credentials(), body: body)) { body in
            do {
                let answer = try WireJSON.decode(AccessAnswer.self, from: body)
                return AccessGrant(caseID: try RecordID(answer.case), user: answer.user, reason: answer.reason, granted: answer.granted, until: answer.until, seq: answer.seq)
            } catch {
                throw SyncError(.protocolViolation, "unreadable answer to an access request from the server (\(body.count) bytes)")
            }
        }.value
    }

    /// One entry of a page's `drop` list: `{"case":…, "id":…, "reason":…, "seq":…}` (`id` only
    /// for a single record). A reason this device does not know is still a drop: the node
    /// decides what a device may hold.
    static func readDrop(from reader: inout JSONReader) throws(ModelError) -> DropNotice {
        var caseID: RecordID?
        var record: RecordID?
        var reason = DropReason.mediatorRemoved
        var seq = 0
        try reader.readObject { reader, key throws(ModelError) in
            switch key {
            case "case": caseID = try reader.readRecordID()
            case "id": record = try reader.readRecordID()
            case "reason": reason = DropReason(rawValue: try reader.readString()) ?? .mediatorRemoved
            case "seq": seq = try reader.readInteger()
            default: try reader.skipValue()
            }
        }
        guard let caseID else { throw ModelError(.missingField, "a drop names no case", field: "case") }
        return DropNotice(seq: seq, caseID: caseID, record: record, reason: reason)
    }

    /// The node's directory of devices, users and sites as this device may see it
    /// (PROTOCOL.md §15): its JSON as the node sent it, undecoded (`WireJSON.decode(NodeDirectory.self, …)`
    /// reads it), with its version. A sync stores it so: decoding it costs more than the rest
    /// of a small sync, and a sync needs none of it; the CLI decodes it when it shows a name
    /// or checks a value.
    public func directoryJSON() async throws -> (json: [UInt8], version: String?) {
        let (bytes, node) = try await exchange(TransportRequest(.get, "/v1/directory", headers: credentials())) { body in
            guard body.first == UInt8(ascii: "{"), body.last == UInt8(ascii: "}") else {
                throw SyncError(.protocolViolation, "unreadable directory from the server (\(body.count) bytes)")
            }
            return body
        }
        return (bytes, node.directory)
    }

    /// Tells the node this device erased its case data as it asked (`POST /v1/device/wiped`);
    /// the node then refuses the device like a revoked one.
    public func confirmWipe() async throws {
        _ = try await exchange(TransportRequest(.post, "/v1/device/wiped", headers: credentials(), body: Array("{}".utf8))) { $0 }
    }

    /// Redacted records after `since` as NDJSON or CSV bytes (reporter, supervisor, admin).
    public func export(format: String, type: String?, since: Int) async throws -> [UInt8] {
        var path = "/v1/export?format=\(format)&since=\(since)"
        if let type { path += "&type=\(type)" }
        return try await exchange(TransportRequest(.get, path, headers: credentials())) { $0 }.value
    }

    /// The outcome summary (Protocol/PROTOCOL.md section 11), with the bytes the node sent.
    public func summary(query: String) async throws -> (summary: SummaryAnswer, bytes: [UInt8]) {
        try await exchange(TransportRequest(.get, "/v1/report/summary" + query, headers: credentials())) { body in
            do {
                return (try WireJSON.decode(SummaryAnswer.self, from: body), body)
            } catch {
                throw SyncError(.protocolViolation, "unreadable summary from the server (\(body.count) bytes)")
            }
        }.value
    }

    private func credentials() throws -> [(String, String)] {
        guard let authorization else { throw SyncError(.unauthorised, "this device is not enrolled; run `casesync enroll --server URL --token TOKEN`") }
        return [("Authorization", authorization)]
    }

    private static func decode(_ body: [UInt8], _ read: (inout JSONReader) throws(ModelError) -> Void) throws {
        do {
            try JSONReader.read(body, read)
        } catch {
            throw SyncError(.protocolViolation, "unreadable answer from the server (\(body.count) bytes): \(error.message)")
        }
    }

    /// Sends with retries and decodes a 2xx answer with `decode`, returned with what the
    /// answer's headers say about the node; throws `SyncError` otherwise. A 2xx answer that does not decode is treated like a broken connection and
    /// retried: every request here is safe to repeat (push merges idempotently, pull reads).
    func exchange<Value>(_ request: TransportRequest, decode: ([UInt8]) throws -> Value) async throws -> (value: Value, node: NodeState) {
        var attempt = 0
        while true {
            attempt += 1
            let outcome: Result<TransportResponse, TransportError>
            do {
                outcome = .success(try await transport.send(request))
            } catch let error as TransportError {
                outcome = .failure(error)
            }
            switch outcome {
            case let .success(response) where (200..<300).contains(response.status):
                do {
                    return (try decode(response.body), NodeState(response.headers))
                } catch let error as SyncError where error.kind == .protocolViolation {
                    guard attempt < retry.attempts else { throw error }
                    try await retry.sleep(retry.delay(after: attempt, retryAfter: nil))
                }
            case let .success(response) where response.status == 429 || response.status >= 500:
                guard attempt < retry.attempts else {
                    throw SyncError(.unreachable, "the server is unavailable (HTTP \(response.status)) after \(attempt) attempts")
                }
                let retryAfter = response.headers["retry-after"].flatMap(Int.init).map { Duration.seconds($0) }
                try await retry.sleep(retry.delay(after: attempt, retryAfter: retryAfter))
            case let .success(response):
                let (code, message, index) = Self.serverError(response.body)
                // A 403 naming a record is that record out of scope, not this device unwelcome.
                let kind: SyncError.Kind = response.status == 401 || (response.status == 403 && index == nil) ? .unauthorised : .refused
                throw SyncError(kind, code: code, "the server refused the request (HTTP \(response.status)\(code.map { ", \($0)" } ?? "")): \(message)", index: index,
                                nodeRestoring: NodeState(response.headers).restoring)
            case let .failure(error) where error.isPermanent:
                throw SyncError(.unreachable, error.message)
            case let .failure(error):
                guard attempt < retry.attempts else {
                    throw SyncError(.unreachable, "cannot reach \(transport.baseURL): \(error.message) (after \(attempt) attempts)")
                }
                try await retry.sleep(retry.delay(after: attempt, retryAfter: nil))
            }
        }
    }

    static func serverError(_ body: [UInt8]) -> (String?, String, Int?) {
        guard let answer = try? WireJSON.decode(ErrorAnswer.self, from: body) else {
            return (nil, String(decoding: body.prefix(200), as: UTF8.self), nil)
        }
        return (answer.error.code, answer.error.message, answer.error.index)
    }
}
