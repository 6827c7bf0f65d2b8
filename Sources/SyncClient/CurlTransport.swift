import CCurl
import Foundation
import Synchronization

/// One HTTP request as the client sends it.
public struct TransportRequest: Sendable {
    /// The HTTP methods the protocol uses.
    public enum Method: String, Sendable { case get = "GET", post = "POST" }

    /// GET or POST.
    public var method: Method
    /// Path and query, appended to the server address.
    public var path: String
    /// Headers to send (name, value), in order; `Authorization` among them for device calls.
    public var headers: [(String, String)]
    /// The JSON body; nil for none.
    public var body: [UInt8]?

    /// A request for `path` (with its query), relative to the server address.
    public init(_ method: Method, _ path: String, headers: [(String, String)] = [], body: [UInt8]? = nil) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
    }
}

/// What came back: status, headers (names lower-cased), body (already inflated).
public struct TransportResponse: Sendable {
    /// The HTTP status code.
    public let status: Int
    /// The answer's headers by lower-cased name (a repeated header keeps its last value).
    public let headers: [String: String]
    /// The body, already inflated when it came gzip-compressed.
    public let body: [UInt8]

    /// `headers` names must be lower-case, as HTTP/2 sends them and `SyncClient` reads them.
    public init(status: Int, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// How `SyncClient` exchanges a request with a node: libcurl in the command line
/// (`CurlTransport`), the router in-process or a scripted fake in tests. An implementation
/// throws `TransportError` when no answer arrived (the client retries those), and answers
/// whatever status the node gave otherwise. Requests sent at the same time may be in flight
/// together (a sync keeps two pushes going).
public protocol HTTPTransport: Sendable {
    /// The node's address, for messages ("cannot reach https://…").
    var baseURL: String { get }
    func send(_ request: TransportRequest) async throws -> TransportResponse
}

/// A failure to exchange a request at all (nothing to do with what the server answered).
public struct TransportError: Error, Sendable, CustomStringConvertible {
    /// libcurl's error code (or a transport's own; -1 when it has none).
    public let code: Int
    /// What went wrong, as libcurl (or the transport) says it.
    public let message: String
    /// A failure that trying again cannot mend (a node's certificate this device does not
    /// trust): `SyncClient` reports it at once, with `message`, instead of retrying.
    public let isPermanent: Bool

    /// A failure with `code` (-1 for none) and `message`.
    public init(code: Int = -1, message: String, isPermanent: Bool = false) {
        self.code = code
        self.message = message
        self.isPermanent = isPermanent
    }

    /// The message alone.
    public var description: String { message }
}

/// HTTP over a small pool of reused libcurl easy handles: connection reuse and keep-alive,
/// gzip answers, timeouts, TLS verification (system roots or a given CA file), proxies from
/// the environment as libcurl reads them. Each handle is one connection; requests sent at the
/// same time go out on different connections (so a sync can keep two pushes in flight), and
/// beyond the pool's size they wait their turn on the first one. libcurl blocks, so every
/// transfer runs on its connection's own serial queue, never on the Swift concurrency pool.
public final class CurlTransport: HTTPTransport {
    /// The server address, without a trailing slash.
    public let baseURL: String
    private let connections: [CurlConnection]
    /// Indices of the connections no request is using.
    private let idle: Mutex<[Int]>

    /// Opens `connections` easy handles (at least one) to `baseURL`. `caFile` is trusted for TLS
    /// instead of the system roots; `connectTimeout` bounds connecting, `timeout` a whole transfer.
    public init(baseURL: String, caFile: String? = nil, connectTimeout: Duration = .seconds(10), timeout: Duration = .seconds(120), connections: Int = 2) throws {
        let baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.baseURL = baseURL
        self.connections = try (0..<max(1, connections)).map { _ in
            try CurlConnection(baseURL: baseURL, caFile: caFile, connectTimeout: connectTimeout, timeout: timeout)
        }
        idle = Mutex(Array(self.connections.indices.reversed()))
    }

    /// Exchanges one request; throws `TransportError` when no answer arrived.
    public func send(_ request: TransportRequest) async throws -> TransportResponse {
        let claimed = idle.withLock { $0.popLast() }
        defer { if let claimed { idle.withLock { $0.append(claimed) } } }
        return try await connections[claimed ?? 0].send(request)
    }
}

/// One libcurl easy handle and the serial queue its transfers run on.
///
/// `@unchecked Sendable`: the only mutable state is the easy handle, and every use of it
/// (configuration, transfers, cleanup in `deinit`) happens on `queue`, a serial queue, or
/// after the last reference is gone.
private final class CurlConnection: @unchecked Sendable {
    let baseURL: String
    private let queue = DispatchQueue(label: "casesync.curl")
    private let handle: UnsafeMutableRawPointer
    private let caFile: String?
    private let connectTimeoutMilliseconds: Int
    private let timeoutMilliseconds: Int

    init(baseURL: String, caFile: String?, connectTimeout: Duration, timeout: Duration) throws {
        guard let handle = curl_easy_init() else { throw TransportError(code: -1, message: "libcurl could not start") }
        self.handle = handle
        self.baseURL = baseURL
        self.caFile = caFile
        connectTimeoutMilliseconds = Int(connectTimeout.components.seconds * 1000)
        timeoutMilliseconds = Int(timeout.components.seconds * 1000)
    }

    deinit {
        curl_easy_cleanup(handle)
    }

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try self.perform(request) })
            }
        }
    }

    /// Runs on `queue` only.
    private func perform(_ request: TransportRequest) throws -> TransportResponse {
        let collector = Collector()
        let context = Unmanaged.passRetained(collector)
        defer { context.release() }

        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers + [("Expect", ""), ("Accept", "application/json")] {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }
        if request.body != nil { headerList = curl_slist_append(headerList, "Content-Type: application/json") }

        var code = CURLE_OK
        func check(_ result: CURLcode) { if code == CURLE_OK { code = result } }
        check(ccurl_setopt_string(handle, CURLOPT_URL, baseURL + request.path))
        check(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        check(ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, connectTimeoutMilliseconds))
        check(ccurl_setopt_long(handle, CURLOPT_TIMEOUT_MS, timeoutMilliseconds))
        check(ccurl_setopt_long(handle, CURLOPT_TCP_KEEPALIVE, 1))
        check(ccurl_setopt_string(handle, CURLOPT_ACCEPT_ENCODING, ""))  // every encoding libcurl can inflate
        check(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1))
        check(ccurl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2))
        if let caFile { check(ccurl_setopt_string(handle, CURLOPT_CAINFO, caFile)) }
        check(ccurl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList))
        check(ccurl_setopt_write_function(handle, collectBody))
        check(ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context.toOpaque()))
        check(ccurl_setopt_header_function(handle, collectHeader))
        check(ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, context.toOpaque()))
        switch request.method {
        case .get:
            check(ccurl_setopt_long(handle, CURLOPT_HTTPGET, 1))
        case .post:
            check(ccurl_setopt_long(handle, CURLOPT_POST, 1))
            let body = request.body ?? []
            body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS copies the bytes, so the buffer need not outlive this call.
                check(ccurl_setopt_postfields(handle, bytes.baseAddress ?? UnsafeRawPointer(("" as StaticString).utf8Start), body.count))
            }
        }
        guard code == CURLE_OK else { throw TransportError(code: Int(code.rawValue), message: "could not set up the request: \(String(cString: curl_easy_strerror(code)))") }

        let result = curl_easy_perform(handle)
        switch result {
        case CURLE_OK: break
        case CURLE_PEER_FAILED_VERIFICATION:
            throw TransportError(code: Int(result.rawValue), message: "the node's TLS certificate is not trusted by this device (\(baseURL)); if the service signs its own, enroll with --ca-cert FILE, its CA certificate in PEM", isPermanent: true)
        case CURLE_SSL_CACERT_BADFILE:
            throw TransportError(code: Int(result.rawValue), message: "cannot use the CA certificate given with --ca-cert (\(caFile ?? "")); give a readable PEM file", isPermanent: true)
        default:
            throw TransportError(code: Int(result.rawValue), message: "\(String(cString: curl_easy_strerror(result))) (\(baseURL))")
        }
        // A connection closed before (or during) the answer can still end "successfully" on
        // a reused connection, with the previous transfer's status: no status line, or fewer
        // bytes than announced, is a failed exchange, never an answer.
        guard let status = collector.status else {
            throw TransportError(code: Int(CURLE_GOT_NOTHING.rawValue), message: "the connection closed before an answer arrived (\(baseURL))")
        }
        if collector.headers["content-encoding"] == nil, let announced = collector.headers["content-length"].flatMap(Int.init), announced != collector.body.count {
            throw TransportError(code: Int(CURLE_PARTIAL_FILE.rawValue), message: "the answer was cut off after \(collector.body.count) of \(announced) bytes (\(baseURL))")
        }
        return TransportResponse(status: status, headers: collector.headers, body: collector.body)
    }
}

/// Receives libcurl's callbacks for one transfer.
private final class Collector {
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    /// The status of the last status line seen; nil when no answer began.
    var status: Int?
}

private let collectBody: ccurl_write_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    data.withMemoryRebound(to: UInt8.self, capacity: length) { collector.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) }
    return length
}

private let collectHeader: ccurl_write_callback = { data, size, count, context in
    guard let data, let context else { return 0 }
    let collector = Unmanaged<Collector>.fromOpaque(context).takeUnretainedValue()
    let length = size * count
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) }
    if line.hasPrefix("HTTP/") {
        collector.headers = [:]  // a new response (after a redirect or 100 Continue)
        let parts = line.split(separator: " ")
        collector.status = parts.count > 1 ? Int(parts[1]) : nil
    } else if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].lowercased()
        collector.headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)
    }
    return length
}
