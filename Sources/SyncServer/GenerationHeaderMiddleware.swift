import Hummingbird

/// Puts the node's generation id on every answer, errors included (`CaseSync-Generation`).
/// It changes only when the node is restored from a backup: a device that sees a new one
/// knows the node was rewound, starts its pull over and re-sends what it holds, instead of
/// skipping what the node numbers anew (PROTOCOL.md, "Restore").
struct GenerationHeaderMiddleware<Context: RequestContext>: RouterMiddleware {
    let generation: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.caseSyncGeneration] = generation
        return response
    }
}

extension HTTPFields.Element.Name {
    /// The node's generation id header. (A valid literal token: the unwrap cannot fail.)
    static let caseSyncGeneration = HTTPFields.Element.Name("CaseSync-Generation")!
}
