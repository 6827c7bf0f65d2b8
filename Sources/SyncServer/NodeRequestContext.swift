import Hummingbird
import NodeStorage
import SyncProtocol

/// The request context of the node's routes: Hummingbird's core context plus the device
/// `AuthenticationMiddleware` authenticated, for the routes behind it.
public struct NodeRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `AuthenticationMiddleware`; nil on routes that need no device.
    public var account: DeviceAccount?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// The authenticated device (routes behind `AuthenticationMiddleware` only).
    func authenticated() throws -> DeviceAccount {
        guard let account else { throw NodeError.unauthorised }
        return account
    }
}

/// Authenticates `Authorization: Bearer DEVICE:SECRET` before a route runs (`SyncNode.authenticate`:
/// revoked devices and disabled users are refused from their next request on), and puts
/// the device in the context.
struct AuthenticationMiddleware: RouterMiddleware {
    let node: SyncNode

    func handle(_ request: Request, context: NodeRequestContext, next: (Request, NodeRequestContext) async throws -> Response) async throws -> Response {
        var context = context
        let account = try await node.authenticate(request.headers[.authorization])
        try SyncNode.checkWipe(account, method: request.method.rawValue, path: request.uri.path)
        context.account = account
        return try await next(request, context)
    }
}
