import Foundation
import GRDB
import HummingbirdTesting
import NodeStorage
import SyncModel
import SyncServer
import SyncStore
import Testing

/// A mediator's pull reads their delivery order (PROTOCOL.md §20), a table the node's
/// triggers keep. Whatever changes who may hold what, it must equal what it stands for:
/// every record of every case the user mediates that they may hold, at `MAX(seq, grantedSeq)`.
struct DeliveryOrderTests {
    /// Rows the table has and its definition lacks, and rows it lacks, as text.
    static func drift(_ store: SQLiteNodeStore) throws -> (extra: [String], missing: [String]) {
        try store.writer.read { db in
            let stored = Set(try GRDB.Row.fetchAll(db, sql: "SELECT user, delivery, seq FROM delivery").map { "\($0[0] as String) \($0[1] as Int) \($0[2] as Int)" })
            let defined = Set(try GRDB.Row.fetchAll(db, sql: """
                SELECT a.user, MAX(r.seq, a.grantedSeq), r.seq FROM caseAccess a JOIN record r ON r.caseID = a.caseID
                WHERE r.seq IS NOT NULL AND (r.scope < 2 OR r.owner = a.user)
                """).map { "\($0[0] as String) \($0[1] as Int) \($0[2] as Int)" })
            return (stored.subtracting(defined).sorted(), defined.subtracting(stored).sorted())
        }
    }

    static func expectNoDrift(_ store: SQLiteNodeStore, _ step: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let drift = try drift(store)
        #expect(drift.extra.isEmpty && drift.missing.isEmpty, "after \(step): extra \(drift.extra), missing \(drift.missing)", sourceLocation: sourceLocation)
    }

    /// A note narrowed to its author's caucus and widened again, then a case gaining and
    /// losing mediators: ann's edits of `HoldingTests.world`, each to be pushed and checked in
    /// turn (by this suite on SQLite, by `PostgresStoreTests` on PostgreSQL).
    static func steps(_ w: HoldingTests.World) -> [(what: String, record: RecordID, change: FieldChange)] {
        [
            ("a note narrowed", w.shared.id, .set("visibility", .text("caucus"))),
            ("a note widened", w.shared.id, .set("visibility", .text("shared"))),
            ("a supervisor added as a mediator (the case numbered anew)", w.theCase.id, .add("mediators", "sue")),
            ("a mediator removed", w.theCase.id, .remove("mediators", "bob")),
            ("a case restricted", w.theCase.id, .set("confidentiality", .text("restricted"))),
            ("a mediator added back", w.theCase.id, .add("mediators", "bob")),
        ]
    }

    @Test func theDeliveryOrderFollowsEveryChangeOfWhoMayHoldWhat() async throws {
        let fixture = try await NodeFixture()
        let sqlite = try #require(fixture.sqlite)
        try await fixture.test { client in
            let w = try await HoldingTests.world(fixture, client)
            try Self.expectNoDrift(sqlite, "the world's pushes")
            let rows = try await sqlite.writer.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM delivery") ?? 0 }
            #expect(rows > 0, "mediators' records are in their delivery order")

            for (index, step) in Self.steps(w).enumerated() {
                let edited = try await DropNoticeTests.edit(fixture, step.record, by: "ann-laptop", counter: 30 + index, [step.change])
                #expect(try await fixture.push(client, [edited], as: "ann-laptop").0 == .ok, "\(step.what)")
                try Self.expectNoDrift(sqlite, step.what)
            }
            _ = try sqlite.purgeCase(w.restricted.id.rawValue, reason: "test", at: fixture.time)
            try Self.expectNoDrift(sqlite, "a purge")

            // And bob's pull is what the table says: his cases' records, in delivery order.
            let bob = try await fixture.pullAll(client, as: "bob-laptop")
            let expected = try await sqlite.writer.read { db in
                try String.fetchAll(db, sql: "SELECT r.id FROM delivery d JOIN record r ON r.seq = d.seq WHERE d.user = 'bob' ORDER BY d.delivery, d.seq")
            }
            #expect(bob.ids == expected && expected.contains(w.theCase.id.rawValue) && !expected.contains(w.caucus.id.rawValue))
        }
    }
}
