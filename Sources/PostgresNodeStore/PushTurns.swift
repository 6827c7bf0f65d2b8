/// Lets this process's pushes into the database one at a time, the others waiting in order
/// in memory. Pushes take turns on the `node` row's lock anyway (PROTOCOL.md §21); waiting
/// here instead of there keeps them from holding every pooled connection while they wait,
/// so pulls, exports and authentication always find one.
actor PushTurns {
    private var busy = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Runs `body` when it is this caller's turn.
    nonisolated func run<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        await acquire()
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }

    private func acquire() async {
        guard busy else {
            busy = true
            return
        }
        await withCheckedContinuation { waiting.append($0) }
    }

    private func release() {
        if waiting.isEmpty {
            busy = false
        } else {
            waiting.removeFirst().resume()
        }
    }
}
