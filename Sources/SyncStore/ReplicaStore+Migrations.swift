import Foundation
import GRDB
import NodeStorage

/// The schema history both kinds of database share: devices and nodes were one schema until
/// v5. Shipped migrations are never edited; each kind adds its own after them.
enum SharedSchemaHistory {
    static func register(in migrator: inout DatabaseMigrator) {
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
    }

    /// The device id the database's replica row holds, if it has one.
    static func replicaDevice(in db: Database) throws -> String? {
        try String.fetchOne(db, sql: "SELECT device FROM replica WHERE id = 1")
    }
}

extension ReplicaStore {
    /// A device replica's schema: the shared history, then the device's own changes.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        SharedSchemaHistory.register(in: &migrator)
        migrator.registerMigration("v6 device: without the sync node's tables") { db in
            if let device = try SharedSchemaHistory.replicaDevice(in: db), device.hasPrefix("node-") {
                throw StoreError(.unusable, "this is a sync node's database, not a device's replica; give casesync a device's data folder")
            }
            // Empty on every device: a device never held accounts, access or an audit log.
            try db.execute(sql: """
                DROP TABLE enrollment; DROP TABLE device; DROP TABLE user; DROP TABLE caseAccess; DROP TABLE audit; DROP TABLE relayLimit;
                DROP INDEX IF EXISTS record_by_type_seq;
                """)
        }
        migrator.registerMigration("v7 device: break-glass grants and restricted metadata") { db in
            // The break-glass grants this device was told of (PROTOCOL.md §13.5), for the
            // cases it holds, and on a supervisor's device the metadata of restricted cases it
            // may not hold (`CaseMetadata`), one row a case, replaced by each newer projection.
            try db.execute(sql: """
                CREATE TABLE accessGrant (
                    caseID TEXT NOT NULL,
                    user TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    reason TEXT NOT NULL,
                    granted INTEGER NOT NULL,
                    until INTEGER NOT NULL,
                    PRIMARY KEY (caseID, user, seq)
                ) WITHOUT ROWID;
                CREATE TABLE caseMetadata (
                    caseID TEXT PRIMARY KEY NOT NULL,
                    seq INTEGER NOT NULL,
                    reference TEXT, status TEXT, site TEXT, kind TEXT,
                    opened TEXT, agreed TEXT, closed TEXT
                ) WITHOUT ROWID;
                """)
        }
        migrator.registerMigration("v8 device: encryption at rest") { db in
            // The lock of an encrypted replica (`ReplicaLock`): its data key wrapped under the
            // passphrase's scrypt key. No row: a plain replica (`init --no-encryption`).
            try db.execute(sql: """
                CREATE TABLE dataKey (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    kdf TEXT NOT NULL,
                    logN INTEGER NOT NULL, r INTEGER NOT NULL, p INTEGER NOT NULL,
                    salt BLOB NOT NULL,
                    wrapped BLOB NOT NULL,
                    keyCheck BLOB NOT NULL
                )
                """)
        }
        return migrator
    }
}

extension SQLiteNodeStore {
    /// A sync node's schema: the shared history, then the node's own changes.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        SharedSchemaHistory.register(in: &migrator)
        migrator.registerMigration("v6 node: without a device's outbox, re-delivery and list index") { db in
            if let device = try SharedSchemaHistory.replicaDevice(in: db), !device.hasPrefix("node-") {
                throw StoreError(.unusable, "this is a device's replica (\(device)), not a sync node's database; give casesyncd the node's data folder")
            }
            // The list index is the widest of the record table's, only a device's `case
            // list` reads it, and a node writes every record of every device.
            try db.execute(sql: "DROP TABLE outbox; DROP TABLE redelivery; DROP INDEX IF EXISTS record_case_list;")
        }
        migrator.registerMigration("v7 node: who may hold each record") { db in
            // `HoldingRule` in columns: `noteScope` is a note's own scope (its visibility),
            // `scope` the effective one (at least 1, the case's mediators, in a restricted
            // case) that pulls filter by; `owner` the user who wrote a note; `restrictedCase`
            // the cases kept to their mediators.
            try db.execute(sql: """
                ALTER TABLE record ADD COLUMN scope INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE record ADD COLUMN noteScope INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE record ADD COLUMN owner TEXT;
                CREATE TABLE restrictedCase (caseID TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID;
                """)
            // Existing notes and cases: a note's owner is the user of the device that wrote
            // its text (the node did not record who created it before this migration).
            let ownerOf = try db.makeStatement(sql: "SELECT user FROM device WHERE id = ?")
            let update = try db.makeStatement(sql: "UPDATE record SET noteScope = ?, scope = ?, owner = ? WHERE id = ?")
            let restrict = try db.makeStatement(sql: "INSERT OR IGNORE INTO restrictedCase (caseID) VALUES (?)")
            let rows = try GRDB.Row.fetchCursor(db, sql: "SELECT id, state FROM record WHERE type IN ('note', 'case')")
            while let row = try rows.next() {
                let id: String = row[0]
                let state = try ReplicaStore.decodeStored([UInt8](row[1] as Data), id: id, sealer: .plain)
                if state.type == .case {
                    if HoldingRule.isRestricted(state) { try restrict.execute(arguments: [id]) }
                } else {
                    let writer = state.register("text")?.entries.first?.stamp.dot.device.rawValue
                    let owner = try writer.flatMap { try String.fetchOne(ownerOf, arguments: [$0]) }
                    let scope = HoldingRule.scope(of: state).rawValue
                    try update.execute(arguments: [scope, scope, owner, id])
                }
            }
            try db.execute(sql: "UPDATE record SET scope = MAX(noteScope, 1) WHERE caseID IN (SELECT caseID FROM restrictedCase)")
        }
        migrator.registerMigration("v8 node: drops of what a user may no longer hold") { db in
            // One row per user and lost right, at the change sequence that took it away: a
            // whole case (`recordID` empty) or one record. Pulls serve a user's rows in cursor
            // order, so each of their devices drops the same, however long it was offline.
            // `toldThrough` is the highest pull cursor a device asked from past one of them.
            try db.execute(sql: """
                CREATE TABLE dropNotice (
                    user TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    caseID TEXT NOT NULL,
                    recordID TEXT NOT NULL DEFAULT '',
                    reason TEXT NOT NULL,
                    PRIMARY KEY (user, seq, caseID, recordID)
                ) WITHOUT ROWID;
                ALTER TABLE device ADD COLUMN toldThrough INTEGER NOT NULL DEFAULT 0;
                """)
            // An erasure asked of the device (`DeviceWipe`): when, whether it may deliver its
            // queued changes first, and when it said it was done.
            try db.execute(sql: """
                ALTER TABLE device ADD COLUMN wipeRequested INTEGER;
                ALTER TABLE device ADD COLUMN wipeDeliverFirst INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE device ADD COLUMN wipeConfirmed INTEGER;
                """)
        }
        migrator.registerMigration("v9 node: purged cases") { db in
            // Purged cases (`casesyncd purge`, retention): the marker that keeps a purged case
            // from coming back from an offline device. Ids, time and reason, never contents.
            try db.execute(sql: """
                CREATE TABLE purge (
                    caseID TEXT PRIMARY KEY NOT NULL,
                    seq INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    reason TEXT NOT NULL,
                    records INTEGER NOT NULL
                ) WITHOUT ROWID;
                CREATE INDEX purge_by_seq ON purge(seq);
                """)
        }
        migrator.registerMigration("v10 node: break-glass access") { db in
            // Break-glass grants (PROTOCOL.md §13.5): every grant, for good, with the sequence
            // it was granted at and, once it ended, the sequence of its drops.
            try db.execute(sql: """
                CREATE TABLE accessGrant (
                    caseID TEXT NOT NULL,
                    user TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    reason TEXT NOT NULL,
                    granted INTEGER NOT NULL,
                    until INTEGER NOT NULL,
                    endedSeq INTEGER,
                    PRIMARY KEY (caseID, user, seq)
                ) WITHOUT ROWID;
                CREATE INDEX accessGrant_open ON accessGrant(user, endedSeq);
                CREATE INDEX accessGrant_by_seq ON accessGrant(seq);
                """)
            // What an audit entry's ids alone cannot say, and no case content: a break-glass
            // grant's reason.
            try db.execute(sql: "ALTER TABLE audit ADD COLUMN detail TEXT")
        }
        migrator.registerMigration("v11 node: devices' last contact") { db in
            // `casesyncd device list` shows each device's latest audit entry.
            try db.execute(sql: "CREATE INDEX audit_by_device ON audit(device, at)")
        }
        migrator.registerMigration("v12 node: sites") { db in
            // The service's sites (`casesyncd site add`), served to devices with the directory
            // (PROTOCOL.md §15). NOCASE: "north hospital" is the site "North Hospital".
            try db.execute(sql: "CREATE TABLE site (name TEXT PRIMARY KEY NOT NULL COLLATE NOCASE, added INTEGER NOT NULL) WITHOUT ROWID")
            try SQLiteNodeStore.directoryChanged(in: db)
        }
        migrator.registerMigration("v13 node: the audit log's hash chain") { db in
            // PROTOCOL.md §18: each entry carries the hash of its fields and the entry before;
            // the entries already written are chained here, in id order, as they are.
            try db.execute(sql: "ALTER TABLE audit ADD COLUMN hash BLOB")
            var previous = AuditChain.genesis
            let entries = try SQLiteNodeStore.auditEntries(where: "", arguments: [], in: db)
            for entry in entries {
                previous = AuditChain.hash(previous: previous, entry: entry)
                try db.execute(sql: "UPDATE audit SET hash = ? WHERE id = ?", arguments: [Data(previous), entry.id])
            }
        }
        migrator.registerMigration("v14 node: offline leases") { db in
            // PROTOCOL.md §19: each token, then its device, carries the lease in seconds.
            try db.execute(sql: """
                ALTER TABLE enrollment ADD COLUMN lease INTEGER NOT NULL DEFAULT \(DeviceAccount.defaultLease);
                ALTER TABLE device ADD COLUMN lease INTEGER NOT NULL DEFAULT \(DeviceAccount.defaultLease);
                """)
        }
        migrator.registerMigration("v15 node: each user's delivery order") { db in
            try db.execute(sql: SQLiteNodeStore.deliverySchema)
            // The rows of what the node already holds: every numbered record, as a push enters them.
            try SQLiteNodeStore.deliverNumbered(above: 0, in: db)
        }
        return migrator
    }
}
