import Foundation
import GRDB
import Synchronization

/// Copies the write-ahead log into the database file on a connection and thread of its own.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses its threshold, so the
/// writer (on the sync node: every device's pushes) waits for the whole copy and its sync
/// to disk. A passive checkpoint on another connection runs beside the writer instead, and
/// the next transaction after a complete checkpoint starts the log again from its beginning.
/// Requests made while a checkpoint runs are folded into one more run after it. Durability
/// does not depend on checkpoints: a committed transaction is already synced in the log.
public final class WALCheckpointer: Sendable {
    private let connection: DatabaseQueue
    private let state = Mutex(State())

    private struct State {
        var running = false
        var requestedAgain = false
    }

    /// Opens a connection of its own to the database at `path` (which must be in WAL mode).
    init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.label = "checkpointer"
        connection = try DatabaseQueue(path: path, configuration: configuration)
    }

    /// Starts a passive checkpoint in the background, or asks for one more after the one
    /// running. Returns at once.
    public func request() {
        let start = state.withLock { state in
            if state.running {
                state.requestedAgain = true
                return false
            }
            state.running = true
            return true
        }
        guard start else { return }
        DispatchQueue.global(qos: .utility).async { self.run() }
    }

    /// Runs a checkpoint now, on the calling thread (tests, and before a backup).
    public func checkpointNow() throws {
        _ = try connection.writeWithoutTransaction { try $0.checkpoint(.passive) }
    }

    private func run() {
        repeat {
            // A failure (the database busy past the timeout) only delays the copy: the
            // writer's automatic checkpoint, set high, still bounds the log.
            try? checkpointNow()
        } while state.withLock { state in
            if state.requestedAgain {
                state.requestedAgain = false
                return true
            }
            state.running = false
            return false
        }
    }
}
