import Foundation
import Synchronization
import SyncClient
import SyncModel
import SyncProtocol
import SyncStore
import Testing

/// The sync engine's rules, over a scripted transport: no network, no binaries, no waiting.
struct SyncEngineTests {
    let device = try! DeviceID("ann-laptop")
    let now: Int64 = 1_795_000_000_000

    func makeStore() throws -> ReplicaStore {
        let store = try ReplicaStore.inMemory()
        try store.initialize(device: device, name: "Ann's laptop", at: now)
        return store
    }

    /// A new case, created on the device (ids are time-ordered: later calls sort after).
    @discardableResult
    func newCase(_ store: ReplicaStore, _ number: Int) throws -> RecordState {
        var generator = SystemRandomNumberGenerator()
        let id = RecordID.make(milliseconds: now + Int64(number), using: &generator)
        return try store.write(id, type: .case, creating: true, at: now) { state, stamp in
            try state.apply([.set("reference", .text("MED-2026-\(number)")), .set("title", .text("Case \(number)")), .set("status", .text("intake"))], stamp: stamp)
        }
    }

    @discardableResult
    func newNote(_ store: ReplicaStore, _ number: Int, in caseID: RecordID) throws -> RecordState {
        var generator = SystemRandomNumberGenerator()
        let id = RecordID.make(milliseconds: now + Int64(number), using: &generator)
        return try store.write(id, type: .note, creating: true, at: now) { state, stamp in
            try state.apply([.set("case", .text(caseID.rawValue)), .set("text", .text("note \(number)"))], stamp: stamp)
        }
    }

    func engine(_ store: ReplicaStore, _ transport: ScriptedTransport, retry: RetryPolicy = .none, batchSize: Int = 2000) -> SyncEngine {
        var engine = SyncEngine(store: store, client: SyncClient(transport: transport, device: device, secret: "s", retry: retry))
        engine.batchSize = batchSize
        engine.now = { [now] in Date(timeIntervalSince1970: Double(now) / 1000) }
        return engine
    }

    static func isPush(_ request: TransportRequest) -> Bool { request.path == "/v1/sync/push" }

    // MARK: Two batches in flight

    /// While the node works on one batch the engine sends the next, so two are in flight.
    @Test func twoIndependentBatchesAreInFlightTogether() async throws {
        let store = try makeStore()
        for number in 1...4 { try newCase(store, number) }
        let pushesSeen = Mutex(0)
        let transport = ScriptedTransport { request, _ in
            guard Self.isPush(request) else { return ScriptedTransport.emptyPage }
            let number = pushesSeen.withLock { seen in
                seen += 1
                return seen
            }
            // The first batch is answered only once the second has arrived (or after a second).
            for _ in 0..<200 where number == 1 && pushesSeen.withLock({ $0 }) < 2 {
                try await Task.sleep(for: .milliseconds(5))
            }
            return try ScriptedTransport.accepted(request)
        }
        let summary = try await engine(store, transport, batchSize: 2).run()
        #expect(summary.pushed == 4)
        #expect(transport.mostInFlight == 2, "the second batch went out while the first was unanswered")
        #expect(try store.pendingCount() == 0)
    }

    /// A batch holding a record of a case that the batch in flight carries waits for that
    /// batch's answer: the node always meets a case before its records.
    @Test func aBatchWithRecordsOfACaseInFlightWaitsForItsAnswer() async throws {
        let store = try makeStore()
        let first = try newCase(store, 1)
        try newCase(store, 2)
        try newNote(store, 3, in: first.id)
        try newCase(store, 4)
        let events = Mutex<[String]>([])
        let transport = ScriptedTransport { request, _ in
            guard Self.isPush(request) else { return ScriptedTransport.emptyPage }
            let ids = ScriptedTransport.pushedIDs(request)
            let name = ids.contains(first.id.rawValue) ? "batch with the case" : "batch with its note"
            events.withLock { $0.append("sent \(name)") }
            // Long enough that a second batch sent without waiting would arrive first.
            try await Task.sleep(for: .milliseconds(30))
            events.withLock { $0.append("answered \(name)") }
            return try ScriptedTransport.accepted(request)
        }
        let summary = try await engine(store, transport, batchSize: 2).run()
        #expect(summary.pushed == 4)
        #expect(events.withLock { $0 } == ["sent batch with the case", "answered batch with the case", "sent batch with its note", "answered batch with its note"])
        #expect(transport.mostInFlight == 1)
    }

    // MARK: Refused records

    /// A record the node refuses by index is set aside and the rest of its batch pushed
    /// again: it stays queued on the device and is reported, everything else goes through.
    @Test func aRefusedRecordIsSetAsideAndTheRestIsPushed() async throws {
        let store = try makeStore()
        let cases = try (1...3).map { try newCase(store, $0) }
        let refused = cases[1].id.rawValue
        let transport = ScriptedTransport { request, _ in
            guard Self.isPush(request) else { return ScriptedTransport.emptyPage }
            if let index = ScriptedTransport.pushedIDs(request).firstIndex(of: refused) {
                return ScriptedTransport.refusal(422, code: "invalid_value", index: index)
            }
            return try ScriptedTransport.accepted(request)
        }
        let summary = try await engine(store, transport).run()
        #expect(summary.pushed == 2)
        #expect(summary.refused.map(\.id.rawValue) == [refused])
        #expect(try store.outbox(after: nil, limit: 10).map(\.id.rawValue) == [refused], "the refused record stays queued")
        #expect(transport.requests.filter(Self.isPush).map { ScriptedTransport.pushedIDs($0).count } == [3, 2])
    }

    /// A refusal that names no record is the whole push's: nothing is acknowledged.
    @Test func aRefusalNamingNoRecordStopsTheSyncAndKeepsEverythingQueued() async throws {
        let store = try makeStore()
        for number in 1...3 { try newCase(store, number) }
        let transport = ScriptedTransport { request, _ in
            Self.isPush(request) ? ScriptedTransport.refusal(403, code: "forbidden") : ScriptedTransport.emptyPage
        }
        await #expect { try await engine(store, transport).run() } throws: { ($0 as? SyncError)?.kind == .unauthorised }
        #expect(try store.pendingCount() == 3)
    }

    // MARK: Acknowledgement

    /// An outbox entry is cleared only when the node's answer covers the local state: an
    /// answer for an older version, or a local edit made while the push was in flight,
    /// keeps the record queued.
    @Test func onlyAnAnswerCoveringTheLocalVersionClearsTheOutbox() async throws {
        let store = try makeStore()
        let stale = try newCase(store, 1)
        let editedMeanwhile = try newCase(store, 2)
        let covered = try newCase(store, 3)
        let transport = ScriptedTransport { request, _ in
            guard Self.isPush(request) else { return ScriptedTransport.emptyPage }
            // A local edit lands while the node works on the push.
            try store.write(editedMeanwhile.id, type: .case, at: now) { state, stamp in try state.set("site", .text("North"), stamp: stamp) }
            return try ScriptedTransport.accepted(request) { $0.id == stale.id ? VersionVector() : $0.version }
        }
        _ = try await engine(store, transport).run()
        let queued = Set(try store.outbox(after: nil, limit: 10).map(\.id))
        #expect(queued == [stale.id, editedMeanwhile.id])
        #expect(!queued.contains(covered.id))
    }

    // MARK: Cursor

    /// The pull cursor moves only with a committed page: a page that fails to arrive, or
    /// does not merge, leaves the cursor where the last committed page put it, and the next
    /// sync carries on from there.
    @Test func theCursorMovesOnlyWithACommittedPage() async throws {
        let store = try makeStore()
        let source = try makeStore()
        let first = try newCase(source, 1)
        let second = try newCase(source, 2)
        // The second record with a title that is no text: it reads, but does not merge.
        let broken = Array(String(decoding: second.canonicalJSON(), as: UTF8.self).replacingOccurrences(of: "\"Case 2\"", with: "7").utf8)
        #expect(broken != second.canonicalJSON())
        let secondPage = Mutex<TransportResponse?>(nil)
        let transport = ScriptedTransport { request, _ in
            if request.path.hasPrefix("/v1/sync/pull?since=0&") { return ScriptedTransport.page([first], next: 5, more: true) }
            guard let answer = secondPage.withLock({ $0 }) else { throw TransportError(message: "connection reset") }
            return answer
        }
        // The second page does not arrive.
        await #expect { try await engine(store, transport).run() } throws: { ($0 as? SyncError)?.kind == .unreachable }
        #expect(try store.setting(SyncEngine.cursorKey) == "5")
        #expect(try store.record(first.id) == first)
        #expect(try store.setting("lastSync") == nil, "an unfinished sync is not the last sync")
        // The second page arrives but does not merge (a title that is no text).
        secondPage.withLock { $0 = ScriptedTransport.page(json: [broken], next: 9, more: false) }
        await #expect(throws: (any Error).self) { try await engine(store, transport).run() }
        #expect(try store.setting(SyncEngine.cursorKey) == "5")
        #expect(try store.record(second.id) == nil)
        // It arrives whole: the cursor moves, and the next pull started after page one.
        secondPage.withLock { $0 = ScriptedTransport.page([second], next: 9, more: false) }
        let summary = try await engine(store, transport).run()
        #expect(summary.pulled == 1)
        #expect(try store.setting(SyncEngine.cursorKey) == "9")
        #expect(try store.setting("lastSync") == "2026-11-18T11:06:40Z", "the sync is complete only now, at the engine's clock")
        #expect(transport.requests.last?.path.hasPrefix("/v1/sync/pull?since=5&") == true)
    }

    // MARK: Retries

    /// Retries wait as the policy says, with the injected clock and random source: backoff
    /// with jitter after a failed connection, the node's `Retry-After` after a 503.
    @Test func retriesWaitAsThePolicySaysWithoutSleeping() async throws {
        let store = try makeStore()
        let slept = Mutex<[Duration]>([])
        let retry = RetryPolicy(attempts: 4, base: .milliseconds(100), cap: .seconds(8),
                                sleep: { duration in slept.withLock { $0.append(duration) } }, random: { 0.5 })
        let transport = ScriptedTransport { _, number in
            switch number {
            case 1: throw TransportError(message: "connection refused")
            case 2: throw TransportError(message: "connection reset")
            case 3: return ScriptedTransport.refusal(503, code: "busy", headers: ["retry-after": "3"])
            default: return ScriptedTransport.emptyPage
            }
        }
        let started = ContinuousClock.now
        _ = try await engine(store, transport, retry: retry).run()
        #expect(slept.withLock { $0 } == [.milliseconds(50), .milliseconds(100), .seconds(3)])
        #expect(ContinuousClock.now - started < .seconds(1), "nothing really slept")
    }

    /// After the last attempt the node counts as unreachable, and local work stays queued.
    @Test func afterTheLastAttemptTheNodeIsUnreachableAndWorkStaysQueued() async throws {
        let store = try makeStore()
        try newCase(store, 1)
        let slept = Mutex<[Duration]>([])
        let retry = RetryPolicy(attempts: 3, base: .milliseconds(100), cap: .milliseconds(150),
                                sleep: { duration in slept.withLock { $0.append(duration) } }, random: { 1 })
        let transport = ScriptedTransport { _, _ in ScriptedTransport.refusal(500, code: "internal") }
        await #expect { try await engine(store, transport, retry: retry).run() } throws: { ($0 as? SyncError)?.kind == .unreachable }
        #expect(slept.withLock { $0 } == [.milliseconds(100), .milliseconds(150)], "doubling, capped")
        #expect(transport.requests.count == 3)
        #expect(try store.pendingCount() == 1)
    }
}

/// Dropping what this device may no longer hold (PROTOCOL.md §13.1–13.2).
extension SyncEngineTests {
    static func dropPage(_ json: String, next: Int) -> TransportResponse {
        TransportResponse(status: 200, headers: ["content-type": "application/json"], body: Array("{\"drop\":[\(json)],\"more\":false,\"next\":\(next),\"records\":[]}".utf8))
    }

    /// A page's drops remove the case and its records (or one record) with the page's
    /// cursor, and the sync says what went.
    @Test func aDropRemovesTheCaseOrTheRecordItNames() async throws {
        let store = try makeStore()
        let kept = try newCase(store, 1)
        let keptNote = try newNote(store, 2, in: kept.id)
        let dropped = try newCase(store, 3)
        try newNote(store, 4, in: dropped.id)
        let transport = ScriptedTransport { request, _ in
            guard !Self.isPush(request) else { return try ScriptedTransport.accepted(request) }
            return Self.dropPage("""
                {"case":"\(dropped.id)","reason":"mediator-removed","seq":7},{"case":"\(kept.id)","id":"\(keptNote.id)","reason":"note-narrowed","seq":9}
                """, next: 9)
        }
        let summary = try await engine(store, transport).run()
        #expect(summary.dropped.map(\.count) == [2, 1] && summary.dropped.map(\.reason) == [.mediatorRemoved, .noteNarrowed])
        #expect(summary.dropped.first?.reference == "MED-2026-3")
        #expect(try store.record(dropped.id) == nil && store.record(keptNote.id) == nil && store.record(kept.id) != nil)
        #expect(try store.setting(SyncEngine.cursorKey) == "9")
        #expect(try store.integrityCheck() == ["ok"])
    }

    /// A queued change the node refused, to a record the device then must drop, is saved to
    /// a file of its own (mode 0600) and no longer fails the sync; without a folder for it,
    /// nothing is removed.
    @Test func aRefusedChangeToADroppedRecordIsSavedToAFileAndTheSyncSucceeds() async throws {
        let store = try makeStore()
        let theCase = try newCase(store, 1)
        let transport = ScriptedTransport { request, _ in
            if Self.isPush(request) { return ScriptedTransport.refusal(422, code: "invalid_value", index: 0) }
            return Self.dropPage("{\"case\":\"\(theCase.id)\",\"reason\":\"mediator-removed\",\"seq\":3}", next: 3)
        }
        var noFolder = engine(store, transport)
        noFolder.undeliveredDirectory = nil
        await #expect(throws: SyncError.self) { try await noFolder.run() }
        #expect(try store.record(theCase.id) != nil && store.pendingCount() == 1, "nothing removed")

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("undelivered-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var withFolder = engine(store, transport)
        withFolder.undeliveredDirectory = folder
        let summary = try await withFolder.run()
        #expect(summary.refused.isEmpty, "a change no longer queued does not fail the sync")
        let file = try #require(summary.undeliveredFile)
        #expect(summary.undelivered == 1)
        let saved = try RecordState(json: Array(try Data(contentsOf: file).dropLast()))
        #expect(saved == theCase)
        #expect((try FileManager.default.attributesOfItem(atPath: file.path)[.posixPermissions] as? Int) == 0o600)
        #expect(try store.record(theCase.id) == nil && store.pendingCount() == 0)
    }

    /// A sync that fails after a page with drops committed still erases their traces: the
    /// next sync does it first.
    @Test func tracesOfADropAreErasedEvenWhenTheSyncFailedAfterIt() async throws {
        let store = try makeStore()
        let theCase = try newCase(store, 1)
        let transport = ScriptedTransport { request, number in
            if Self.isPush(request) { return try ScriptedTransport.accepted(request) }
            if request.path.contains("since=0") {
                return TransportResponse(status: 200, headers: ["content-type": "application/json"],
                                         body: Array("{\"drop\":[{\"case\":\"\(theCase.id)\",\"reason\":\"mediator-removed\",\"seq\":2}],\"more\":true,\"next\":2,\"records\":[]}".utf8))
            }
            return ScriptedTransport.refusal(503, code: "busy")
        }
        await #expect(throws: SyncError.self) { try await engine(store, transport).run() }
        #expect(try store.record(theCase.id) == nil && store.eraseIsDue(), "dropped, and the erasure still owed")
        let done = ScriptedTransport { request, _ in
            Self.isPush(request) ? try ScriptedTransport.accepted(request) : ScriptedTransport.page([], next: 2, more: false)
        }
        _ = try await engine(store, done).run()
        #expect(try !store.eraseIsDue())
    }

    /// Every record of a purged case is refused: set aside in one round trip, and the case
    /// leaves the device with its queued changes, and leaves any undelivered file too.
    @Test func aPurgedCaseIsSetAsideWholeAndScrubbedFromUndeliveredFiles() async throws {
        let store = try makeStore()
        let purged = try newCase(store, 1)
        for number in 2...4 { try newNote(store, number, in: purged.id) }
        let kept = try newCase(store, 9)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("undelivered-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("undelivered-20261201T000000Z.ndjson")
        try Data((purged.canonicalJSON() + [10] + kept.canonicalJSON() + [10])).write(to: file)
        let transport = ScriptedTransport { request, _ in
            guard Self.isPush(request) else { return ScriptedTransport.emptyPage }
            if let index = ScriptedTransport.pushedIDs(request).firstIndex(of: purged.id.rawValue) {
                return ScriptedTransport.refusal(410, code: "purged", index: index)
            }
            return try ScriptedTransport.accepted(request)
        }
        var engine = engine(store, transport)
        engine.undeliveredDirectory = folder
        let summary = try await engine.run()
        #expect(transport.requests.filter(Self.isPush).count == 2, "one refusal sets the whole case aside")
        #expect(summary.pushed == 1 && summary.refused.isEmpty && summary.dropped.map(\.count) == [4])
        #expect(try store.record(purged.id) == nil && store.record(kept.id) != nil && store.pendingCount() == 0)
        let left = try [UInt8](Data(contentsOf: file)).split(separator: 10).map { try RecordState(json: Array($0)).id }
        #expect(left == [kept.id], "the purged case is taken out of the file")
    }

    // MARK: The next page while one is merged

    /// The engine asks for the next page while it merges one, but never from past a drop it
    /// has not stored: asking from there tells the node the device knows of the drop
    /// (PROTOCOL.md §10, §13.2).
    @Test func theNextPageIsAskedForOnlyOnceAPageWithDropsIsStored() async throws {
        let store = try makeStore()
        let dropped = try newCase(store, 1)
        let cursorWhenAsked = Mutex<[String: String?]>([:])
        let other = try DeviceID("bob-laptop")
        let arriving: [RecordState] = try (1...400).map { number in
            var state = RecordState(type: .case, id: RecordID(high: 0x0192_f0c4_7d3e_7a41, low: UInt64(number)))
            try state.apply([.set("reference", .text("MED-B-\(number)")), .set("title", .text("Case \(number)")), .set("status", .text("intake"))],
                            stamp: Stamp(device: other, counter: number, time: now))
            return state
        }
        let transport = ScriptedTransport { request, _ in
            guard !Self.isPush(request) else { return try ScriptedTransport.accepted(request) }
            let since = URLComponents(string: request.path)?.queryItems?.first { $0.name == "since" }?.value ?? "?"
            cursorWhenAsked.withLock { $0[since] = try? store.setting(SyncEngine.cursorKey) }
            switch since {
            case "0":
                // Enough records that merging them takes far longer than a request does.
                let records = arriving.map { String(decoding: $0.canonicalJSON(), as: UTF8.self) }.joined(separator: ",")
                let body = #"{"drop":[{"case":"\#(dropped.id.rawValue)","reason":"mediator-removed","seq":5}],"more":true,"next":5,"records":[\#(records)]}"#
                return TransportResponse(status: 200, headers: ["content-type": "application/json"], body: Array(body.utf8))
            case "5": return ScriptedTransport.page([], next: 7, more: true)
            default: return ScriptedTransport.page([], next: 7, more: false)
            }
        }
        let summary = try await engine(store, transport).run()
        let left = try store.record(dropped.id)
        #expect(summary.dropped.map(\.count) == [1] && left == nil)
        let asked = cursorWhenAsked.withLock { $0 }
        #expect(Set(asked.keys) == ["0", "5", "7"])
        #expect(asked["5"] == .some("5"), "the page with the drop was stored before the pull from past it")
    }
}
