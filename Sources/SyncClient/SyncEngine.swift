import Foundation
import SyncModel
import SyncProtocol
import SyncStore

/// Progress of a sync, for terminals.
public struct SyncProgress: Sendable {
    /// Which half of the sync is running: the push (re-delivery included) or the pull.
    public enum Phase: String, Sendable { case push, pull }
    /// The phase the count belongs to.
    public let phase: Phase
    /// Records done so far in this sync: pushed (and re-delivered), or pulled.
    public let done: Int
    /// Known for pushes (the outbox size), unknown for pulls.
    public let total: Int?
}

/// What a sync did.
public struct SyncSummary: Sendable {
    /// Outbox records the node took (re-sent ones are counted in `redelivered`).
    public var pushed = 0
    /// Record states received from pull pages.
    public var pulled = 0
    /// Records holding a conflict after the sync, on this device.
    public var conflicts = 0
    /// Records the node refused (id and reason): they stay queued and are retried next time.
    public var refused: [(id: RecordID, reason: String)] = []
    /// Set when the node turned out to be restored from a backup: this device started its
    /// pull over and re-sent what it holds.
    public var nodeRestored = false
    /// Records re-sent to a restored node.
    public var redelivered = 0
    /// Records a restored node would not take back (id and reason): they stay on this
    /// device, and are not sent again.
    public var notRedelivered: [(id: RecordID, reason: String)] = []
    /// Records a restored node refused for now, during its restore window: sent again by
    /// the next sync.
    public var redeliveryDeferred = 0
    /// What left this device because its user lost the right to hold it, one entry per case
    /// and reason, in the order the node said so.
    public var dropped: [ReplicaStore.DroppedRecords] = []
    /// Queued changes to dropped records that the node had not taken, saved to this file
    /// (`undeliveredDirectory`) for the user to pass on; nil when there were none.
    public var undeliveredFile: URL?
    /// How many changes `undeliveredFile` holds.
    public var undelivered = 0
    /// Wall time of the push phase (re-delivery included), in seconds.
    public var pushSeconds = 0.0
    /// Wall time of the pull phase, in seconds.
    public var pullSeconds = 0.0

    /// Nothing done yet.
    public init() {}
}

/// `casesync sync`: push the outbox in batches, then pull pages until the server has no
/// more, each page merged in one transaction with its cursor. Safe to interrupt anywhere:
/// an outbox entry is cleared only when the server's answer covers the local state, and the
/// cursor only moves with a committed page, so the next run finishes the job; re-sent
/// batches and re-pulled pages change nothing.
///
/// A node restored from an older backup has a new generation id (sent with every answer)
/// and numbers its changes anew. A device that sees a generation other than the one it
/// last pulled from, or is told its cursor is ahead of the node, queues every record it
/// holds for re-delivery and forgets its cursor (one transaction), then syncs again: the
/// node gets back what it lost, the device what the node now numbers differently.
public struct SyncEngine: Sendable {
    /// The replica setting that holds the pull cursor (`PullCursor`, in its stored form).
    public static let cursorKey = "pullCursor"
    /// The replica settings that hold the node's directory (PROTOCOL.md §15): its JSON as the
    /// node sent it, and its version number.
    public static let directoryKey = "directory"
    public static let directoryVersionKey = "directoryVersion"
    /// The generation of the node this device last pulled from.
    public static let generationKey = "nodeGeneration"
    /// The device's replica: outbox, re-delivery queue, settings and the records pulled into it.
    public let store: ReplicaStore
    /// The client for the node, with this device's credentials.
    public let client: SyncClient
    /// Records per push request (`casesync sync --batch-size`).
    public var batchSize = 2000
    /// Records asked for per pull page: the most the node serves. Each page is one
    /// transaction and one disk sync on the device; 2,000 a page made a first sync of
    /// 100,000 and of 1,000,000 records about 14 % faster than 1,000 (BENCHMARKS.md, "scale").
    public var pageSize = 2000
    /// The time recorded as the last complete sync (`casesync status`); injected by tests.
    public var now: @Sendable () -> Date = { Date() }
    /// Where a queued change to a record this device must drop is saved when the node did
    /// not take it (PROTOCOL.md §13); the data folder, for `casesync`.
    public var undeliveredDirectory: URL?

    /// A sync of `store` with the node behind `client`, with the default batch and page sizes.
    public init(store: ReplicaStore, client: SyncClient) {
        self.store = store
        self.client = client
    }

    /// Thrown inside a sync when the node turns out to have been restored.
    struct NodeRewound: Error {}

    /// What this device knows of the node it syncs with, at the start of a pass.
    struct NodeHistory: Sendable {
        /// The generation it last pulled from; nil before its first pull from a node that
        /// names generations.
        let generation: String?
        /// Whether it has pulled before (a stored cursor).
        let hasPulled: Bool

        /// Throws `NodeRewound` when `node` is another generation than the one this device
        /// pulled from, or is restoring while this device cannot tell (it has pulled, but
        /// from a node that named no generation): either way the node may lack writes this
        /// device holds, and this device may hold a cursor the node numbers anew.
        func check(_ node: SyncClient.NodeState?) throws {
            guard let node else { return }
            if let generation, let current = node.generation, current != generation { throw NodeRewound() }
            if generation == nil, hasPulled, node.restoring { throw NodeRewound() }
        }
    }

    /// Syncs once: re-delivery to a restored node, the outbox, then the pull; starts over (at most three
    /// times) when the node turns out to have been restored. `progress` hears the counts as they grow.
    /// On a failure, what was already committed stays, and the next run carries on from there.
    public func run(progress: @Sendable (SyncProgress) -> Void = { _ in }) async throws -> SyncSummary {
        var summary = SyncSummary()
        if try store.eraseIsDue() { try store.eraseFreedSpace() }
        // At most a few rewinds in one run (a node restored twice while we sync is absurd,
        // but must not loop for ever).
        for _ in 0..<3 {
            do {
                let history = NodeHistory(generation: try store.setting(Self.generationKey), hasPulled: try store.setting(Self.cursorKey) != nil)
                try await pass(&summary, history: history, progress: progress)
                // A refused change to a record dropped since is no longer queued: it is in
                // the undelivered file, and must not fail every later sync.
                summary.refused = try summary.refused.filter { try store.record($0.id) != nil }
                summary.conflicts = try store.conflictedCount()
                return summary
            } catch let error as SyncError where error.errorCode == .wipe {
                throw try await eraseAsAsked()
            } catch is NodeRewound {
                summary.nodeRestored = true
                // The new generation is stored with the first page pulled from the restored node.
                try store.rewind(forget: [Self.cursorKey, Self.generationKey, Self.directoryVersionKey])
            }
        }
        throw SyncError(.protocolViolation, "the node was restored again and again during this sync; run `casesync sync` again")
    }

    /// One push of the outbox, re-delivery of what a restored node lacks, and the pull.
    func pass(_ summary: inout SyncSummary, history: NodeHistory, progress: @Sendable (SyncProgress) -> Void) async throws {
        let pushStart = ContinuousClock.now
        // What a restored node lacks goes first, cases before their records: a queued
        // change to a record may need its case there.
        try await redeliver(&summary, history: history, progress: progress)
        let pending = try store.pendingCount()
        // Two batches in flight: the node reads and checks one while it commits the other.
        // A batch holding records of a case that is itself in the batch before waits for
        // that batch's answer, so the node always knows a case before its records.
        var inFlight: (task: Task<BatchOutcome, Error>, ids: Set<RecordID>)?
        var pushed = summary.pushed
        var refused: [(id: RecordID, reason: String)] = []
        var purgedCases: [RecordID] = []
        func collect(_ outcome: BatchOutcome) {
            pushed += outcome.pushed
            refused += outcome.refused
            purgedCases += outcome.purgedCases
            progress(SyncProgress(phase: .push, done: pushed, total: pending))
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
                inFlight = (Task { try await push(batch, history: history) }, Set(batch.map(\.id)))
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
        summary.pushed = pushed
        // A refusal is reported once, from the last pass (a rewind re-sends everything).
        summary.refused = refused
        try dropPurged(purgedCases, summary: &summary)
        summary.pushSeconds += Self.seconds(since: pushStart)

        let pullStart = ContinuousClock.now
        var cursor = try store.setting(Self.cursorKey).flatMap(PullCursor.init(text:)) ?? .start
        var toldOfGrants = false
        var directoryVersion: String?
        // The next page is asked for while this one is merged, so the node builds it while
        // the device writes (PROTOCOL.md §10) — but not after a page that carries drops: asking
        // from past a drop tells the node the device knows of it (`markTold`), which must not
        // happen before the page that holds it is stored.
        var prefetched: Task<SyncClient.Page, any Error>?
        defer { prefetched?.cancel() }
        let (client, pageSize) = (self.client, self.pageSize)
        while true {
            let page: SyncClient.Page
            do {
                if let prefetched {
                    page = try await prefetched.value
                } else {
                    page = try await client.pull(since: cursor, limit: pageSize)
                }
            } catch let error as SyncError where error.errorCode == .cursorAhead {
                throw NodeRewound()
            }
            prefetched = nil
            try history.check(page.node)
            if page.more, page.drops.isEmpty {
                let next = page.next
                prefetched = Task { try await client.pull(since: next, limit: pageSize) }
            }
            var settings = [Self.cursorKey: page.next.description]
            if let generation = page.node?.generation, history.generation == nil { settings[Self.generationKey] = generation }
            // `Date.ISO8601FormatStyle`, not `ISO8601DateFormatter`: building the latter
            // (through ICU) cost a tenth of a small sync's CPU. Same text: 2026-12-01T10:00:00Z.
            if !page.more { settings["lastSync"] = now().formatted(.iso8601) }
            let (_, dropped) = try store.merge(page.states, drops: page.drops, metadata: page.metadata, grants: page.grants, settings: settings) { queued in
                try saveUndelivered(queued, summary: &summary)
            }
            summary.dropped += dropped
            toldOfGrants = toldOfGrants || !page.grants.isEmpty
            try scrubPurged(dropped.filter { $0.reason == .purged }.map(\.caseID))
            summary.pulled += page.states.count
            directoryVersion = page.node?.directory ?? directoryVersion
            cursor = page.next
            progress(SyncProgress(phase: .pull, done: summary.pulled, total: nil))
            if !page.more { break }
        }
        // A grant is kept only with the case it names (a page may carry a grant and the end
        // of it, or a grant whose case arrives on a later page: settled once all are in).
        if toldOfGrants { try store.forgetGrantsOfCasesNotHeld() }
        try await refreshDirectory(seen: directoryVersion)
        // What dropped records left in free space and in the WAL goes too, once per sync (and
        // after a sync that failed once it had dropped some).
        if try store.eraseIsDue() { try store.eraseFreedSpace() }
        summary.pullSeconds += Self.seconds(since: pullStart)
    }

    /// Fetches the node's directory when the pull saw a version this device does not hold.
    /// The directory only names writers and checks values: a failure to fetch it leaves the
    /// one held, and the next sync fetches it again, so it never fails a sync that merged.
    func refreshDirectory(seen version: String?) async throws {
        guard let version, try store.setting(Self.directoryVersionKey) != version else { return }
        guard let fetched = try? await client.directoryJSON() else { return }
        try store.setSettings([Self.directoryKey: String(decoding: fetched.json, as: UTF8.self),
                               Self.directoryVersionKey: fetched.version ?? version])
    }

    /// The node asked this device to erase its case data (revoked with `--wipe`, or its user
    /// disabled; PROTOCOL.md §13.3): every record goes, with its traces in the files, then
    /// the node is told. Returns the error the sync ends with (exit 4). If the node cannot be
    /// told now, the next sync is asked again, finds nothing left, and tells it.
    func eraseAsAsked() async throws -> SyncError {
        let erased = try Self.eraseCaseData(of: store, undeliveredIn: undeliveredDirectory)
        let told = (try? await client.confirmWipe()) != nil
        return SyncError(.unauthorised, code: ErrorCode.wipe.rawValue,
                         "the node had this device erase its case data: \(erased) record\(erased == 1 ? "" : "s") removed\(told ? "" : " (the node could not be told yet; the next sync tells it)"); it no longer syncs, enroll it again with a new token to use it")
    }

    /// Erases every case record of `store` with its traces in the files (`eraseCaseData`, then
    /// `eraseFreedSpace`), forgets the pull cursor and what the device knew of the node, and
    /// overwrites and removes the undelivered files in `directory`: what the node asks of a
    /// wiped device, and `casesync wipe`. Returns how many records went.
    public static func eraseCaseData(of store: ReplicaStore, undeliveredIn directory: URL?) throws -> Int {
        let erased = try store.eraseCaseData(forget: [cursorKey, generationKey, "lastSync", directoryKey, directoryVersionKey])
        try store.eraseFreedSpace()
        if let directory { try eraseUndeliveredFiles(in: directory) }
        return erased
    }

    /// Overwrites and removes every `undelivered-*.ndjson` file in `directory`: an erasure
    /// of the device's case data takes them too (they hold record states).
    static func eraseUndeliveredFiles(in directory: URL) throws {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasPrefix("undelivered-") && name.hasSuffix(".ndjson") {
            try overwrite(directory.appendingPathComponent(name), with: [])
        }
    }

    /// Records of a purged case are refused for good: the case leaves this device at once,
    /// as a pull's drop would have it leave, queued changes included (PROTOCOL.md §13.4).
    func dropPurged(_ cases: [RecordID], summary: inout SyncSummary) throws {
        let purged = Set(cases).sorted { $0.rawValue < $1.rawValue }
        guard !purged.isEmpty else { return }
        let (_, dropped) = try store.merge([], drops: purged.map { DropNotice(seq: 0, caseID: $0, record: nil, reason: .purged) }, settings: [:]) { _ in }
        summary.dropped += dropped
        try scrubPurged(purged)
    }

    /// An undelivered file saved before a case was purged may hold its records: they are
    /// taken out of it (the file overwritten, then written again without them).
    func scrubPurged(_ purged: [RecordID]) throws {
        let cases = Set(purged)
        guard !cases.isEmpty, let directory = undeliveredDirectory else { return }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasPrefix("undelivered-") && name.hasSuffix(".ndjson") {
            let file = directory.appendingPathComponent(name)
            let lines = try [UInt8](Data(contentsOf: file)).split(separator: UInt8(ascii: "\n"))
            let kept = lines.filter { line in
                guard let state = try? RecordState(json: Array(line)) else { return true }
                return !cases.contains(state.caseID ?? state.id)
            }
            guard kept.count < lines.count else { continue }
            try Self.overwrite(file, with: kept.flatMap { Array($0) + [UInt8(ascii: "\n")] })
        }
    }

    /// Zeroes `file` in place, then writes `bytes` as its whole content (or removes it when
    /// there are none): what it held is not left in the blocks it frees.
    static func overwrite(_ file: URL, with bytes: [UInt8]) throws {
        let descriptor = open(file.path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw SyncError(.protocolViolation, "cannot rewrite \(file.path); remove it by hand: it holds records of a purged case") }
        defer { close(descriptor) }
        let size = Int(lseek(descriptor, 0, SEEK_END))
        _ = lseek(descriptor, 0, SEEK_SET)
        let zeros = [UInt8](repeating: 0, count: max(size, 0))
        _ = zeros.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        _ = fsync(descriptor)
        guard !bytes.isEmpty else {
            try FileManager.default.removeItem(at: file)
            return
        }
        _ = ftruncate(descriptor, 0)
        _ = lseek(descriptor, 0, SEEK_SET)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else { throw SyncError(.protocolViolation, "cannot rewrite \(file.path); free space and sync again") }
    }

    /// Saves queued changes to records being dropped, as NDJSON of their canonical states,
    /// to a new file of mode 0600, synced to disk before the drop commits. (The node took
    /// every change made before the device knew: this holds only what it refused for some
    /// other reason, which it also said in the sync's report.)
    func saveUndelivered(_ queued: [ReplicaStore.QueuedRecord], summary: inout SyncSummary) throws {
        guard let directory = undeliveredDirectory else {
            throw SyncError(.protocolViolation, "\(queued.count) queued change\(queued.count == 1 ? "" : "s") to records this device must drop could not be saved (no folder for them); nothing was removed")
        }
        let stamp = now().formatted(.iso8601).replacingOccurrences(of: ":", with: "")
        let file = summary.undeliveredFile ?? directory.appendingPathComponent("undelivered-\(stamp).ndjson")
        var bytes: [UInt8] = []
        for record in queued { bytes += record.state + [UInt8(ascii: "\n")] }
        let descriptor = open(file.path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw SyncError(.protocolViolation, "cannot write \(file.path) to keep \(queued.count) queued change\(queued.count == 1 ? "" : "s") of records this device must drop; nothing was removed: free space or fix the folder's permissions and sync again")
        }
        defer { close(descriptor) }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            throw SyncError(.protocolViolation, "cannot write \(file.path) to keep queued changes of records this device must drop; nothing was removed: free space and sync again")
        }
        summary.undeliveredFile = file
        summary.undelivered += queued.count
    }

    /// Re-sends the records queued by a rewind, cases first so the node knows a case before
    /// its records. Re-delivery is best effort and never blocks a sync: a record the node
    /// refuses while its restore window is open stays queued for the next sync (it may be
    /// refused only until another device has brought back its case, or the access to it);
    /// refused after the window, it is taken off the queue and reported. Either way it stays
    /// on this device, and a local change to it is in the outbox as always.
    func redeliver(_ summary: inout SyncSummary, history: NodeHistory, progress: @Sendable (SyncProgress) -> Void) async throws {
        for cases in [true, false] {
            var after: RecordID?
            while true {
                let batch = try store.redelivery(cases: cases, after: after, limit: batchSize)
                guard let last = batch.last else { break }
                after = last.id
                let outcome = try await pushSettingAside(batch, history: history)
                try store.dequeueRedelivery(outcome.taken.map(\.id))
                summary.redelivered += outcome.taken.count
                try dropPurged(outcome.refused.filter { $0.error.errorCode == .purged }.map(\.record.caseID), summary: &summary)
                for (record, error) in outcome.refused where error.errorCode != .purged {
                    if error.nodeRestoring {
                        summary.redeliveryDeferred += 1
                    } else {
                        summary.notRedelivered.append((record.id, error.message))
                        try store.dequeueRedelivery([record.id])
                    }
                }
                progress(SyncProgress(phase: .push, done: summary.pushed + summary.redelivered, total: nil))
            }
        }
    }

    /// Pushes `records`. A batch the node finds too large (2,000 records of long texts can
    /// pass its body limit) goes again in halves; a single record too large is refused as
    /// that record, so it is set aside like any other refusal. A refusal's `index` counts
    /// from the start of `records`.
    func send(_ records: ArraySlice<ReplicaStore.QueuedRecord>) async throws -> SyncClient.PushReply {
        do {
            return try await client.push(canonical: records.map(\.state))
        } catch let error as SyncError where error.errorCode == .tooLarge {
            guard records.count > 1 else { throw error.naming(index: 0) }
            let middle = records.startIndex + records.count / 2
            let first = try await send(records[..<middle])
            do {
                let second = try await send(records[middle...])
                return SyncClient.PushReply(answers: first.answers + second.answers, node: second.node)
            } catch let error as SyncError where error.index != nil {
                throw error.naming(index: error.index.map { $0 + middle - records.startIndex })
            }
        }
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
        /// The cases of records refused as `purged`.
        var purgedCases: [RecordID] = []
    }

    /// Pushes one batch of the outbox. A record the node refuses stays queued.
    func push(_ batch: [ReplicaStore.QueuedRecord], history: NodeHistory) async throws -> BatchOutcome {
        let outcome = try await pushSettingAside(batch, history: history)
        return BatchOutcome(pushed: outcome.taken.count, refused: outcome.refused.map { ($0.record.id, $0.error.message) },
                            purgedCases: outcome.refused.filter { $0.error.errorCode == .purged }.map(\.record.caseID))
    }

    /// What `pushSettingAside` did: the records the node took, and those it refused by name.
    struct SetAsideOutcome: Sendable {
        var taken: [ReplicaStore.QueuedRecord] = []
        var refused: [(record: ReplicaStore.QueuedRecord, error: SyncError)] = []
    }

    /// Pushes `batch` and acknowledges the answer. A record the node refuses by name is set
    /// aside and the rest pushed again, so one bad record never blocks everything else, nor
    /// the pull after it. What a restored node merged is acknowledged like any answer before
    /// its new generation is noticed; the rewind then re-sends everything else.
    func pushSettingAside(_ batch: [ReplicaStore.QueuedRecord], history: NodeHistory) async throws -> SetAsideOutcome {
        var outcome = SetAsideOutcome()
        var sending = batch
        while !sending.isEmpty {
            do {
                let reply = try await send(sending[...])
                try store.acknowledge(reply.answers.map { ($0.id, $0.version) })
                try history.check(reply.node)
                outcome.taken = sending
                break
            } catch let error as SyncError where error.kind == .refused {
                guard let index = error.index, sending.indices.contains(index) else { throw error }
                if error.errorCode == .purged {
                    // Every record of a purged case is refused: all set aside at once, not
                    // one round trip each.
                    let caseID = sending[index].caseID
                    outcome.refused += sending.filter { $0.caseID == caseID }.map { ($0, error) }
                    sending.removeAll { $0.caseID == caseID }
                    continue
                }
                outcome.refused.append((sending[index], error))
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
