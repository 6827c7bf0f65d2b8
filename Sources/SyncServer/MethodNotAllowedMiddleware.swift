import Hummingbird
import SyncProtocol

/// Answers a request for a path the node serves, with a method it does not serve there,
/// `405 method_not_allowed` with an `Allow` header naming the methods it does (RFC 9110
/// §15.5.6), instead of the router's 404: the path exists, the method is what is wrong.
struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Path → the methods served there, from `APIRoutes.all`.
    let methods: [String: [String]]

    init(routes: [(method: String, path: String)]) {
        methods = Dictionary(grouping: routes, by: \.path).mapValues { $0.map(\.method) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let allowed = methods[request.uri.path], !allowed.contains(request.method.rawValue) else {
            return try await next(request, context)
        }
        let list = allowed.joined(separator: ", ")
        var response = NodeError(.methodNotAllowed, "\(request.method.rawValue.prefix(20)) is not served at \(request.uri.path); use \(list)").response
        response.headers[.allow] = list
        return response
    }
}
