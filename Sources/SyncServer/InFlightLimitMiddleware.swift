import Hummingbird
import SyncProtocol
import Synchronization

/// Bounds the requests the node works on at once, on purpose rather than by accident: beyond
/// `limit`, a request is answered at once with 503 and `Retry-After`, which devices already
/// retry with backoff. `/healthz` and `/metrics` are not counted, so a busy node still
/// answers its monitoring.
struct InFlightLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let counter: InFlightCounter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1/") else { return try await next(request, context) }
        guard counter.enter() else {
            throw NodeError(.busy, "the node is serving \(counter.limit) requests at once; retry after a second", retryAfter: 1)
        }
        defer { counter.leave() }
        return try await next(request, context)
    }
}

/// The number of requests in flight, shared by every connection.
final class InFlightCounter: Sendable {
    let limit: Int
    private let current = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a place if one is free.
    func enter() -> Bool {
        guard current.add(1, ordering: .relaxed).newValue <= limit else {
            current.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func leave() {
        current.subtract(1, ordering: .relaxed)
    }
}
