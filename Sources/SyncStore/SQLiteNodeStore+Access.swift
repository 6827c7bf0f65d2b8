import Foundation
import GRDB
import NodeStorage
import SyncModel
import SyncProtocol

/// Break-glass access (PROTOCOL.md §13.5): a supervisor holds, for a bounded time, what a
/// case's mediators hold; when the time is up their devices drop it.
extension SQLiteNodeStore {
    /// See `NodeStore.grantAccess`. The grant takes a change sequence number, and the case's
    /// records are numbered anew above it, so the supervisor's pull (which follows the change
    /// sequence) delivers them after it; devices that hold them already merge them to no change.
    public func grantAccess(_ idOrReference: String, to user: UserAccount, device: DeviceID, reason: String,
                            lasting duration: Int64, at time: Int64) async throws -> AccessGrant {
        let floor = sequenceFloor
        return try await writer.write { db in
            // A deleted case sharing a live one's reference does not make it ambiguous.
            let matches = try GRDB.Row.fetchAll(db, sql: "SELECT id, reference, deleted FROM record WHERE type = 'case' AND (id = ? OR reference = ?) ORDER BY deleted, id",
                                                arguments: [idOrReference, idOrReference])
            let shown = idOrReference.prefix(60)
            guard let match = matches.first, let caseID = try? RecordID(match[0] as String) else {
                let purged = try Bool.fetchOne(db, sql: "SELECT 1 FROM purge WHERE caseID = ?", arguments: [idOrReference]) == true
                throw NodeError(.notFound, purged ? "case \(shown) was purged by the service" : "no case with id or reference \(shown) on the node; check it with `casesync case list`")
            }
            guard matches.count == 1 || (matches[1][2] as Bool) else {
                throw NodeError(.badParameter, "\(matches.count) cases have the reference \(shown); ask by the case's id")
            }
            guard !(match[2] as Bool) else { throw NodeError(.notFound, "case \(shown) is deleted") }
            if try Bool.fetchOne(db, sql: "SELECT 1 FROM caseAccess WHERE user = ? AND caseID = ?", arguments: [user.name, caseID.rawValue]) == true {
                throw NodeError(.exists, "you are a mediator of case \(shown): your devices hold it already")
            }
            var seq = try Self.highestSequence(floor: floor, in: db)
            try Self.endExpiredGrants(of: user.name, at: time, above: &seq, in: db)
            if let until = try Int64.fetchOne(db, sql: "SELECT until FROM accessGrant WHERE user = ? AND caseID = ? AND endedSeq IS NULL",
                                               arguments: [user.name, caseID.rawValue]) {
                throw NodeError(.exists, "you have break-glass access to case \(shown) already, until \(AccessGrant.utcText(until))")
            }
            seq += 1
            let grant = AccessGrant(caseID: caseID, user: user.name, reason: reason, granted: time, until: time + duration, seq: seq)
            try db.execute(sql: "INSERT INTO accessGrant (caseID, user, seq, reason, granted, until) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [caseID.rawValue, user.name, seq, reason, grant.granted, grant.until])
            try Self.renumber(caseID.rawValue, above: &seq, in: db)
            try Self.audit("break-glass", user: user.name, device: device, records: [caseID], detail: reason, at: time, in: db)
            return grant
        }
    }

    /// See `NodeStore.endExpiredGrants`.
    public func endExpiredGrants(at time: Int64) async throws -> Int {
        let floor = sequenceFloor
        return try await writer.write { db in
            var seq = try Self.highestSequence(floor: floor, in: db)
            return try Self.endExpiredGrants(of: nil, at: time, above: &seq, in: db)
        }
    }

    /// See `NodeStore.accessGrants`.
    public func accessGrants() async throws -> [AccessGrant] {
        try await writer.read { db in
            try GRDB.Row.fetchAll(db, sql: "SELECT caseID, user, reason, granted, until, seq, endedSeq IS NOT NULL FROM accessGrant ORDER BY seq").compactMap { row in
                guard let caseID = try? RecordID(row[0] as String) else { return nil }
                return AccessGrant(caseID: caseID, user: row[1], reason: row[2], granted: row[3], until: row[4], seq: row[5], ended: row[6])
            }
        }
    }

    /// Whether `user` has a grant whose time is up but that has not ended yet (an index lookup).
    static func hasExpiredGrants(of user: String, at time: Int64, in db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM accessGrant WHERE user = ? AND endedSeq IS NULL AND until <= ? LIMIT 1"),
                          arguments: [user, time]) == true
    }

    /// Ends the grants (of `user`, or everyone's) whose time is up at `time`, each at a change
    /// sequence number of its own above `seq`: the supervisor's devices drop what the grant
    /// gave them (reason `access-ended`), unless they have become one of the case's mediators
    /// since. Of a restricted case that is the whole case, and its record is numbered anew
    /// so that its metadata reaches them again; of a case that is not, its mediator notes.
    /// Returns how many grants ended.
    @discardableResult
    static func endExpiredGrants(of user: String?, at time: Int64, above seq: inout Int, in db: Database) throws -> Int {
        var sql = "SELECT caseID, user, seq FROM accessGrant WHERE endedSeq IS NULL AND until <= ?"
        var arguments: StatementArguments = [time]
        if let user {
            sql += " AND user = ?"
            arguments += [user]
        }
        let ended = try GRDB.Row.fetchAll(db, sql: sql + " ORDER BY seq", arguments: arguments)
        for row in ended {
            let (caseText, name, granted): (String, String, Int) = (row[0], row[1], row[2])
            guard let caseID = try? RecordID(caseText) else { continue }
            seq += 1
            try db.execute(sql: "UPDATE accessGrant SET endedSeq = ? WHERE caseID = ? AND user = ? AND seq = ?", arguments: [seq, caseText, name, granted])
            let mediates = try Bool.fetchOne(db, sql: "SELECT 1 FROM caseAccess WHERE user = ? AND caseID = ?", arguments: [name, caseText]) == true
            if !mediates {
                if try Bool.fetchOne(db, sql: "SELECT 1 FROM restrictedCase WHERE caseID = ?", arguments: [caseText]) == true {
                    try recordDrop(user: name, seq: seq, caseID: caseID, record: nil, reason: .accessEnded, in: db)
                    seq += 1
                    try db.execute(sql: "UPDATE record SET seq = ? WHERE id = ? AND seq IS NOT NULL", arguments: [seq, caseText])
                } else {
                    for id in try String.fetchAll(db, sql: "SELECT id FROM record WHERE caseID = ? AND scope = 1 ORDER BY id", arguments: [caseText]) {
                        try recordDrop(user: name, seq: seq, caseID: caseID, record: RecordID(id), reason: .accessEnded, in: db)
                    }
                }
            }
            try audit("access-ended", user: name, device: nil, records: [caseID], at: time, in: db)
        }
        return ended.count
    }

    /// The grants `user` is told of after `since` and up to `upper` (PROTOCOL.md §13.5): of
    /// the cases they mediate (from the time they became a mediator, for those granted
    /// before), and their own. A small table, read whole.
    static func grants(toldTo user: String, since: Int, upTo upper: Int, in db: Database) throws -> [AccessGrant] {
        try GRDB.Row.fetchAll(db.cachedStatement(sql: """
            SELECT g.caseID, g.user, g.reason, g.granted, g.until, g.seq FROM accessGrant g
            LEFT JOIN caseAccess a ON a.caseID = g.caseID AND a.user = ?
            WHERE (a.user IS NOT NULL OR g.user = ?)
                AND MAX(g.seq, IFNULL(a.grantedSeq, 0)) > ? AND MAX(g.seq, IFNULL(a.grantedSeq, 0)) <= ?
            ORDER BY MAX(g.seq, IFNULL(a.grantedSeq, 0)), g.seq
            """), arguments: [user, user, since, upper]).compactMap { row in
            guard let caseID = try? RecordID(row[0] as String) else { return nil }
            return AccessGrant(caseID: caseID, user: row[1], reason: row[2], granted: row[3], until: row[4], seq: row[5])
        }
    }
}
