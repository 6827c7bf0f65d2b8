import Foundation
import GRDB
import SyncModel
import Testing
@testable import SyncStore

/// The directly bound statements store exactly what GRDB's arguments would, and fail the
/// same way: a wrong value count or a broken constraint throws and stores nothing.
struct StatementBindingsTests {
    let queue: DatabaseQueue

    init() throws {
        queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE item (id TEXT PRIMARY KEY NOT NULL, label TEXT, body BLOB, n INTEGER, flag INTEGER)")
        }
    }

    func insert(_ bind: (inout StatementBindings) -> Void) throws {
        try queue.write { db in
            try db.cachedStatement(sql: "INSERT INTO item (id, label, body, n, flag) VALUES (?, ?, ?, ?, ?)").execute(binding: bind)
        }
    }

    @Test func valuesRoundTripAsGRDBReadsThem() throws {
        var generator = SystemRandomNumberGenerator()
        let id = RecordID.make(milliseconds: 1_763_800_000_000, using: &generator)
        try insert { row in
            row.bind(id)
            row.bind("Médiation — ünïcode")
            row.bind(blob: [0, 1, 2, 255])
            row.bind(Int64.min)
            row.bind(true)
        }
        try insert { row in
            row.bind("empty")
            row.bind("")          // an empty string is text, not NULL
            row.bind(blob: [])    // an empty blob is a blob, not NULL
            row.bind(nil as Int?)
            row.bind(false)
        }
        try queue.read { db in
            let first = try #require(try Row.fetchOne(db, sql: "SELECT * FROM item WHERE id = ?", arguments: [id.rawValue]))
            #expect(first["label"] as String == "Médiation — ünïcode")
            #expect(first["body"] as Data == Data([0, 1, 2, 255]))
            #expect(first["n"] as Int64 == Int64.min)
            #expect(first["flag"] as Bool == true)
            let empty = try #require(try Row.fetchOne(db, sql: "SELECT label, typeof(label), typeof(body), n FROM item WHERE id = 'empty'"))
            #expect(empty[0] as String == "")
            #expect(empty[1] as String == "text")
            #expect(empty[2] as String == "blob")
            #expect((empty[3] as DatabaseValue).isNull)
        }
    }

    @Test func aWrongValueCountThrowsAndStoresNothing() throws {
        #expect(throws: DatabaseError.self) {
            try insert { row in
                row.bind("too-few")
                row.bind("values")
            }
        }
        #expect(throws: DatabaseError.self) {
            try insert { row in
                for value in 0..<6 { row.bind(value) }
            }
        }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM item") } == 0)
    }

    @Test func aConstraintFailureThrowsGRDBsErrorAndTheStatementStaysUsable() throws {
        try insert { row in
            row.bind("same")
            row.bind("first")
            row.bindNull()
            row.bind(1)
            row.bind(false)
        }
        let error = try #require(throws: DatabaseError.self) {
            try insert { row in
                row.bind("same")
                row.bind("second")
                row.bindNull()
                row.bind(2)
                row.bind(false)
            }
        }
        #expect(error.resultCode == .SQLITE_CONSTRAINT)
        try insert { row in
            row.bind("other")
            row.bind("third")
            row.bindNull()
            row.bind(3)
            row.bind(false)
        }
        let labels = try queue.read { db in try String.fetchAll(db, sql: "SELECT label FROM item ORDER BY n") }
        #expect(labels == ["first", "third"])
    }

    @Test func rowsAreReadBackAsBytesAndRecordIDs() throws {
        var generator = SystemRandomNumberGenerator()
        let ids = (0..<3).map { _ in RecordID.make(milliseconds: 1_763_800_000_000, using: &generator) }.sorted()
        for (index, id) in ids.enumerated() {
            try insert { row in
                row.bind(id)
                row.bind("label \(index)")
                row.bind(blob: [UInt8(index)])
                row.bind(index)
                row.bind(false)
            }
        }
        var read: [(RecordID?, [UInt8])] = []
        try queue.read { db in
            try db.makeStatement(sql: "SELECT id, body FROM item WHERE n >= ? ORDER BY id").forEachRow { $0.bind(1) } _: { row in
                read.append((row.recordID(at: 0), row.bytes(at: 1)))
            }
        }
        #expect(read.map(\.0) == Array(ids.dropFirst()))
        #expect(read.map(\.1) == [[1], [2]])
    }
}
