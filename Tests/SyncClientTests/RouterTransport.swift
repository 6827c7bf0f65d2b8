import Hummingbird
import HummingbirdTesting
import SyncClient

/// A transport that hands each request to the node's router in-process (HummingbirdTesting):
/// the real routes, middleware and node, no socket.
struct RouterTransport: HTTPTransport {
    let baseURL = "http://in-process.test"
    let client: any TestClientProtocol

    func send(_ request: TransportRequest) async throws -> TransportResponse {
        var headers = HTTPFields()
        for (name, value) in request.headers {
            if let name = HTTPFields.Element.Name(name) { headers[name] = value }
        }
        return try await client.execute(uri: request.path, method: request.method == .get ? .get : .post, headers: headers,
                                        body: request.body.map { ByteBuffer(bytes: $0) }) { response in
            var fields: [String: String] = [:]
            for field in response.headers { fields[field.name.canonicalName] = field.value }
            return TransportResponse(status: Int(response.status.code), headers: fields, body: Array(response.body.readableBytesView))
        }
    }
}
