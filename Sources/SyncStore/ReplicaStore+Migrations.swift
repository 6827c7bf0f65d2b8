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
                CREATE INDEX record_by_case ON record(caseID, type);
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
        return migrator
    }
}
