/// The PostgreSQL node schema, as numbered migrations applied in order by
/// `PostgresNodeStore.prepare` (in one transaction, under an advisory lock, each recorded in
/// `schema_migration`).
/// Shipped migrations are never edited; a change is a new one at the end.
///
/// It mirrors the SQLite node's schema (SyncStore's migrator) with PostgreSQL's names and
/// types: `account` is SQLite's `user` (a reserved word here), columns are snake_case, flags
/// are booleans. What differs by design:
/// - `node` is one row holding the node's identity, its write counter, the directory's
///   version and `seq`, the highest change sequence number given. Every transaction that
///   numbers changes locks that row first (`SELECT … FOR UPDATE`), so numbers are taken in
///   commit order, across every `casesyncd` serving the database (PROTOCOL.md §21);
/// - `audit_head` is one row holding the audit log's last id and hash, locked by each append
///   so that appends from several nodes chain in order;
/// - `delivery` is kept by PL/pgSQL triggers, as SQLite's by its triggers (PROTOCOL.md §20).
enum PostgresSchema {
    /// The migrations, oldest first: a name, and the SQL run in one transaction.
    static let migrations: [(name: String, sql: String)] = [
        ("v1 node: records, accounts, access, audit, delivery order", v1),
    ]

    static let v1 = """
        CREATE TABLE node (
            id integer PRIMARY KEY CHECK (id = 1),
            device text COLLATE "C" NOT NULL,
            counter bigint NOT NULL CHECK (counter >= 0),
            seq bigint NOT NULL DEFAULT 0,
            generation text COLLATE "C" NOT NULL,
            directory_version bigint NOT NULL DEFAULT 0,
            created bigint NOT NULL,
            backup_taken bigint,
            restore_window_until bigint,
            former_nodes text COLLATE "C" NOT NULL DEFAULT '',
            relay_limits_known boolean NOT NULL DEFAULT false
        );
        CREATE TABLE relay_limit (device text COLLATE "C" PRIMARY KEY, counter bigint NOT NULL);

        -- One row per record: its full state (canonical JSON) and the columns pulls, purges and
        -- reports read. `scope` is the effective holding scope (0 everyone, 1 the case's
        -- mediators, 2 a caucus note's owner), `note_scope` a note's own, `owner` a note's writer.
        -- Text compares bytewise ("C"), as SQLite's does, whatever the database's collation.
        CREATE TABLE record (
            id text COLLATE "C" PRIMARY KEY,
            type text COLLATE "C" NOT NULL,
            case_id text COLLATE "C" NOT NULL,
            state bytea NOT NULL,
            deleted boolean NOT NULL,
            reference text COLLATE "C",
            status text COLLATE "C",
            seq bigint NOT NULL UNIQUE,
            scope smallint NOT NULL DEFAULT 0,
            note_scope smallint NOT NULL DEFAULT 0,
            owner text COLLATE "C"
        );
        CREATE INDEX record_by_case ON record (case_id, seq);
        CREATE INDEX record_by_type_seq ON record (type, seq);
        CREATE INDEX record_case_reference ON record (reference) WHERE type = 'case';
        CREATE TABLE restricted_case (case_id text COLLATE "C" PRIMARY KEY);

        CREATE TABLE account (
            name text COLLATE "C" PRIMARY KEY,
            role text COLLATE "C" NOT NULL,
            disabled boolean NOT NULL DEFAULT false,
            created bigint NOT NULL
        );
        -- Enrolled devices; the secret is kept only as its SHA-256.
        CREATE TABLE device (
            id text COLLATE "C" PRIMARY KEY,
            user_name text COLLATE "C" NOT NULL REFERENCES account (name),
            name text COLLATE "C" NOT NULL,
            secret_hash bytea NOT NULL,
            created bigint NOT NULL,
            revoked boolean NOT NULL DEFAULT false,
            told_through bigint NOT NULL DEFAULT 0,
            wipe_requested bigint,
            wipe_deliver_first boolean NOT NULL DEFAULT false,
            wipe_confirmed bigint,
            lease bigint NOT NULL
        );
        -- One-time enrollment tokens, kept as their SHA-256.
        CREATE TABLE enrollment (
            token_hash bytea PRIMARY KEY,
            user_name text COLLATE "C" NOT NULL REFERENCES account (name),
            expires bigint NOT NULL,
            used boolean NOT NULL DEFAULT false,
            lease bigint NOT NULL
        );
        CREATE TABLE site (
            name text COLLATE "C" PRIMARY KEY,
            folded text COLLATE "C" NOT NULL UNIQUE,
            added bigint NOT NULL
        );

        -- Which mediator may hold which case, and from which change sequence on.
        CREATE TABLE case_access (
            case_id text COLLATE "C" NOT NULL,
            user_name text COLLATE "C" NOT NULL,
            granted_seq bigint NOT NULL,
            PRIMARY KEY (user_name, case_id)
        );
        CREATE INDEX case_access_by_case ON case_access (case_id, granted_seq);
        -- What a user may no longer hold, at the change sequence that took it away.
        CREATE TABLE drop_notice (
            user_name text COLLATE "C" NOT NULL,
            seq bigint NOT NULL,
            case_id text COLLATE "C" NOT NULL,
            record_id text COLLATE "C" NOT NULL DEFAULT '',
            reason text COLLATE "C" NOT NULL,
            PRIMARY KEY (user_name, seq, case_id, record_id)
        );
        CREATE INDEX drop_notice_by_case ON drop_notice (user_name, case_id, seq);
        CREATE TABLE purge (
            case_id text COLLATE "C" PRIMARY KEY,
            seq bigint NOT NULL,
            at bigint NOT NULL,
            reason text COLLATE "C" NOT NULL,
            records bigint NOT NULL
        );
        CREATE TABLE access_grant (
            case_id text COLLATE "C" NOT NULL,
            user_name text COLLATE "C" NOT NULL,
            seq bigint NOT NULL,
            reason text COLLATE "C" NOT NULL,
            granted bigint NOT NULL,
            until bigint NOT NULL,
            ended_seq bigint,
            PRIMARY KEY (case_id, user_name, seq)
        );
        CREATE INDEX access_grant_open ON access_grant (user_name, ended_seq);
        CREATE INDEX access_grant_by_seq ON access_grant (seq);

        -- Who pushed, pulled or enrolled what and when; never record contents. Hash-chained
        -- (PROTOCOL.md §18).
        CREATE TABLE audit (
            id bigint PRIMARY KEY,
            at bigint NOT NULL,
            user_name text COLLATE "C",
            device text COLLATE "C",
            action text COLLATE "C" NOT NULL,
            count bigint NOT NULL,
            records text COLLATE "C" NOT NULL,
            detail text COLLATE "C",
            hash bytea NOT NULL
        );
        CREATE INDEX audit_by_device ON audit (device, at);
        CREATE TABLE audit_head (
            id integer PRIMARY KEY CHECK (id = 1),
            last_id bigint NOT NULL,
            hash bytea NOT NULL
        );
        INSERT INTO audit_head (id, last_id, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

        -- Each mediator's delivery order (PROTOCOL.md §20): for each access row and each
        -- numbered record of its case the user may hold, (user, GREATEST(seq, granted_seq), seq).
        CREATE TABLE delivery (
            user_name text COLLATE "C" NOT NULL,
            delivery bigint NOT NULL,
            seq bigint NOT NULL,
            PRIMARY KEY (user_name, delivery, seq)
        );

        CREATE FUNCTION delivery_record_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                DELETE FROM delivery d USING case_access a
                WHERE a.case_id = OLD.case_id AND d.user_name = a.user_name
                    AND d.delivery = GREATEST(OLD.seq, a.granted_seq) AND d.seq = OLD.seq;
            END IF;
            IF TG_OP <> 'DELETE' THEN
                INSERT INTO delivery (user_name, delivery, seq)
                SELECT a.user_name, GREATEST(NEW.seq, a.granted_seq), NEW.seq FROM case_access a
                WHERE a.case_id = NEW.case_id AND (NEW.scope < 2 OR NEW.owner = a.user_name)
                ON CONFLICT DO NOTHING;
            END IF;
            RETURN NULL;
        END $$;
        -- A push enters its new records in one statement (`deliverNumbered`); an update that
        -- renumbers a record or changes who may hold it, and a delete, go through this.
        CREATE TRIGGER delivery_record_changed AFTER UPDATE OF seq, case_id, scope, owner ON record
            FOR EACH ROW WHEN (OLD.seq IS DISTINCT FROM NEW.seq OR OLD.case_id IS DISTINCT FROM NEW.case_id
                OR OLD.scope IS DISTINCT FROM NEW.scope OR OLD.owner IS DISTINCT FROM NEW.owner)
            EXECUTE FUNCTION delivery_record_changed();
        CREATE TRIGGER delivery_record_removed AFTER DELETE ON record
            FOR EACH ROW EXECUTE FUNCTION delivery_record_changed();

        CREATE FUNCTION delivery_access_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN
                DELETE FROM delivery WHERE user_name = OLD.user_name AND delivery = OLD.granted_seq
                    AND seq IN (SELECT seq FROM record WHERE case_id = OLD.case_id AND seq <= OLD.granted_seq);
                DELETE FROM delivery WHERE user_name = OLD.user_name AND seq = delivery
                    AND delivery IN (SELECT seq FROM record WHERE case_id = OLD.case_id AND seq > OLD.granted_seq);
            END IF;
            IF TG_OP <> 'DELETE' THEN
                INSERT INTO delivery (user_name, delivery, seq)
                SELECT NEW.user_name, GREATEST(r.seq, NEW.granted_seq), r.seq FROM record r
                WHERE r.case_id = NEW.case_id AND (r.scope < 2 OR r.owner = NEW.user_name)
                ON CONFLICT DO NOTHING;
            END IF;
            RETURN NULL;
        END $$;
        CREATE TRIGGER delivery_access_changed AFTER INSERT OR UPDATE OR DELETE ON case_access
            FOR EACH ROW EXECUTE FUNCTION delivery_access_changed();
        """
}
