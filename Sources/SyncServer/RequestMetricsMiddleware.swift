import Hummingbird

/// Counts and times requests by route *template* (`/v1/sync/pull`, never the path a client
/// typed) and status, so the number of Prometheus series is bounded by the routes the node
/// serves: every unmatched path is counted under the one label `unmatched`. (Hummingbird's
/// own `MetricsMiddleware` labels the same way but reports through the global
/// `MetricsSystem`; the node keeps its registry explicit so tests and `/metrics` share it.)
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: NodeMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? "unmatched"
        metrics.requests(route, response.status.code).increment()
        metrics.latency.record(ContinuousClock.now - start)
        return response
    }
}
