import Foundation
import GRDB
import SyncModel
import SyncProtocol

/// Encryption at rest of a device's replica (PROTOCOL.md §16): the lock row, unlocking,
/// turning a plain replica into an encrypted one, and changing the passphrase.
extension ReplicaStore {
    /// The replica's lock, nil for a plain replica.
    public func lock() throws -> ReplicaLock? {
        try writer.read { db in try Self.lock(in: db) }
    }

    /// The lock of the replica in `directory` (nil when it is plain or holds no replica yet),
    /// read without unlocking it: what `casesync lock` needs to find the key to forget.
    public static func lock(directory: URL) throws -> ReplicaLock? {
        let store = try ReplicaStore(writer: openPool(path: directory.appendingPathComponent("replica.sqlite").path, configuration: deviceConfiguration()), sealer: .plain)
        return try store.writer.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM replica WHERE id = 1") == true ? try lock(in: db) : nil
        }
    }

    /// Whether this replica keeps its case data encrypted.
    public var isEncrypted: Bool { sealer.isSealing }

    static func lock(in db: Database) throws -> ReplicaLock? {
        guard let row = try GRDB.Row.fetchOne(db, sql: "SELECT logN, r, p, salt, wrapped, keyCheck FROM dataKey WHERE id = 1") else { return nil }
        let device = try replica(in: db).device
        return ReplicaLock(device: device, logN: row[0], r: row[1], p: row[2],
                           salt: [UInt8](row[3] as Data), wrapped: [UInt8](row[4] as Data), keyCheck: [UInt8](row[5] as Data))
    }

    /// This store, sealing under the key `unlock` gives for its lock; itself when plain.
    func unlocked(with unlock: ((ReplicaLock) throws -> DataKey)?) throws -> ReplicaStore {
        // A replica not yet initialised has no lock (and no device id to read one with).
        guard try writer.read({ db in try Bool.fetchOne(db, sql: "SELECT 1 FROM replica WHERE id = 1") }) == true,
              let lock = try lock() else { return self }
        guard let unlock else {
            throw StoreError(.locked, "this replica is encrypted and locked; run `casesync unlock` (scripts: set CASESYNC_PASSPHRASE_FILE)")
        }
        let key = try unlock(lock)
        guard lock.accepts(key) else {
            throw StoreError(.wrongPassphrase, "the key given is not this replica's; run `casesync lock`, then `casesync unlock`")
        }
        return ReplicaStore(sharing: self, sealer: RecordSealer(key: key))
    }

    /// Encrypts this plain replica under a new data key locked by `passphrase`, in one
    /// transaction (a crash leaves it plain and whole, or encrypted and whole), then erases
    /// the plain pages from the files (`eraseFreedSpace`; if that is interrupted, the next
    /// sync finishes it). Returns the store that seals.
    /// - Throws: `exists` for a replica already encrypted; `weak_passphrase`.
    public func encrypt(passphrase: String) throws -> ReplicaStore {
        let key = DataKey.random()
        let sealer = RecordSealer(key: key)
        try writer.write { db in
            guard try Self.lock(in: db) == nil else {
                throw StoreError(.exists, "this replica is already encrypted; `casesync passphrase change` changes its passphrase")
            }
            let lock = try ReplicaLock.wrapping(key, device: try Self.replica(in: db).device, passphrase: passphrase)
            try Self.store(lock, in: db)
            try Self.sealRecords(with: sealer, in: db)
            try Self.sealSettings(with: sealer, in: db)
            try Self.sealMetadataAndGrants(with: sealer, in: db)
        }
        let sealed = ReplicaStore(sharing: self, sealer: sealer)
        try sealed.writer.write { db in try sealed.setSetting(Self.eraseDueKey, "1", in: db) }
        try sealed.eraseFreedSpace()
        return sealed
    }

    /// Re-wraps the data key under `newPassphrase` (a new salt), once `currentPassphrase`
    /// has opened it. No record is touched.
    /// - Throws: `locked` for a plain replica, `wrong_passphrase`, `weak_passphrase`.
    public func changePassphrase(from currentPassphrase: String, to newPassphrase: String) throws {
        try ReplicaLock.checkStrength(newPassphrase)
        guard let lock = try lock() else {
            throw StoreError(.locked, "this replica is not encrypted; `casesync encrypt` encrypts it")
        }
        let key = try lock.open(passphrase: currentPassphrase)
        let rewrapped = try ReplicaLock.wrapping(key, device: lock.device, passphrase: newPassphrase)
        try writer.write { db in try Self.store(rewrapped, in: db) }
    }

    private static func store(_ lock: ReplicaLock, in db: Database) throws {
        try db.execute(sql: """
            INSERT OR REPLACE INTO dataKey (id, kdf, logN, r, p, salt, wrapped, keyCheck) VALUES (1, 'scrypt', ?, ?, ?, ?, ?, ?)
            """, arguments: [lock.logN, lock.r, lock.p, Data(lock.salt), Data(lock.wrapped), Data(lock.keyCheck)])
    }

    /// Every record's state sealed; the list columns emptied but for a case's sealed list
    /// entry in `title` (`SealedListEntry`).
    private static func sealRecords(with sealer: RecordSealer, in db: Database) throws {
        let update = try db.makeStatement(sql: "UPDATE record SET state = ?, reference = NULL, title = ?, status = NULL, site = NULL WHERE id = ?")
        let rows = try GRDB.Row.fetchCursor(db, sql: "SELECT id, state, type, reference, title, status, site FROM record")
        while let row = try rows.next() {
            let id: String = row[0]
            let state = [UInt8](row[1] as Data)
            guard state.first == UInt8(ascii: "{") else { throw StoreError(.corrupt, "stored record \(id) is not a plain record state") }
            var entry: Data?
            if row[2] as String == RecordType.case.rawValue {
                let fields = SealedListEntry.Fields(reference: row[3] ?? "", title: row[4] ?? "", status: row[5] ?? "", site: row[6])
                entry = Data(try sealer.seal(SealedListEntry.encode(fields), place: RecordSealer.Place.listEntry(id)))
            }
            try update.execute(arguments: [Data(try sealer.seal(state, place: RecordSealer.Place.record(id))), entry, id])
        }
    }

    private static func sealSettings(with sealer: RecordSealer, in db: Database) throws {
        let settings = try GRDB.Row.fetchAll(db, sql: "SELECT key, value FROM setting")
        for row in settings {
            let key: String = row[0]
            let value: String = row[1]
            try db.execute(sql: "UPDATE setting SET value = ? WHERE key = ?",
                           arguments: [try sealer.seal(text: value, place: RecordSealer.Place.setting(key)), key])
        }
    }

    private static func sealMetadataAndGrants(with sealer: RecordSealer, in db: Database) throws {
        for row in try GRDB.Row.fetchAll(db, sql: "SELECT caseID, \(CaseMetadata.fields.joined(separator: ", ")) FROM caseMetadata") {
            let caseID: String = row[0]
            var values: [DatabaseValueConvertible?] = []
            for field in CaseMetadata.fields {
                values.append(try sealer.seal(text: row[field], place: RecordSealer.Place.metadata(caseID, field)))
            }
            let assignments = CaseMetadata.fields.map { "\($0) = ?" }.joined(separator: ", ")
            try db.execute(sql: "UPDATE caseMetadata SET \(assignments) WHERE caseID = ?", arguments: StatementArguments(values + [caseID]))
        }
        for row in try GRDB.Row.fetchAll(db, sql: "SELECT caseID, user, seq, reason FROM accessGrant") {
            let caseID: String = row[0], user: String = row[1], seq: Int = row[2], reason: String = row[3]
            try db.execute(sql: "UPDATE accessGrant SET reason = ? WHERE caseID = ? AND user = ? AND seq = ?",
                           arguments: [try sealer.seal(text: reason, place: RecordSealer.Place.grant(caseID, user, seq)), caseID, user, seq])
        }
    }
}
