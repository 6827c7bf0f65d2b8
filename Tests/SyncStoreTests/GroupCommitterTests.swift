import GRDB
@testable import SyncStore
import Testing

/// Group commits: many jobs submitted at once share transactions, yet each succeeds or
/// fails alone and each submitter gets its own answer.
struct GroupCommitterTests {
    struct Refused: Error, Equatable { let value: Int }

    @Test func concurrentJobsAreAppliedEachInItsOwnSavepointAndAFailureTouchesOnlyItself() async throws {
        let database = try DatabaseQueue()
        try await database.write { try $0.execute(sql: "CREATE TABLE item (value INTEGER PRIMARY KEY)") }
        let commits = CommitCounter()
        database.add(transactionObserver: commits, extent: .databaseLifetime)
        // Every seventh job writes, then throws.
        let committer = GroupCommitter<Int, Int>(writer: database, maxBatch: 8) { db, value in
            try db.execute(sql: "INSERT INTO item (value) VALUES (?)", arguments: [value])
            if value % 7 == 0 { throw Refused(value: value) }
            return value * 10
        }
        let outcomes = await withTaskGroup(of: (Int, Result<Int, Refused>).self) { group in
            for value in 1...100 {
                group.addTask {
                    do { return (value, .success(try await committer.submit(value))) } catch let error as Refused { return (value, .failure(error)) } catch { return (value, .failure(Refused(value: -1))) }
                }
            }
            var outcomes: [Int: Result<Int, Refused>] = [:]
            for await (value, outcome) in group { outcomes[value] = outcome }
            return outcomes
        }
        for value in 1...100 {
            if value % 7 == 0 {
                #expect(outcomes[value] == .failure(Refused(value: value)), "job \(value) gets its own error")
            } else {
                #expect(outcomes[value] == .success(value * 10), "job \(value) gets its own output")
            }
        }
        let stored = try await database.read { try Int.fetchAll($0, sql: "SELECT value FROM item ORDER BY value") }
        #expect(stored == (1...100).filter { $0 % 7 != 0 }, "a refused job's write is rolled back, and only its own")
        #expect(commits.count >= 13 && commits.count < 100, "100 jobs in groups of at most 8 share transactions: \(commits.count) commits")
    }

    @Test func aLoneJobIsCommittedAtOnce() async throws {
        let database = try DatabaseQueue()
        try await database.write { try $0.execute(sql: "CREATE TABLE item (value INTEGER)") }
        let committer = GroupCommitter<Int, Void>(writer: database) { db, value in
            try db.execute(sql: "INSERT INTO item (value) VALUES (?)", arguments: [value])
        }
        try await committer.submit(1)
        try await committer.submit(2)
        #expect(try await database.read { try Int.fetchAll($0, sql: "SELECT value FROM item") } == [1, 2])
    }
}

/// Counts committed transactions that changed the `item` table.
final class CommitCounter: TransactionObserver, @unchecked Sendable {
    // `@unchecked Sendable`: GRDB calls the observer on the database's serial writer queue
    // only, and the test reads `count` after every write has finished.
    private(set) var count = 0
    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool { eventKind.tableName == "item" }
    func databaseDidChange(with event: DatabaseEvent) {}
    func databaseDidCommit(_ db: Database) { count += 1 }
    func databaseDidRollback(_ db: Database) {}
}
