import GRDB

extension SQLiteNodeStore {
    /// The rows an access row (`OLD`) gave its user, by whole keys: the case's history up to
    /// the grant, delivered at it, then each later record at its own sequence.
    private static let forgetAccessRow = """
        DELETE FROM delivery WHERE user = OLD.user AND delivery = OLD.grantedSeq
                AND seq IN (SELECT seq FROM record WHERE caseID = OLD.caseID AND seq <= OLD.grantedSeq);
            DELETE FROM delivery WHERE user = OLD.user AND seq = delivery
                AND delivery IN (SELECT seq FROM record WHERE caseID = OLD.caseID AND seq > OLD.grantedSeq);
        """

    /// The rows an access row (`NEW`) gives its user: every numbered record of the case they
    /// may hold, the history up to the grant delivered at it.
    private static let enterAccessRow = """
        INSERT OR REPLACE INTO delivery (user, delivery, seq)
                SELECT NEW.user, MAX(r.seq, NEW.grantedSeq), r.seq FROM record r
                WHERE r.caseID = NEW.caseID AND r.seq IS NOT NULL AND (r.scope < 2 OR r.owner = NEW.user);
        """

    /// Each user's delivery order (PROTOCOL.md §20), kept by pushes and by triggers so that
    /// no other write path can forget it: a mediator's pull page is a range of it, whatever the size of the node
    /// and of the mediator's scope, instead of a scan and sort of every record they may
    /// hold, for every page.
    ///
    /// Invariant: for each access row (a user among a case's mediators, granted at
    /// `grantedSeq`) and each numbered record of that case the user may hold as a mediator
    /// (not another's caucus note: `scope < 2 OR owner = user`), one row keyed by the user,
    /// the record's delivery sequence `MAX(seq, grantedSeq)` and its change sequence `seq`
    /// (unique among records, so it names the record), and no other row. One b-tree of
    /// integers under the user's name, so a write costs one small row per mediator of the
    /// record's case; a row is found again from the record's old `seq` and the access row.
    /// A supervisor's pull follows the change sequence itself.
    ///
    /// A push enters the records it adds in one statement (`deliverNumbered`: a range of the
    /// change sequence), not a trigger per new row, the common case of a push. The
    /// triggers do the rest: a record numbered anew, or whose holders may have changed (its
    /// scope, owner or case), has its rows rebuilt; a record deleted (a purge) loses them; an
    /// access row granted adds the case's records for its user, one revoked takes them away.
    /// Each delete names whole keys (a case's history at a grant shares one delivery
    /// sequence, so a delete by user and delivery alone could read a whole granted case).
    static let deliverySchema = """
        CREATE TABLE delivery (
            user TEXT NOT NULL,
            delivery INTEGER NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (user, delivery, seq)
        ) WITHOUT ROWID;
        -- The triggers look up a case's access rows with their grant: covered by this index.
        DROP INDEX caseAccess_by_case;
        CREATE INDEX caseAccess_by_case ON caseAccess(caseID, grantedSeq);

        CREATE TRIGGER delivery_record_changed AFTER UPDATE OF seq, caseID, scope, owner ON record
        WHEN OLD.seq IS NOT NEW.seq OR OLD.caseID IS NOT NEW.caseID OR OLD.scope IS NOT NEW.scope OR OLD.owner IS NOT NEW.owner BEGIN
            DELETE FROM delivery WHERE seq = OLD.seq AND (user, delivery) IN
                (SELECT a.user, MAX(OLD.seq, a.grantedSeq) FROM caseAccess a WHERE a.caseID = OLD.caseID);
            INSERT OR REPLACE INTO delivery (user, delivery, seq)
            SELECT a.user, MAX(NEW.seq, a.grantedSeq), NEW.seq FROM caseAccess a
            WHERE NEW.seq IS NOT NULL AND a.caseID = NEW.caseID AND (NEW.scope < 2 OR NEW.owner = a.user);
        END;

        CREATE TRIGGER delivery_record_removed AFTER DELETE ON record WHEN OLD.seq IS NOT NULL BEGIN
            DELETE FROM delivery WHERE seq = OLD.seq AND (user, delivery) IN
                (SELECT a.user, MAX(OLD.seq, a.grantedSeq) FROM caseAccess a WHERE a.caseID = OLD.caseID);
        END;

        CREATE TRIGGER delivery_access_granted AFTER INSERT ON caseAccess BEGIN
            \(enterAccessRow)
        END;

        CREATE TRIGGER delivery_access_revoked AFTER DELETE ON caseAccess BEGIN
            \(forgetAccessRow)
        END;

        CREATE TRIGGER delivery_access_changed AFTER UPDATE ON caseAccess BEGIN
            \(forgetAccessRow)
            \(enterAccessRow)
        END;
        """

    /// Enters every record numbered above `seq` in the delivery order of each user with
    /// access to its case who may hold it (the end of a push; a row already there, entered by
    /// a trigger, is the same row: its key is all its columns). `CROSS JOIN` keeps SQLite
    /// reading the push's range of the change sequence first, whatever its statistics say:
    /// not every access row of the node.
    static func deliverNumbered(above seq: Int, in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO delivery (user, delivery, seq)
            SELECT a.user, MAX(r.seq, a.grantedSeq), r.seq FROM record r CROSS JOIN caseAccess a ON a.caseID = r.caseID
            WHERE r.seq > ? AND (r.scope < 2 OR r.owner = a.user)
            """).execute(arguments: [seq])
    }
}
