import CompressNIO
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NodeStorage
import SyncModel
import SyncProtocol

/// The one composition root: the `/v1` routes over a `SyncNode`. Tests call it with
/// HummingbirdTesting; `casesyncd serve` runs it.
/// `onListening` receives the bound port (useful with port 0). With `tls` it serves HTTPS.
public func buildApplication(node: SyncNode, configuration: NodeConfiguration, tls: NodeTLS? = nil,
                             onListening: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
    let (seconds, attoseconds) = configuration.idleTimeout.components
    let http = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)))
    return Application(
        router: buildRouter(node: node, configuration: configuration),
        server: try tls.map { try HTTPServerBuilder.tls(http, tlsConfiguration: $0.configuration) } ?? http,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "casesyncd"),
        onServerRunning: { channel in await onListening(channel.localAddress?.port ?? configuration.port) },
        logger: node.logger
    )
}

/// Every route the node serves: the single list `buildRouter` registers from and the test
/// that keeps `Protocol/openapi.yaml` in step reads.
public enum APIRoutes {
    public static let all: [(method: String, path: String)] = [
        ("GET", "/healthz"), ("GET", "/metrics"), ("POST", "/v1/enroll"), ("POST", "/v1/sync/push"), ("GET", "/v1/sync/pull"),
        ("GET", "/v1/export"), ("GET", "/v1/report/summary"), ("POST", wiped), ("POST", access),
        ("GET", directory),
    ]
    /// Where a device fetches the node's directory of devices, users and sites (PROTOCOL.md §15).
    public static let directory = "/v1/directory"
    /// Where a supervisor asks for break-glass access to a case.
    public static let access = "/v1/access"
    /// Where a device says it erased its case data as the node asked.
    public static let wiped = "/v1/device/wiped"
}

/// The routes, apart from the server, so route tests can use them in-process.
public func buildRouter(node: SyncNode, configuration: NodeConfiguration) -> Router<NodeRequestContext> {
    let router = Router(context: NodeRequestContext.self)
    // Outermost first: metrics see every answer, errors included; the limit refuses before
    // any work is done.
    router.add(middleware: RequestMetricsMiddleware(metrics: node.metrics))
    router.add(middleware: GenerationHeaderMiddleware(node: node))
    router.add(middleware: ErrorMiddleware(node: node))
    router.add(middleware: MethodNotAllowedMiddleware(routes: APIRoutes.all))
    router.add(middleware: InFlightLimitMiddleware(counter: InFlightCounter(limit: configuration.maxInFlight)))
    let budget = BodyBudget(capacity: configuration.bodyBudgetBytes)

    precondition(APIRoutes.all.count == 10, "register every route in APIRoutes.all")
    router.get("/healthz") { _, _ in
        Response.json(Array(#"{"status":"ok"}"#.utf8))
    }

    router.get("/metrics") { _, _ in
        Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                 body: .init(byteBuffer: ByteBuffer(bytes: node.metrics.registry.emitToBuffer())))
    }

    router.post("/v1/enroll") { request, _ in
        let body = Array(try await readBody(request, limit: 64 << 10, timeout: configuration.bodyTimeout, node: node).readableBytesView)
        let enrollment: EnrollRequest
        do {
            enrollment = try WireJSON.decode(EnrollRequest.self, from: body)
        } catch {
            throw NodeError(.malformedJSON, "an enrollment is {\"device\",\"name\",\"token\"} (strings, no other keys): \(decodingReason(error))")
        }
        guard !enrollment.name.isEmpty, enrollment.name.count <= 100 else {
            throw NodeError(.malformedJSON, "an enrollment needs \"token\", \"device\" and \"name\" (1-100 characters)")
        }
        // Every device of the service shows the name (PROTOCOL.md §15): one printable line.
        if let problem = NodeDirectory.Device.nameProblem(enrollment.name) { throw NodeError(.badParameter, problem) }
        let enrolled = try await node.enroll(token: enrollment.token, device: try DeviceID(enrollment.device), name: enrollment.name)
        return Response.json(WireJSON.encode(EnrollAnswer(device: enrolled.device.rawValue, role: enrolled.user.role.rawValue,
                                                          secret: enrolled.secret, user: enrolled.user.name, lease: Int(enrolled.lease))))
    }

    // Every route below needs an enrolled device; enrollment above needs a token instead.
    let devices = router.group().add(middleware: AuthenticationMiddleware(node: node))

    devices.post("/v1/sync/push") { request, context in
        let account = try context.authenticated()
        // The body's bytes are reserved before it is read and held until the answer is made:
        // the decoded states cost memory too.
        let declared = request.headers[.contentEncoding] == nil ? request.headers[.contentLength].flatMap(Int.init) : nil
        let reserved = try await budget.reserve(declared ?? configuration.maxBodyBytes)
        defer {
            budget.release(reserved)
            if reserved >= configuration.maxBodyBytes / 4 { configuration.afterLargePush() }
        }
        let body = try await readBody(request, limit: configuration.maxBodyBytes, timeout: configuration.bodyTimeout, node: node)
        let states = try decodePush(body)
        let outcome = try await node.push(states, from: account)
        // Written by hand, not through `WireJSON`: each result carries a version vector in
        // its canonical form (the same writer as record states), for up to 2,000 records a
        // push on the node's hottest path.
        var writer = CanonicalJSONWriter(capacity: 64 + outcome.results.count * 96)
        writer.raw("{\"results\":[")
        for (index, result) in outcome.results.enumerated() {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.raw("{\"conflict\":")
            writer.boolean(result.conflict)
            writer.raw(",\"id\":")
            writer.recordID(result.id)
            writer.raw(",\"vv\":")
            result.version.write(to: &writer)
            writer.byte(UInt8(ascii: "}"))
        }
        writer.raw("],\"seq\":")
        writer.integer(outcome.seq)
        writer.byte(UInt8(ascii: "}"))
        return jsonResponse(writer.bytes, for: request)
    }

    devices.post(RouterPath(stringLiteral: APIRoutes.wiped)) { request, context -> Response in
        try await node.confirmWipe(for: try context.authenticated())
        return jsonResponse(Array(#"{"wiped":true}"#.utf8), for: request)
    }
    devices.post(RouterPath(stringLiteral: APIRoutes.access)) { request, context -> Response in
        let account = try context.authenticated()
        let body = Array(try await readBody(request, limit: 16 << 10, timeout: configuration.bodyTimeout, node: node).readableBytesView)
        let asked: AccessRequest
        do {
            asked = try WireJSON.decode(AccessRequest.self, from: body)
        } catch {
            throw NodeError(.malformedJSON, "an access request is {\"case\",\"reason\"[,\"seconds\"]} (no other keys): \(decodingReason(error))")
        }
        let grant = try await node.requestAccess(to: asked.case, reason: asked.reason, seconds: asked.seconds, for: account)
        return jsonResponse(WireJSON.encode(AccessAnswer(grant)), for: request)
    }
    devices.get("/v1/sync/pull") { request, context in
        let account = try context.authenticated()
        let since = try queryInteger(request, "since", default: 0, range: 0...Int(Dot.maxCounter))
        let limit = try queryInteger(request, "limit", default: 500, range: 1...configuration.maxPageSize)
        let after = try request.uri.queryParameters.get("after") == nil ? nil : queryInteger(request, "after", default: 0, range: 0...Int(Dot.maxCounter))
        let page = try await node.pull(since: since, after: after, limit: limit, for: account)
        // Written by hand: the stored states' bytes are spliced in unchanged (never decoded
        // and encoded again), which is what keeps a 100,000-record first sync in seconds.
        var writer = CanonicalJSONWriter(capacity: 64 + page.states.reduce(0) { $0 + $1.count + 1 })
        writer.byte(UInt8(ascii: "{"))
        if let after = page.after {
            writer.raw("\"after\":")
            writer.integer(after)
            writer.byte(UInt8(ascii: ","))
        }
        if !page.grants.isEmpty {
            writer.raw("\"access\":[")
            for (index, grant) in page.grants.enumerated() {
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.json(WireJSON.encode(AccessAnswer(grant)))
            }
            writer.raw("],")
        }
        if !page.drops.isEmpty {
            writer.raw("\"drop\":[")
            for (index, drop) in page.drops.enumerated() {
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.raw("{\"case\":")
                writer.recordID(drop.caseID)
                if let record = drop.record {
                    writer.raw(",\"id\":")
                    writer.recordID(record)
                }
                writer.raw(",\"reason\":")
                writer.string(drop.reason.rawValue)
                writer.raw(",\"seq\":")
                writer.integer(drop.seq)
                writer.byte(UInt8(ascii: "}"))
            }
            writer.raw("],")
        }
        if !page.metadata.isEmpty {
            writer.raw("\"meta\":[")
            for (index, meta) in page.metadata.enumerated() {
                if index > 0 { writer.byte(UInt8(ascii: ",")) }
                writer.raw("{\"case\":")
                writer.recordID(meta.caseID)
                writer.raw(",\"deleted\":")
                writer.boolean(meta.deleted)
                writer.raw(",\"fields\":{")
                for (position, field) in CaseMetadata.fields.filter({ meta.values[$0] != nil }).enumerated() {
                    if position > 0 { writer.byte(UInt8(ascii: ",")) }
                    writer.string(field)
                    writer.byte(UInt8(ascii: ":"))
                    writer.string(meta.values[field] ?? "")
                }
                writer.raw("},\"seq\":")
                writer.integer(meta.seq)
                writer.byte(UInt8(ascii: "}"))
            }
            writer.raw("],")
        }
        writer.raw("\"more\":")
        writer.boolean(page.more)
        writer.raw(",\"next\":")
        writer.integer(page.next)
        writer.raw(",\"records\":[")
        for (index, state) in page.states.enumerated() {
            if index > 0 { writer.byte(UInt8(ascii: ",")) }
            writer.json(state)
        }
        writer.raw("]}")
        node.metrics.bytesOut.increment(by: Int64(writer.bytes.count))
        var response = jsonResponse(writer.bytes, for: request)
        // A header, not a key of the answer: devices that know no directory ignore it.
        response.headers[.caseSyncDirectory] = String(page.directoryVersion)
        return response
    }
    devices.get(RouterPath(stringLiteral: APIRoutes.directory)) { request, context -> Response in
        let (json, version) = try await node.directoryAnswer(for: try context.authenticated())
        var response = jsonResponse(json, for: request)
        response.headers[.caseSyncDirectory] = String(version)
        return response
    }
    devices.get("/v1/export") { request, context in
        let account = try context.authenticated()
        try SyncNode.requireReportRole(account)
        let since = try queryInteger(request, "since", default: 0, range: 0...Int(Dot.maxCounter))
        let format = request.uri.queryParameters.get("format") ?? "ndjson"
        let typeText = request.uri.queryParameters.get("type").map { String($0) }
        let type = typeText.flatMap { RecordType(rawValue: $0) }
        if let typeText, type == nil {
            throw NodeError(.badParameter, "type \(typeText.prefix(20)) is not one of \(RecordType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard format == "ndjson" || format == "csv" else {
            throw NodeError(.badParameter, "format must be ndjson or csv")
        }
        guard format == "ndjson" || type != nil else {
            throw NodeError(.badParameter, "CSV needs one record type: add type=case (or party, session, note, action, feedback)")
        }
        try await node.auditExport(account, action: "export", at: node.now())
        // Streamed page by page: memory stays flat whatever the number of records.
        let body = ResponseBody { writer in
            var cursor = since
            if format == "csv", let type { try await writer.write(ByteBuffer(string: ExportRow.csvHeader(type))) }
            while true {
                let page = try await node.exportPage(type: type, since: cursor, limit: 1000)
                var bytes = CanonicalJSONWriter(capacity: page.rows.count * 700)
                for row in page.rows {
                    if format == "csv" {
                        bytes.json(Array(ExportRow.csv(seq: row.seq, state: row.state).utf8))
                    } else {
                        ExportRow.ndjson(seq: row.seq, state: row.state, into: &bytes)
                    }
                }
                if !bytes.bytes.isEmpty { try await writer.write(ByteBuffer(bytes: bytes.bytes)) }
                node.metrics.bytesOut.increment(by: Int64(bytes.bytes.count))
                guard let next = page.next else { break }
                cursor = next
            }
            try await writer.finish(nil)
        }
        let contentType = format == "csv" ? "text/csv; charset=utf-8; header=present" : "application/x-ndjson"
        return Response(status: .ok, headers: [.contentType: contentType], body: body)
    }

    devices.get("/v1/report/summary") { request, context in
        let account = try context.authenticated()
        try SyncNode.requireReportRole(account)
        let from = request.uri.queryParameters.get("from").map { String($0) }
        let to = request.uri.queryParameters.get("to").map { String($0) }
        for date in [from, to].compactMap({ $0 }) where CivilDate.days(date) == nil {
            throw NodeError(.badParameter, "from and to are dates YYYY-MM-DD, not \(date.prefix(20))")
        }
        let site = request.uri.queryParameters.get("site").map { String($0) }
        let time = node.now()
        try await node.auditExport(account, action: "summary", at: time)
        let summary = try await node.summary(from: from, to: to, site: site, today: CivilDate.string(milliseconds: time))
        return jsonResponse(WireJSON.encode(summary.answer), for: request)
    }
    return router
}

/// Collects the body up to `limit` bytes (413 beyond) within `timeout` (408 beyond). A gzip
/// body (`Content-Encoding: gzip`) is inflated, and the limit applies to the inflated size
/// too, so a small compressed bomb is refused like a large body.
func readBody(_ request: Request, limit: Int, timeout: Duration, node: SyncNode) async throws -> ByteBuffer {
    if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
        throw NodeError(.tooLarge, "request body of \(length) bytes exceeds the limit of \(limit); push smaller batches")
    }
    var buffer = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
        group.addTask {
            do {
                return try await request.body.collect(upTo: limit)
            } catch is CancellationError {
                return nil
            } catch {
                throw NodeError(.tooLarge, "request body exceeds the limit of \(limit) bytes; push smaller batches")
            }
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let buffer = first else {
            throw NodeError(.timeout, "the request body did not arrive within \(timeout); on a slow link push smaller batches (`casesync sync --batch-size 200`)")
        }
        return buffer
    }
    node.metrics.bytesIn.increment(by: Int64(buffer.readableBytes))
    switch request.headers[.contentEncoding]?.lowercased() {
    case nil, "identity":
        break
    case "gzip":
        var compressed = buffer
        do {
            buffer = try compressed.decompress(with: .gzip(), maxSize: limit)
        } catch let error as CompressNIOError where error == .bufferOverflow {
            throw NodeError(.tooLarge, "the inflated request body exceeds the limit of \(limit) bytes; push smaller batches")
        } catch {
            throw NodeError(.malformedGzip, "the gzip request body is corrupt")
        }
        // Inflating stops at the end of the first gzip member. Bytes after it (a second
        // member, or anything else) would be ignored silently: refused instead, so what the
        // node merges is always the whole body.
        guard compressed.readableBytes == 0 else {
            throw NodeError(.malformedGzip, "the gzip request body has data after its end; send one gzip member")
        }
    case let other?:
        throw NodeError(.unsupportedEncoding, "Content-Encoding \(other.prefix(20)) is not supported; send identity or gzip")
    }
    return buffer
}

/// A JSON answer, gzip-compressed when the client accepts it and it is worth it.
func jsonResponse(_ bytes: [UInt8], for request: Request) -> Response {
    let accepts = request.headers[.acceptEncoding]?.lowercased().contains("gzip") ?? false
    guard accepts, bytes.count > 1024 else { return Response.json(bytes) }
    var buffer = ByteBuffer(bytes: bytes)
    // The fastest level: JSON of ids and versions still shrinks several-fold, at a third of
    // the default level's CPU (a node answering many devices is CPU-bound, not link-bound).
    guard let compressed = try? buffer.compress(with: .gzip(configuration: .init(compressionLevel: .fastestCompression))) else {
        return Response.json(bytes)
    }
    return Response(status: .ok, headers: [.contentType: "application/json", .contentEncoding: "gzip"], body: .init(byteBuffer: compressed))
}

/// `{"records":[STATE,…]}`; a bad record names its index. The states are validated by
/// `SyncNode.push`, not here. Read in place from the body's buffer: a maximum-size push
/// would otherwise hold its 16 MiB twice.
func decodePush(_ body: ByteBuffer) throws -> [ReceivedState] {
    do throws(ModelError) {
        return try body.withUnsafeReadableBytes { raw throws(ModelError) in
            try PushEnvelope.decode(raw.assumingMemoryBound(to: UInt8.self))
        }
    } catch {
        throw NodeError(ErrorCode(error.code), error.message, index: error.recordIndex)
    }
}

/// Why an envelope did not decode, in the protocol's words (never Foundation's text).
func decodingReason(_ error: any Error) -> String {
    func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map(\.stringValue).joined(separator: ".")
    }
    switch error as? DecodingError {
    case let .keyNotFound(key, _)?: return "\"\(key.stringValue)\" is missing"
    case let .typeMismatch(_, context)?, let .valueNotFound(_, context)?: return "\"\(path(context))\" has the wrong type"
    case let .dataCorrupted(context)? where context.underlyingError == nil: return context.debugDescription
    default: return "the body is not a JSON object"
    }
}

func queryInteger(_ request: Request, _ name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
    guard let text = request.uri.queryParameters.get(name) else { return value }
    // Digits only: `Int` would also take a sign (`since=+5`).
    guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
          let number = Int(text), range.contains(number) else {
        throw NodeError(.badParameter, "\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
    }
    return number
}
