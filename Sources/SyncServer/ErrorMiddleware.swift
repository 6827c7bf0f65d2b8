import Hummingbird
import SyncProtocol

/// Answers every failure in the API's own shape (`{"error":{"code","message"}}`): the one
/// place a thrown error becomes an HTTP answer (`NodeError(answering:)`). Unexpected errors
/// are logged by type, never by contents.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let node: SyncNode

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let answer = NodeError(answering: error)
            if answer.code == .internal {
                node.logger.error("request failed", metadata: ["http.route": "\(context.endpointPath ?? "unmatched")", "error": "\(String(describing: type(of: error)))"])
            }
            return answer.response
        }
    }
}
