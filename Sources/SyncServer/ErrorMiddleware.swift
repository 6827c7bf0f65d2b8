import Hummingbird

/// Answers every failure in the API's own shape (`{"error":{"code","message"}}`), counts
/// requests by route and status, and times them.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let node: SyncNode

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let route = request.uri.path
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            let apiError = APIError.from(error)
            if apiError.status == .internalServerError {
                node.logger.error("request failed", metadata: ["http.path": "\(route)", "error": "\(String(describing: type(of: error)))"])
            }
            response = try apiError.response(from: request, context: context)
        }
        node.metrics.requests(route, response.status.code).increment()
        node.metrics.latency.record(ContinuousClock.now - start)
        return response
    }
}
