import Foundation
import SyncModel
import SyncStore

/// Progress of a sync, for terminals.
public struct SyncProgress: Sendable {
    public enum Phase: String, Sendable { case push, pull }
    public let phase: Phase
    public let done: Int
    /// Known for pushes (the outbox size), unknown for pulls.
    public let total: Int?
}

/// What a sync did.
public struct SyncSummary: Sendable {
    public var pushed = 0
    public var pulled = 0
    /// Records holding a conflict after the sync, on this device.
    public var conflicts = 0
    /// Records the node refused (id and reason): they stay queued and are retried next time.
    public var refused: [(id: RecordID, reason: String)] = []
    /// Wall time of the push and pull phases, in seconds.
    public var pushSeconds = 0.0
    public var pullSeconds = 0.0

    public init() {}
}

/// `casesync sync`: push the outbox in batches, then pull pages until the server has no
/// more, each page merged in one transaction with its cursor. Safe to interrupt anywhere:
/// an outbox entry is cleared only when the server's answer covers the local state, and the
/// cursor only moves with a committed page, so the next run finishes the job; re-sent
/// batches and re-pulled pages change nothing.
public struct SyncEngine: Sendable {
    public static let cursorKey = "pullCursor"
    public let store: ReplicaStore
    public let client: SyncClient
    public var batchSize = 2000
    public var pageSize = 1000

    public init(store: ReplicaStore, client: SyncClient) {
        self.store = store
        self.client = client
    }

    public func run(progress: @Sendable (SyncProgress) -> Void = { _ in }) async throws -> SyncSummary {
        var summary = SyncSummary()
        let pushStart = ContinuousClock.now
        let pending = try store.pendingCount()
        // Two batches in flight: the node reads and checks one while it commits the other.
        // A batch holding records of a case that is itself in the batch before waits for
        // that batch's answer, so the node always knows a case before its records.
        var inFlight: (task: Task<BatchOutcome, Error>, ids: Set<RecordID>)?
        func collect(_ outcome: BatchOutcome) {
            summary.pushed += outcome.pushed
            summary.refused += outcome.refused
            progress(SyncProgress(phase: .push, done: summary.pushed, total: pending))
        }
        do {
            var after: RecordID?
            while true {
                let batch = try store.outbox(after: after, limit: batchSize)
                guard let last = batch.last else { break }
                after = last.id
                if let previous = inFlight, Self.dependsOn(previous.ids, batch) {
                    inFlight = nil
                    collect(try await previous.task.value)
                }
                let previous = inFlight
                inFlight = (Task { try await push(batch) }, Set(batch.map(\.id)))
                if let previous { collect(try await previous.task.value) }
            }
            if let previous = inFlight {
                inFlight = nil
                collect(try await previous.task.value)
            }
        } catch {
            // Never leave a push running behind a failure: its answer is still acknowledged.
            if let previous = inFlight { _ = try? await previous.task.value }
            throw error
        }
        summary.pushSeconds = Self.seconds(since: pushStart)
        let pullStart = ContinuousClock.now
        var cursor = try store.setting(Self.cursorKey).flatMap(PullCursor.init(text:)) ?? .start
        while true {
            let page = try await client.pull(since: cursor, limit: pageSize)
            var settings = [Self.cursorKey: page.next.description]
            // `Date.ISO8601FormatStyle`, not `ISO8601DateFormatter`: building the latter
            // (through ICU) cost a tenth of a small sync's CPU. Same text: 2026-12-01T10:00:00Z.
            if !page.more { settings["lastSync"] = Date().formatted(.iso8601) }
            try store.merge(page.states, settings: settings)
            summary.pulled += page.states.count
            cursor = page.next
            progress(SyncProgress(phase: .pull, done: summary.pulled, total: nil))
            if !page.more { break }
        }
        summary.pullSeconds = Self.seconds(since: pullStart)
        summary.conflicts = try store.conflictedCount()
        return summary
    }

    /// Whether `batch` holds a record of a case that is among `earlier` (the ids of the batch
    /// still in flight): then it must wait for that batch's answer, or the node could meet
    /// the record before its case.
    static func dependsOn(_ earlier: Set<RecordID>, _ batch: [ReplicaStore.QueuedRecord]) -> Bool {
        batch.contains { $0.caseID != $0.id && earlier.contains($0.caseID) }
    }

    /// What pushing one batch did.
    struct BatchOutcome: Sendable {
        var pushed = 0
        var refused: [(id: RecordID, reason: String)] = []
    }

    /// Pushes one batch and acknowledges the answer. A record the node refuses is set aside
    /// (it stays queued) and the rest is pushed, so one bad record never blocks everything
    /// else, nor the pull after it.
    func push(_ batch: [ReplicaStore.QueuedRecord]) async throws -> BatchOutcome {
        var outcome = BatchOutcome()
        var sending = batch
        while !sending.isEmpty {
            do {
                let answers = try await client.push(canonical: sending.map(\.state))
                try store.acknowledge(answers.map { ($0.id, $0.version) })
                outcome.pushed = sending.count
                break
            } catch let error as SyncError where error.kind == .refused {
                guard let index = error.index, sending.indices.contains(index) else { throw error }
                outcome.refused.append((sending[index].id, error.message))
                sending.remove(at: index)
            }
        }
        return outcome
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let (whole, attoseconds) = (ContinuousClock.now - start).components
        return Double(whole) + Double(attoseconds) / 1e18
    }
}
