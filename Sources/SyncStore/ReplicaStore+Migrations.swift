import GRDB

extension ReplicaStore {
    /// The schema, one migration per shipped change; shipped migrations are never edited.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: replica, records, outbox, settings") { db in
            try db.execute(sql: """
                CREATE TABLE replica (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    device TEXT NOT NULL,
                    name TEXT NOT NULL,
                    counter INTEGER NOT NULL CHECK (counter >= 0),
                    created INTEGER NOT NULL
                );
                -- One row per record: its full state plus the columns lists and scoping read.
                CREATE TABLE record (
                    id TEXT PRIMARY KEY NOT NULL,
                    type TEXT NOT NULL,
                    caseID TEXT NOT NULL,
                    version TEXT NOT NULL,
                    state BLOB NOT NULL,
                    deleted INTEGER NOT NULL,
                    conflicted INTEGER NOT NULL,
                    reference TEXT,
                    title TEXT,
                    status TEXT,
                    site TEXT,
                    changed INTEGER NOT NULL,
                    seq INTEGER
                );
                -- A case's records: `case show` on devices, scoped pulls (by sequence) on the node.
                CREATE INDEX record_by_case ON record(caseID, seq);
                -- Covers `case list` (and its status/site filters) without touching the state blobs.
                CREATE INDEX record_case_list ON record(type, deleted, id, reference, title, status, site, conflicted, changed);
                CREATE INDEX record_conflicted ON record(conflicted) WHERE conflicted = 1;
                CREATE UNIQUE INDEX record_by_seq ON record(seq) WHERE seq IS NOT NULL;
                -- Records changed locally since they were last pushed.
                CREATE TABLE outbox (recordID TEXT PRIMARY KEY NOT NULL);
                -- Small named values: pull cursor, server address, last sync time.
                CREATE TABLE setting (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
                """)
        }
        migrator.registerMigration("v2: sync node accounts, access, audit") { db in
            try db.execute(sql: """
                CREATE TABLE user (
                    name TEXT PRIMARY KEY NOT NULL,
                    role TEXT NOT NULL,
                    disabled INTEGER NOT NULL DEFAULT 0,
                    created INTEGER NOT NULL
                );
                -- Enrolled devices; the secret is kept only as its SHA-256.
                CREATE TABLE device (
                    id TEXT PRIMARY KEY NOT NULL,
                    user TEXT NOT NULL REFERENCES user(name),
                    name TEXT NOT NULL,
                    secretHash BLOB NOT NULL,
                    created INTEGER NOT NULL,
                    revoked INTEGER NOT NULL DEFAULT 0
                );
                -- One-time enrollment tokens, kept as their SHA-256.
                CREATE TABLE enrollment (
                    tokenHash BLOB PRIMARY KEY NOT NULL,
                    user TEXT NOT NULL REFERENCES user(name),
                    expires INTEGER NOT NULL,
                    used INTEGER NOT NULL DEFAULT 0
                );
                -- Which mediator may see which case, and from which change sequence on.
                CREATE TABLE caseAccess (
                    caseID TEXT NOT NULL,
                    user TEXT NOT NULL,
                    grantedSeq INTEGER NOT NULL,
                    PRIMARY KEY (user, caseID)
                );
                CREATE INDEX caseAccess_by_case ON caseAccess(caseID);

                -- Typed exports page by sequence within one record type.
                CREATE INDEX record_by_type_seq ON record(type, seq) WHERE seq IS NOT NULL;
                -- Who pushed, pulled or enrolled what and when; never record contents.
                CREATE TABLE audit (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    at INTEGER NOT NULL,
                    user TEXT,
                    device TEXT,
                    action TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    records TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v3: outbox and caseAccess without rowid") { db in
            // Both are looked up only by their key: keyed tables store each row once instead
            // of a rowid table plus a key index, which halves their writes.
            try db.execute(sql: """
                CREATE TABLE outbox_v3 (recordID TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
                INSERT INTO outbox_v3 SELECT recordID FROM outbox;
                DROP TABLE outbox;
                ALTER TABLE outbox_v3 RENAME TO outbox;
                CREATE TABLE caseAccess_v3 (
                    caseID TEXT NOT NULL,
                    user TEXT NOT NULL,
                    grantedSeq INTEGER NOT NULL,
                    PRIMARY KEY (user, caseID)
                ) WITHOUT ROWID;
                INSERT INTO caseAccess_v3 SELECT caseID, user, grantedSeq FROM caseAccess;
                DROP TABLE caseAccess;
                ALTER TABLE caseAccess_v3 RENAME TO caseAccess;
                CREATE INDEX caseAccess_by_case ON caseAccess(caseID);
                """)
        }
        migrator.registerMigration("v4: redelivery after a node restore") { db in
            // On a device: records it holds that a restored node may have lost, to re-send
            // once (see `ReplicaStore.rewind`). Kept apart from the outbox: a refused
            // re-delivery is dropped, a refused local change stays queued.
            try db.execute(sql: "CREATE TABLE redelivery (recordID TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID")
        }
        migrator.registerMigration("v5: relay limits of a restored node") { db in
            // On a restored node: each device's highest write counter before the restore.
            try db.execute(sql: "CREATE TABLE relayLimit (device TEXT PRIMARY KEY NOT NULL, counter INTEGER NOT NULL) WITHOUT ROWID")
        }
        return migrator
    }
}
