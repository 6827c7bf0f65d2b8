import Foundation
import NodeStorage
import PostgresNIO
import SyncModel
import SyncProtocol

/// What every part of the store shares inside a transaction: the change sequence, the
/// directory's version, the audit log's chain and the decoding of account rows.
extension PostgresNodeStore {
    /// Locks the `node` row and returns the highest change sequence number given: the
    /// transaction numbers its changes above it and stores the last with `setSequence`.
    /// Another transaction that numbers waits here until this one ends, so numbers are taken
    /// in commit order (PROTOCOL.md §21). Lock order everywhere: `node`, then `audit_head`.
    static func takeSequence(in db: PostgresSession) async throws -> Int {
        guard let seq = try await db.value("SELECT seq FROM node WHERE id = 1 FOR UPDATE", as: Int.self) else {
            throw PostgresStoreError.notPrepared
        }
        return seq
    }

    /// Stores `seq` as the highest change sequence number given (after `takeSequence`).
    static func setSequence(_ seq: Int, in db: PostgresSession) async throws {
        try await db.execute("UPDATE node SET seq = \(seq) WHERE id = 1")
    }

    /// Gives the directory a new version number, inside the transaction that changed it.
    static func directoryChanged(in db: PostgresSession) async throws {
        try await db.execute("UPDATE node SET directory_version = directory_version + 1 WHERE id = 1")
    }

    /// The directory's version number (0 before anything was added).
    static func directoryVersion(in db: PostgresSession) async throws -> Int {
        try await db.value("SELECT directory_version FROM node WHERE id = 1", as: Int.self) ?? 0
    }

    /// Appends one entry to the audit log, chained to the one before (PROTOCOL.md §18): the
    /// head row is locked, so appends of several nodes chain in commit order.
    static func audit(_ action: String, user: String?, device: DeviceID?, records: [RecordID], detail: String? = nil,
                      at time: Int64, in db: PostgresSession) async throws {
        let recordList = AuditChain.recordList(records)
        guard let head = try await db.rows("SELECT last_id, hash FROM audit_head WHERE id = 1 FOR UPDATE").first else {
            throw PostgresStoreError.notPrepared
        }
        let (lastID, previous) = try head.decode((Int64, ByteBuffer).self)
        let id = lastID + 1
        let hash = AuditChain.hash(previous: Array(buffer: previous), id: id, at: time, user: user, device: device?.rawValue, action: action,
                                   count: records.count, records: recordList, detail: detail)
        let bytes = ByteBuffer(bytes: hash)
        try await db.execute("""
            INSERT INTO audit (id, at, user_name, device, action, count, records, detail, hash)
            VALUES (\(id), \(time), \(user), \(device?.rawValue), \(action), \(records.count), \(recordList), \(detail), \(bytes))
            """)
        try await db.execute("UPDATE audit_head SET last_id = \(id), hash = \(bytes) WHERE id = 1")
    }

    /// One row of `drop_notice`: what `user`'s devices must drop at `seq` (a whole case when
    /// `record` is nil). A repeat of the same drop is kept once.
    static func recordDrop(user: String, seq: Int, caseID: RecordID, record: RecordID?, reason: DropReason, in db: PostgresSession) async throws {
        try await db.execute("""
            INSERT INTO drop_notice (user_name, seq, case_id, record_id, reason)
            VALUES (\(user), \(seq), \(caseID.rawValue), \(record?.rawValue ?? ""), \(reason.rawValue)) ON CONFLICT DO NOTHING
            """)
    }

    /// A user from the columns `name, role, disabled`.
    static func user(_ name: String, _ role: String, _ disabled: Bool) -> UserAccount {
        UserAccount(name: name, role: Role(rawValue: role) ?? .reporter, disabled: disabled)
    }

    /// The user `name`, or nil.
    static func user(named name: String, in db: PostgresSession) async throws -> UserAccount? {
        guard let row = try await db.rows("SELECT name, role, disabled FROM account WHERE name = \(name)").first else { return nil }
        let (name, role, disabled) = try row.decode((String, String, Bool).self)
        return user(name, role, disabled)
    }
}
