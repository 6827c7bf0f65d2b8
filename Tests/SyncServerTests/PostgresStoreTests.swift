import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import NodeStorage
@testable import PostgresNodeStore
import PostgresNIO
import SyncModel
import SyncServer
import Testing

/// What only a shared database asks of the store: change numbers in commit order (a pull
/// never passes over a record whose push commits after a later-numbered one was served),
/// and several nodes serving one database side by side.
@Suite(.enabled(if: StoreKind.databaseURL != nil, "set CASESYNC_TEST_DATABASE_URL (make test starts a cluster when PostgreSQL is installed)"))
struct PostgresStoreTests {
    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Push X takes its numbers and is held before its commit; push Y, started after it,
    /// would take the next numbers and commit first. It cannot: Y waits for X's lock on the
    /// node row, a pull meanwhile serves neither, and once X commits the pull delivers both,
    /// X's record first.
    @Test func aPushNumberedLaterCannotCommitFirstAndThePullDeliversBoth() async throws {
        let base = try #require(StoreKind.databaseURL)
        // Push X's transaction, push Y's, and the test's own reads run at once.
        let store = try await StoreKind.postgresStore(url: StoreKind.freshSchemaURL(base), maximumConnections: 6)
        let fixture = try await NodeFixture(using: store)
        try await fixture.test { client in
            let theCase = try NodeFixture.caseState(1, by: "ann-laptop", counter: 1)
            #expect(try await fixture.push(client, [theCase], as: "ann-laptop").0 == .ok)
            let before = try await fixture.pullAll(client, as: "ann-laptop")
            #expect(before.ids == [theCase.id.rawValue])

            let ann = try #require(try await store.device(DeviceID("ann-laptop")))
            let noteX = try NodeFixture.note(1, in: theCase.id, by: "ann-laptop", counter: 2, text: "held open")
            let noteY = try NodeFixture.note(2, in: theCase.id, by: "ann-laptop", counter: 3, text: "pushed after")
            let (numbered, numberedSignal) = AsyncStream<String>.makeStream()
            let (release, releaseSignal) = AsyncStream<Void>.makeStream()
            let pushX = NodePush(account: ann, states: [ReceivedState(noteX)], time: fixture.time, restoreWindow: nil)
            let x = Task {
                try await store.client.withTransaction(logger: Self.quiet) { connection in
                    let db = PostgresSession(connection: connection, logger: Self.quiet)
                    let outcome = try await PostgresNodeStore.apply(pushX, in: db)
                    let xid = try await db.value("SELECT pg_current_xact_id()::text", as: String.self) ?? ""
                    numberedSignal.yield(xid)
                    for await _ in release { break }
                    return outcome.seq
                }
            }
            var xid = ""
            for await value in numbered {
                xid = value
                break
            }
            let y = Task { try await fixture.push(client, [noteY], as: "ann-laptop").0 }
            // Y is waiting for X's transaction (a lock on X's transaction id, not granted).
            var polls = 0
            while try await store.client.query("""
                SELECT 1 FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted AND transactionid::text = \(xid)
                """).collect().isEmpty {
                polls += 1
                if polls == 2_000 {
                    Issue.record("push Y never waited for push X: it was numbered while X was open")
                    break
                }
                try await Task.sleep(for: .milliseconds(5))
            }
            // The store's page itself (the route would also append its audit entry, which
            // chains behind X's, held open here).
            let meanwhile = try await store.pullPage(for: ann.user, since: before.next, after: nil, limit: 100, at: fixture.time)
            #expect(meanwhile.records.isEmpty, "nothing is served before X commits")
            #expect(meanwhile.highestSequence == before.next, "and the cursor is not told to move past X's numbers")

            releaseSignal.yield()
            let seqX = try await x.value
            #expect(try await y.value == .ok)
            let after = try await fixture.pullAll(client, as: "ann-laptop", since: before.next)
            #expect(after.ids == [noteX.id.rawValue, noteY.id.rawValue])
            #expect(after.next > seqX)
        }
    }

    /// Two nodes on one database: eight writers' pushes at once, each to either node at
    /// random; then a supervisor's pull, each page from either node at random, with one
    /// cursor: it receives every record pushed, once.
    @Test func twoNodesServeOneDatabaseAndAPullThatFollowsConcurrentPushesMissesNothing() async throws {
        let (fixture, secondApp) = try await Self.twoNodes()
        let cases = [("ann-laptop", try NodeFixture.caseState(1, by: "ann-laptop", counter: 1)),
                     ("bob-laptop", try NodeFixture.caseState(2, by: "bob-laptop", counter: 1))]
        try await fixture.test { first in
            try await secondApp.test(.router) { other in
                let clients: [any TestClientProtocol] = [first, other]
                for (device, state) in cases { #expect(try await fixture.push(first, [state], as: device).0 == .ok) }
                let pushed = try await withThrowingTaskGroup(of: [String].self) { group in
                    for writer in 0..<8 {
                        let (device, theCase) = cases[writer % 2]
                        group.addTask {
                            var ids: [String] = []
                            for round in 0..<12 {
                                let number = UInt64(writer * 1000 + round * 10)
                                // Each writer's counter is its own: notes of one device take
                                // counters in its order, so writers share no counter.
                                let notes = try (0..<3).map { index in
                                    try NodeFixture.note(number + UInt64(index), in: theCase.id, by: device,
                                                         counter: 10_000 * (writer + 1) + round * 3 + index)
                                }
                                let (status, _) = try await fixture.push(clients.randomElement() ?? first, notes, as: device)
                                #expect(status == .ok)
                                ids += notes.map(\.id.rawValue)
                            }
                            return ids
                        }
                    }
                    var all: [String] = []
                    for try await ids in group { all += ids }
                    return all
                }
                var received = Set<String>()
                var cursor = 0
                var after: Int?
                while true {
                    let (status, page) = try await fixture.pull(clients.randomElement() ?? first, as: "sue-desk", since: cursor, after: after, limit: 7)
                    #expect(status == .ok)
                    for record in page["records"] as? [[String: Any]] ?? [] {
                        if let id = record["id"] as? String { received.insert(id) }
                    }
                    cursor = page["next"] as? Int ?? cursor
                    after = page["after"] as? Int
                    if page["more"] as? Bool != true { break }
                }
                #expect(received.isSuperset(of: pushed))
                #expect(received.count == pushed.count + cases.count)
            }
        }
    }

    /// Pulls that run while pushes commit, through both nodes: every record pushed reaches
    /// the puller, whose cursor only ever moves forward past what it has been served.
    @Test func aSupervisorPullingWhilePushesCommitOnTwoNodesIsServedEveryRecord() async throws {
        let (fixture, secondApp) = try await Self.twoNodes()
        let theCase = try NodeFixture.caseState(1, by: "ann-laptop", counter: 1)
        try await fixture.test { first in
            try await secondApp.test(.router) { other in
                let clients: [any TestClientProtocol] = [first, other]
                #expect(try await fixture.push(first, [theCase], as: "ann-laptop").0 == .ok)
                let finished = Flag()
                let writers = Task {
                    try await withThrowingTaskGroup(of: [String].self) { group in
                        for writer in 0..<6 {
                            group.addTask {
                                var ids: [String] = []
                                for round in 0..<15 {
                                    let note = try NodeFixture.note(UInt64(writer * 100 + round), in: theCase.id, by: "ann-laptop",
                                                                    counter: 1_000 * (writer + 1) + round)
                                    #expect(try await fixture.push(clients[(writer + round) % 2], [note], as: "ann-laptop").0 == .ok)
                                    ids.append(note.id.rawValue)
                                }
                                return ids
                            }
                        }
                        var all: [String] = []
                        for try await ids in group { all += ids }
                        await finished.set()
                        return all
                    }
                }
                var received = Set<String>()
                var cursor = 0
                var after: Int?
                var pulls = 0
                var lastPass = false
                while true {
                    let (status, page) = try await fixture.pull(clients[pulls % 2], as: "sue-desk", since: cursor, after: after, limit: 5)
                    pulls += 1
                    #expect(status == .ok)
                    for record in page["records"] as? [[String: Any]] ?? [] {
                        if let id = record["id"] as? String { received.insert(id) }
                    }
                    let next = page["next"] as? Int ?? cursor
                    #expect(next >= cursor)
                    cursor = next
                    after = page["after"] as? Int
                    if page["more"] as? Bool == true { continue }
                    // Caught up: once the writers are done, one more pass reads the rest.
                    if lastPass { break }
                    if await finished.isSet {
                        lastPass = true
                    } else {
                        try await Task.sleep(for: .milliseconds(2))
                    }
                }
                #expect(pulls > 3, "the pulls ran alongside the pushes")
                let pushed = try await writers.value
                #expect(received == Set(pushed + [theCase.id.rawValue]))
            }
        }
    }

    /// PostgreSQL's delivery order (its PL/pgSQL triggers and the push's one statement)
    /// against its definition after each change of who may hold what, as
    /// `DeliveryOrderTests` checks SQLite's: rows the table has and its definition lacks, and
    /// rows it lacks.
    static func drift(_ store: PostgresNodeStore) async throws -> (extra: [String], missing: [String]) {
        func rows(_ sql: String) async throws -> Set<String> {
            var found: Set<String> = []
            for try await (user, delivery, seq) in try await store.client.query(PostgresQuery(unsafeSQL: sql)).decode((String, Int, Int).self) {
                found.insert("\(user) \(delivery) \(seq)")
            }
            return found
        }
        let stored = try await rows("SELECT user_name, delivery, seq FROM delivery")
        let defined = try await rows("""
            SELECT a.user_name, GREATEST(r.seq, a.granted_seq), r.seq FROM case_access a JOIN record r ON r.case_id = a.case_id
            WHERE r.scope < 2 OR r.owner = a.user_name
            """)
        return (stored.subtracting(defined).sorted(), defined.subtracting(stored).sorted())
    }

    @Test func theDeliveryOrderFollowsEveryChangeOfWhoMayHoldWhat() async throws {
        let base = try #require(StoreKind.databaseURL)
        let store = try await StoreKind.postgresStore(url: StoreKind.freshSchemaURL(base), maximumConnections: 4)
        let fixture = try await NodeFixture(using: store)
        @Sendable func expectNoDrift(_ step: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
            let drift = try await Self.drift(store)
            #expect(drift.extra.isEmpty && drift.missing.isEmpty, "after \(step): extra \(drift.extra), missing \(drift.missing)", sourceLocation: sourceLocation)
        }
        try await fixture.test { client in
            let w = try await HoldingTests.world(fixture, client)
            try await expectNoDrift("the world's pushes")
            let held = try await store.client.query("SELECT 1 FROM delivery LIMIT 1").collect()
            #expect(held.count == 1, "mediators' records are in their delivery order")
            for (index, step) in DeliveryOrderTests.steps(w).enumerated() {
                let edited = try await DropNoticeTests.edit(fixture, step.record, by: "ann-laptop", counter: 30 + index, [step.change])
                #expect(try await fixture.push(client, [edited], as: "ann-laptop").0 == .ok, "\(step.what)")
                try await expectNoDrift(step.what)
            }
            _ = try await store.purgeCase(w.restricted.id.rawValue, reason: "test", at: fixture.time, closedBefore: nil)
            try await expectNoDrift("a purge")
            let grant = try await fixture.store.grantAccess(w.theCase.id.rawValue, to: UserAccount(name: "rita", role: .supervisor, disabled: false),
                                                            device: try DeviceID("rita-desk"), reason: "test", lasting: 1000, at: fixture.time)
            #expect(grant.user == "rita")
            try await expectNoDrift("a break-glass grant (the case numbered anew)")
        }
    }

    /// A node over a fresh schema, and a second node (its own store and pool) on the same
    /// schema, with the same users and devices, served by an application of its own.
    static func twoNodes() async throws -> (NodeFixture, Application<RouterResponder<NodeRequestContext>>) {
        let base = try #require(StoreKind.databaseURL)
        let url = StoreKind.freshSchemaURL(base)
        let fixture = try await NodeFixture(using: try await StoreKind.postgresStore(url: url, maximumConnections: 6))
        let second = try await SyncNode(store: try await StoreKind.postgresStore(url: url, maximumConnections: 6), logger: quiet)
        return (fixture, Application(router: buildRouter(node: second, configuration: fixture.configuration)))
    }

    /// Set once, read by another task.
    actor Flag {
        private(set) var isSet = false
        func set() { isSet = true }
    }
}
