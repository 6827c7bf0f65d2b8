import Foundation
import GRDB

/// Copies the write-ahead log into the database file on a connection of its own.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its threshold, so the
/// writer (on the sync node: every device's pushes) waits for the whole copy and its sync
/// to disk. A passive checkpoint on another connection runs beside the writer instead, and
/// the next transaction after a complete checkpoint starts the log again from its
/// beginning. Durability does not depend on checkpoints: a committed transaction is already
/// synced in the log.
///
/// Writers `request()` a checkpoint after they commit; `run` (a service of the serving node)
/// carries them out one at a time, folding requests made while one runs into one more run.
/// Until `run` runs, requests only wait (admin commands and tests never start it).
final class WALCheckpointer: Sendable {
    private let connection: DatabaseQueue
    private let requests: AsyncStream<Void>
    private let requester: AsyncStream<Void>.Continuation

    /// Opens a connection of its own to the database at `path` (which must be in WAL mode).
    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "checkpointer"
        connection = try DatabaseQueue(path: path, configuration: configuration)
        // One waiting request is enough: any number made while a checkpoint runs ask for
        // the same thing, one more checkpoint after it.
        (requests, requester) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a checkpoint after the one running (if any). Returns at once.
    func request() {
        requester.yield()
    }

    /// Runs the requested checkpoints until the task is cancelled. GRDB runs each on the
    /// connection's own queue, never on a thread of Swift's cooperative pool. A failure
    /// (the database busy past the timeout) only delays the copy: the writer's automatic
    /// checkpoint, set high, still bounds the log. It is reported to `failed`.
    func run(failed: @Sendable (any Error) -> Void) async {
        for await _ in requests {
            do {
                _ = try await connection.writeWithoutTransaction { try $0.checkpoint(.passive) }
            } catch {
                failed(error)
            }
        }
    }
}
