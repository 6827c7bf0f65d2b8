/// How the node listens and what it accepts.
public struct NodeConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Largest request body accepted (413 beyond).
    public var maxBodyBytes: Int
    /// Largest pull page.
    public var maxPageSize: Int

    public init(host: String = "127.0.0.1", port: Int = 8443, maxBodyBytes: Int = 16 << 20, maxPageSize: Int = 2_000) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.maxPageSize = maxPageSize
    }
}
