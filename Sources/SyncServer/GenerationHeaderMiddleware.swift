import Hummingbird

/// Puts the node's generation id on every answer, errors included (`CaseSync-Generation`).
/// It changes only when the node is restored from a backup: a device that sees a new one
/// knows the node was rewound, starts its pull over and re-sends what it holds, instead of
/// skipping what the node numbers anew (PROTOCOL.md, "Restore"). While its restore window is
/// open the node also says `CaseSync-Restoring: 1`: a device that has no generation on record
/// (it last synced with an older node) then re-sends what it holds too, and keeps a record
/// the node refuses for now queued for the next sync.
struct GenerationHeaderMiddleware<Context: RequestContext>: RouterMiddleware {
    let node: SyncNode

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.caseSyncGeneration] = node.generation
        if node.isRestoring { response.headers[.caseSyncRestoring] = "1" }
        return response
    }
}

extension HTTPFields.Element.Name {
    /// The node's generation id header. (Valid literal tokens: the unwraps cannot fail.)
    static let caseSyncGeneration = HTTPFields.Element.Name("CaseSync-Generation")!
    /// Present while the node's restore window is open.
    static let caseSyncRestoring = HTTPFields.Element.Name("CaseSync-Restoring")!
    /// The node's directory version, on pull answers and the directory (PROTOCOL.md §15).
    static let caseSyncDirectory = HTTPFields.Element.Name("CaseSync-Directory")!
}
