import Synchronization

/// A budget of request-body bytes the node holds at once. A large push reserves its size
/// before its body is read and gives it back when its answer is made, so sixteen maximum-size
/// pushes arriving together are read a few at a time (the rest wait, their bytes held back
/// by TCP) instead of all at once in memory. Waiters are served first come, first served; a
/// reservation larger than the whole budget is clamped to it so it can still run alone.
final class BodyBudget: Sendable {
    let capacity: Int
    private let state: Mutex<State>

    private struct State: ~Copyable {
        var available: Int
        var nextTicket = 0
        var waiters: [(ticket: Int, bytes: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    }

    init(capacity: Int) {
        self.capacity = max(1, capacity)
        state = Mutex(State(available: max(1, capacity)))
    }

    /// Waits until `bytes` (clamped to the capacity) are free and takes them; returns the
    /// amount taken, to pass to `release`. Cancellation ends the wait with `CancellationError`.
    func reserve(_ bytes: Int) async throws -> Int {
        let bytes = min(max(bytes, 0), capacity)
        let ticket: Int? = state.withLock { state in
            if state.waiters.isEmpty && state.available >= bytes {
                state.available -= bytes
                return nil
            }
            state.nextTicket += 1
            return state.nextTicket
        }
        guard let ticket else { return bytes }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let cancelled = state.withLock { state -> Bool in
                    if Task.isCancelled { return true }
                    state.waiters.append((ticket, bytes, continuation))
                    Self.grant(&state)
                    return false
                }
                if cancelled { continuation.resume(throwing: CancellationError()) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, any Error>? in
                guard let index = state.waiters.firstIndex(where: { $0.ticket == ticket }) else { return nil }
                return state.waiters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
        return bytes
    }

    /// Reservations waiting for bytes (for tests and metrics).
    var waitingCount: Int { state.withLock { $0.waiters.count } }

    /// Gives back what `reserve` took and wakes the waiters that now fit.
    func release(_ bytes: Int) {
        state.withLock { state in
            state.available += bytes
            Self.grant(&state)
        }
    }

    /// Resumes waiters in order while the first one fits. (Resuming a continuation under the
    /// lock only schedules the waiting task; it runs no code here.)
    private static func grant(_ state: inout State) {
        while let first = state.waiters.first, first.bytes <= state.available {
            state.available -= first.bytes
            state.waiters.removeFirst()
            first.continuation.resume()
        }
    }
}
