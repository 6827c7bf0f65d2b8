import Foundation
import NodeStorage
import PostgresNIO
import SyncModel
import SyncProtocol

/// Break-glass access (PROTOCOL.md §13.5): a supervisor holds, for a bounded time, what a
/// case's mediators hold; when the time is up their devices drop it.
extension PostgresNodeStore {
    /// See `NodeStore.grantAccess`. The grant takes a change sequence number, and the case's
    /// records are numbered anew above it, so the supervisor's pull (which follows the change
    /// sequence) delivers them after it; devices that hold them already merge them to no change.
    /// The node row is locked first, so the checks see every push committed before it.
    public func grantAccess(_ idOrReference: String, to user: UserAccount, device: DeviceID, reason: String,
                            lasting duration: Int64, at time: Int64) async throws -> AccessGrant {
        try await transaction { db -> AccessGrant in
            var seq = try await Self.takeSequence(in: db)
            // A deleted case sharing a live one's reference does not make it ambiguous.
            let matches = try await db.rows("""
                SELECT id, reference, deleted FROM record WHERE type = 'case' AND (id = \(idOrReference) OR reference = \(idOrReference))
                ORDER BY deleted, id
                """).map { try $0.decode((String, String?, Bool).self) }
            let shown = idOrReference.prefix(60)
            guard let match = matches.first, let caseID = try? RecordID(match.0) else {
                let purged = try await db.exists("SELECT 1 FROM purge WHERE case_id = \(idOrReference)")
                throw NodeError(.notFound, purged ? "case \(shown) was purged by the service" : "no case with id or reference \(shown) on the node; check it with `casesync case list`")
            }
            guard matches.count == 1 || matches[1].2 else {
                throw NodeError(.badParameter, "\(matches.count) cases have the reference \(shown); ask by the case's id")
            }
            guard !match.2 else { throw NodeError(.notFound, "case \(shown) is deleted") }
            if try await db.exists("SELECT 1 FROM case_access WHERE user_name = \(user.name) AND case_id = \(caseID.rawValue)") {
                throw NodeError(.exists, "you are a mediator of case \(shown): your devices hold it already")
            }
            // A grant of theirs whose time is up ends first (its audit entry is written then:
            // the node row, locked above, keeps every writer of these rows waiting).
            try await Self.endExpiredGrants(of: user.name, at: time, above: &seq, in: db)
            if let until = try await db.value("""
                SELECT until FROM access_grant WHERE user_name = \(user.name) AND case_id = \(caseID.rawValue) AND ended_seq IS NULL
                """, as: Int64.self) {
                throw NodeError(.exists, "you have break-glass access to case \(shown) already, until \(AccessGrant.utcText(until))")
            }
            seq += 1
            let grant = AccessGrant(caseID: caseID, user: user.name, reason: reason, granted: time, until: time + duration, seq: seq)
            try await db.execute("""
                INSERT INTO access_grant (case_id, user_name, seq, reason, granted, until)
                VALUES (\(caseID.rawValue), \(user.name), \(seq), \(reason), \(grant.granted), \(grant.until))
                """)
            try await Self.renumber(caseID, above: &seq, in: db)
            try await Self.setSequence(seq, in: db)
            try await Self.audit("break-glass", user: user.name, device: device, records: [caseID], detail: reason, at: time, in: db)
            return grant
        }
    }

    /// See `NodeStore.endExpiredGrants`. A sweep that finds none leaves the node row (and
    /// the pushes that would wait on it) alone.
    public func endExpiredGrants(at time: Int64) async throws -> Int {
        try await transaction { db -> Int in
            guard try await db.exists("SELECT 1 FROM access_grant WHERE ended_seq IS NULL AND until <= \(time) LIMIT 1") else { return 0 }
            var seq = try await Self.takeSequence(in: db)
            let first = seq
            // Read again under the lock: another node may have ended them meanwhile.
            let ended = try await Self.endExpiredGrants(of: nil, at: time, above: &seq, in: db)
            if seq > first { try await Self.setSequence(seq, in: db) }
            return ended
        }
    }

    /// See `NodeStore.accessGrants`.
    public func accessGrants() async throws -> [AccessGrant] {
        try await transaction { db -> [AccessGrant] in
            try await db.rows("""
                SELECT case_id, user_name, reason, granted, until, seq, ended_seq IS NOT NULL FROM access_grant ORDER BY seq
                """).compactMap { row in
                let (caseText, user, reason, granted, until, seq, ended) = try row.decode((String, String, String, Int64, Int64, Int, Bool).self)
                guard let caseID = try? RecordID(caseText) else { return nil }
                return AccessGrant(caseID: caseID, user: user, reason: reason, granted: granted, until: until, seq: seq, ended: ended)
            }
        }
    }

    /// Whether `user` has a grant whose time is up but that has not ended yet (an index lookup).
    static func hasExpiredGrants(of user: String, at time: Int64, in db: PostgresSession) async throws -> Bool {
        try await db.exists("SELECT 1 FROM access_grant WHERE user_name = \(user) AND ended_seq IS NULL AND until <= \(time) LIMIT 1")
    }

    /// Ends the grants (of `user`, or everyone's) whose time is up at `time`, each at a change
    /// sequence number of its own above `seq`: the supervisor's devices drop what the grant
    /// gave them (reason `access-ended`), unless they have become one of the case's mediators
    /// since. Of a restricted case that is the whole case, and its record is numbered anew
    /// so that its metadata reaches them again; of a case that is not, its mediator notes.
    /// Returns how many grants ended. The caller has taken the sequence (`takeSequence`) and
    /// stores it; the audit entries are written last, after every other row.
    @discardableResult
    static func endExpiredGrants(of user: String?, at time: Int64, above seq: inout Int, in db: PostgresSession) async throws -> Int {
        let rows: [PostgresRow]
        if let user {
            rows = try await db.rows("""
                SELECT case_id, user_name, seq FROM access_grant WHERE user_name = \(user) AND ended_seq IS NULL AND until <= \(time) ORDER BY seq
                """)
        } else {
            rows = try await db.rows("SELECT case_id, user_name, seq FROM access_grant WHERE ended_seq IS NULL AND until <= \(time) ORDER BY seq")
        }
        var ended: [(user: String, caseID: RecordID)] = []
        for row in rows {
            let (caseText, name, granted) = try row.decode((String, String, Int).self)
            guard let caseID = try? RecordID(caseText) else { continue }
            seq += 1
            try await db.execute("""
                UPDATE access_grant SET ended_seq = \(seq) WHERE case_id = \(caseText) AND user_name = \(name) AND seq = \(granted)
                """)
            let mediates = try await db.exists("SELECT 1 FROM case_access WHERE user_name = \(name) AND case_id = \(caseText)")
            if !mediates {
                if try await db.exists("SELECT 1 FROM restricted_case WHERE case_id = \(caseText)") {
                    try await recordDrop(user: name, seq: seq, caseID: caseID, record: nil, reason: .accessEnded, in: db)
                    seq += 1
                    try await db.execute("UPDATE record SET seq = \(seq) WHERE id = \(caseText)")
                } else {
                    let ids = try await db.rows("SELECT id FROM record WHERE case_id = \(caseText) AND scope = 1 ORDER BY id")
                        .map { try $0.decode(String.self) }
                    for id in ids {
                        try await recordDrop(user: name, seq: seq, caseID: caseID, record: RecordID(id), reason: .accessEnded, in: db)
                    }
                }
            }
            ended.append((user: name, caseID: caseID))
        }
        for grant in ended {
            try await audit("access-ended", user: grant.user, device: nil, records: [grant.caseID], at: time, in: db)
        }
        return rows.count
    }

    /// The grants `user` is told of after `since` and up to `upper` (PROTOCOL.md §13.5): of
    /// the cases they mediate (from the time they became a mediator, for those granted
    /// before), and their own. A small table, read whole.
    static func grants(toldTo user: String, since: Int, upTo upper: Int, in db: PostgresSession) async throws -> [AccessGrant] {
        try await db.rows("""
            SELECT g.case_id, g.user_name, g.reason, g.granted, g.until, g.seq FROM access_grant g
            LEFT JOIN case_access a ON a.case_id = g.case_id AND a.user_name = \(user)
            WHERE (a.user_name IS NOT NULL OR g.user_name = \(user))
                AND GREATEST(g.seq, COALESCE(a.granted_seq, 0)) > \(since) AND GREATEST(g.seq, COALESCE(a.granted_seq, 0)) <= \(upper)
            ORDER BY GREATEST(g.seq, COALESCE(a.granted_seq, 0)), g.seq
            """).compactMap { row in
            let (caseText, name, reason, granted, until, seq) = try row.decode((String, String, String, Int64, Int64, Int).self)
            guard let caseID = try? RecordID(caseText) else { return nil }
            return AccessGrant(caseID: caseID, user: name, reason: reason, granted: granted, until: until, seq: seq)
        }
    }

    /// The users who may hold records of case `caseID` (its mediators, and every supervisor)
    /// and the names of those who hold it as its mediators do, as the node has them now: its
    /// mediators, and supervisors with break-glass access to it.
    static func holdingCandidates(of caseID: RecordID, in db: PostgresSession) async throws -> (users: [UserAccount], mediators: Set<String>) {
        let mediators = try await db.rows("""
            SELECT user_name FROM case_access WHERE case_id = \(caseID.rawValue)
            UNION SELECT user_name FROM access_grant WHERE case_id = \(caseID.rawValue) AND ended_seq IS NULL
            """).map { try $0.decode(String.self) }
        let users: [UserAccount] = try await db.rows("""
            SELECT name, role, disabled FROM account
            WHERE role = 'supervisor' OR name IN (SELECT user_name FROM case_access WHERE case_id = \(caseID.rawValue))
            """).map { row in
            let (name, role, disabled) = try row.decode((String, String, Bool).self)
            return Self.user(name, role, disabled)
        }
        return (users, Set(mediators))
    }
}
