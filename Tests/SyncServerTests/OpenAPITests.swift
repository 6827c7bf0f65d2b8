import Foundation
import Hummingbird
import HummingbirdTesting
import SyncServer
import Testing

/// `Protocol/openapi.yaml` and the routes must agree: same paths and methods, and every
/// documented route answers something other than 404 / 405.
struct OpenAPITests {
    static func documentedRoutes() throws -> Set<String> {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Protocol/openapi.yaml")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        var routes: Set<String> = []
        var inPaths = false
        var path: String?
        for line in lines {
            if line == "paths:" { inPaths = true; continue }
            if inPaths && !line.isEmpty && !line.hasPrefix(" ") { break }
            guard inPaths else { continue }
            if line.hasPrefix("  /") && line.hasSuffix(":") && !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    ") && !line.hasPrefix("     ") {
                let key = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "post", "put", "delete", "patch"].contains(String(key)) { routes.insert("\(key.uppercased()) \(path)") }
            }
        }
        return routes
    }

    @Test func theSpecListsExactlyTheServedRoutes() throws {
        let served = Set(APIRoutes.all.map { "\($0.method) \($0.path)" })
        #expect(try Self.documentedRoutes() == served)
    }

    @Test func everyDocumentedRouteIsServed() async throws {
        let fixture = try await NodeFixture()
        let routes = try Self.documentedRoutes()
        try await fixture.test { client in
            for route in routes {
                let parts = route.split(separator: " ")
                let method: HTTPRequest.Method = parts[0] == "POST" ? .post : .get
                try await client.execute(uri: String(parts[1]), method: method, body: method == .post ? ByteBuffer(string: "{}") : nil) { response in
                    #expect(response.status != .notFound && response.status != .methodNotAllowed, "\(route) is documented but not served")
                }
            }
        }
    }
}
