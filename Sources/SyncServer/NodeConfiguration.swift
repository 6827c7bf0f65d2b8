/// How the node listens, what it accepts, and the limits that keep it answering under load
/// and hostile clients (see `Deploy/OPERATIONS.md`, "Limits and timeouts").
public struct NodeConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Largest request body accepted (413 beyond).
    public var maxBodyBytes: Int
    /// Largest pull page.
    public var maxPageSize: Int
    /// Requests under `/v1` worked on at once; beyond it the node answers 503 with
    /// `Retry-After`, which devices retry.
    public var maxInFlight: Int
    /// Request-body bytes held at once across all pushes (at least one maximum-size body):
    /// larger pushes arriving together are read in turn, so memory stays bounded.
    public var bodyBudgetBytes: Int
    /// A connection on which nothing arrives for this long (no request, an unfinished header,
    /// a body that stopped short of its Content-Length) is closed.
    public var idleTimeout: Duration
    /// The longest a request body may take to arrive in full (408 beyond): a body trickled
    /// byte by byte cannot hold a connection for ever.
    public var bodyTimeout: Duration
    /// Called after a push whose body was at least a quarter of `maxBodyBytes` has been
    /// answered: `casesyncd` hands freed heap pages back to the system there, so memory a
    /// large push used is not kept as resident (a library cannot know the process's
    /// allocator, hence a hook).
    public var afterLargePush: @Sendable () -> Void = {}

    public init(host: String = "127.0.0.1", port: Int = 8443, maxBodyBytes: Int = 16 << 20, maxPageSize: Int = 2_000,
                maxInFlight: Int = 512, bodyBudgetBytes: Int = 24 << 20,
                idleTimeout: Duration = .seconds(30), bodyTimeout: Duration = .seconds(300)) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.maxPageSize = maxPageSize
        self.maxInFlight = maxInFlight
        self.bodyBudgetBytes = max(bodyBudgetBytes, maxBodyBytes)
        self.idleTimeout = idleTimeout
        self.bodyTimeout = bodyTimeout
    }
}
