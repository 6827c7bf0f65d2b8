/// When and how long to wait before trying a request again: exponential backoff with full
/// jitter, capped, a bounded number of attempts, honouring a server's `Retry-After`.
/// Sleep and randomness are injected so tests never wait.
public struct RetryPolicy: Sendable {
    /// Attempts in all, the first one included (1: no retries).
    public var attempts: Int
    /// The longest first backoff; it doubles with each further attempt.
    public var base: Duration
    /// The longest backoff before jitter; a `Retry-After` is honoured up to four times this.
    public var cap: Duration
    /// Waits out a delay; tests give one that returns at once.
    public var sleep: @Sendable (Duration) async throws -> Void
    /// A number in 0..<1.
    public var random: @Sendable () -> Double

    /// The defaults are the protocol's: 5 attempts, 250 ms doubling, capped at 8 s (PROTOCOL.md §10).
    public init(attempts: Int = 5, base: Duration = .milliseconds(250), cap: Duration = .seconds(8),
                sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
                random: @escaping @Sendable () -> Double = { Double.random(in: 0..<1) }) {
        self.attempts = attempts
        self.base = base
        self.cap = cap
        self.sleep = sleep
        self.random = random
    }

    /// No retries at all.
    public static let none = RetryPolicy(attempts: 1)

    /// The wait before attempt `attempt + 1` (attempt counts from 1).
    public func delay(after attempt: Int, retryAfter: Duration?) -> Duration {
        if let retryAfter { return min(retryAfter, cap * 4) }
        let exponential = base * Int(1 << min(attempt - 1, 16))
        return min(exponential, cap) * random()
    }
}
