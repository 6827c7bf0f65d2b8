import GRDB
import Synchronization

/// Runs jobs that each need a write transaction in *group commits*: jobs submitted while a
/// commit is running are applied together, each in a savepoint of its own, in one
/// transaction by the next commit. Two hundred devices pushing at once then cost a few
/// transactions and disk syncs, not two hundred, and each job still succeeds or fails
/// alone: a job that throws rolls back its savepoint and gets its error, the others in the
/// batch are unaffected. `submit` returns only once the transaction holding the job is
/// durable, as a lone transaction would.
///
/// No task is started: the submitter that finds no commit running leads one, taking every
/// job waiting then (up to `maxBatch`); when it is done it hands the lead to the first job
/// that arrived meanwhile (that submitter's wait ends with the order to lead), so no
/// submitter runs more than one batch after its own job is durable.
public final class GroupCommitter<Job: Sendable, Output: Sendable>: Sendable {
    /// Applies one job inside the group's transaction, in the job's own savepoint: a job that
    /// throws is rolled back alone.
    public typealias Apply = @Sendable (Database, Job) throws -> Output

    private enum Wake: Sendable {
        case done(Result<Output, any Error>)
        case lead
    }

    private struct Waiting: Sendable {
        let job: Job
        let continuation: CheckedContinuation<Wake, Never>
    }

    private struct State: ~Copyable {
        var committing = false
        var queue: [Waiting] = []
    }

    private let writer: any DatabaseWriter
    private let apply: Apply
    private let maxBatch: Int
    private let state = Mutex(State())

    /// `apply` runs inside the group's transaction, in a savepoint of the job's own.
    public init(writer: any DatabaseWriter, maxBatch: Int = 64, apply: @escaping Apply) {
        self.writer = writer
        self.maxBatch = max(1, maxBatch)
        self.apply = apply
    }

    /// Applies `job` in the next group commit and returns its output once it is durable.
    public func submit(_ job: Job) async throws -> Output {
        let leadsAtOnce = state.withLock { state -> Bool in
            guard !state.committing else { return false }
            state.committing = true
            return true
        }
        if leadsAtOnce {
            return try await lead(with: job).get()
        }
        // Queue and wait to be told the result, or to lead the next commit.
        let wake: Wake = await withCheckedContinuation { continuation in
            let leadNow = state.withLock { state -> Bool in
                // The commit may have ended between the two locks: then lead at once.
                guard state.committing else {
                    state.committing = true
                    return true
                }
                state.queue.append(Waiting(job: job, continuation: continuation))
                return false
            }
            if leadNow { continuation.resume(returning: .lead) }
        }
        switch wake {
        case let .done(result): return try result.get()
        case .lead: return try await lead(with: job).get()
        }
    }

    /// Commits `job` with the jobs queued (never queued itself: a submitter handed the lead
    /// was taken off the queue), resumes their submitters, then hands the lead on or ends the
    /// run.
    private func lead(with job: Job) async -> Result<Output, any Error> {
        let batch = state.withLock { state -> [Waiting] in
            let count = min(state.queue.count, maxBatch - 1)
            defer { state.queue.removeFirst(count) }
            return Array(state.queue.prefix(count))
        }
        let jobs = [job] + batch.map(\.job)
        let outputs: [Result<Output, any Error>]
        do {
            outputs = try await writer.write { [apply] db in
                // A job alone needs no savepoint (they cost a sub-journal copy of every page
                // the job changes): if it throws, the whole transaction rolls back.
                if jobs.count == 1 { return [.success(try apply(db, jobs[0]))] }
                var outputs: [Result<Output, any Error>] = []
                outputs.reserveCapacity(jobs.count)
                for job in jobs {
                    var output: Result<Output, any Error> = .failure(CancellationError())
                    do {
                        try db.inSavepoint {
                            output = .success(try apply(db, job))
                            return .commit
                        }
                    } catch {
                        output = .failure(error)
                    }
                    outputs.append(output)
                }
                return outputs
            }
        } catch {
            // The transaction failed (for a lone job: its own error): every job in it gets it.
            outputs = Array(repeating: .failure(error), count: jobs.count)
        }
        for (index, waiting) in batch.enumerated() {
            waiting.continuation.resume(returning: .done(outputs[index + 1]))
        }
        let next = state.withLock { state -> Waiting? in
            guard !state.queue.isEmpty else {
                state.committing = false
                return nil
            }
            return state.queue.removeFirst()
        }
        next?.continuation.resume(returning: .lead)
        return outputs[0]
    }
}
