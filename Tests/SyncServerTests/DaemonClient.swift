import CaseSyncTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore

extension DaemonProcess {
    /// A client whose read timeout is generous: suites run in parallel, and while another
    /// one starts 64 `casesync sync` processes a debug node on two cores can take well over
    /// 10 s to answer (seen once). Only a hang exceeds a minute.
    func client() -> TestClient {
        let client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(60)))
        client.connect()
        return client
    }
}

extension TestClient {
    func send(_ method: HTTPRequest.Method, _ uri: String, authorization: String? = nil, body: String? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
        var headers: HTTPFields = [:]
        if let authorization { headers[.authorization] = authorization }
        let response = try await execute(TestClient.Request(uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }))
        let object = (try? JSONSerialization.jsonObject(with: Data((response.body ?? ByteBuffer()).readableBytesView)) as? [String: Any]) ?? [:]
        return (response.head.status, object)
    }
}
