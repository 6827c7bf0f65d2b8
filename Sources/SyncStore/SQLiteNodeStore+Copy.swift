import Foundation
import GRDB
import NodeStorage
import SyncProtocol

/// The node read out for a copy into another store (`casesyncd migrate`): its identity, and
/// each table's rows in the logical columns of `NodeTable`, a page at a time in key order
/// (bytewise, as every store compares). The caller keeps the node from changing meanwhile
/// (the data folder's locks).
extension SQLiteNodeStore {
    /// The node's identity. Throws `StoreError` (`unusable`) for a backup copy: it must be
    /// restored before it is served or copied.
    public func copyIdentity() throws -> NodeIdentity {
        let floor = sequenceFloor
        return try writer.read { db in
            if let taken = try ReplicaStore.plainSetting(NodeSetting.backupTaken, in: db) {
                throw StoreError(.unusable, "this database is a backup copy (taken at \(taken)); restore it with `casesyncd restore` before moving it")
            }
            let replica = try ReplicaStore.replica(in: db)
            return NodeIdentity(
                device: replica.device.rawValue, counter: replica.counter,
                generation: try ReplicaStore.plainSetting(NodeSetting.generation, in: db) ?? "",
                directoryVersion: try Self.directoryVersion(in: db),
                highestSequence: try Self.highestSequence(floor: floor, in: db), created: replica.created,
                formerNodes: try Self.formerNodes(in: db).joined(separator: " "),
                restoreWindowUntil: try ReplicaStore.plainSetting(NodeSetting.restoreWindowUntil, in: db).flatMap(Int64.init),
                relayLimitsKnown: try ReplicaStore.plainSetting(NodeSetting.relayLimitsKnown, in: db) != nil)
        }
    }

    /// At most `limit` rows of `table` whose key comes after `key` (the key columns of the
    /// last row of the page before; nil for the first page), in key order.
    public func copyRows(_ table: NodeTable, after key: [NodeValue]?, limit: Int) throws -> [[NodeValue]] {
        let columns = table.columns
        // SQLite's names are the logical ones; text compares bytewise (sites are NOCASE).
        let keys = columns.prefix(table.keyCount).map { $0.kind == .text ? "\($0.name) COLLATE BINARY" : $0.name }
        var sql = "SELECT \(columns.map(\.name).joined(separator: ", ")) FROM \(table.rawValue)"
        var arguments = StatementArguments()
        if let key {
            sql += " WHERE (\(keys.joined(separator: ", "))) > (\(Array(repeating: "?", count: key.count).joined(separator: ", ")))"
            arguments = StatementArguments(key.map(Self.databaseValue))
        }
        sql += " ORDER BY \(keys.joined(separator: ", ")) LIMIT \(limit)"
        return try writer.read { db in
            try GRDB.Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
                columns.indices.map { index in Self.nodeValue(row[index] as DatabaseValue, kind: columns[index].kind) }
            }
        }
    }

    /// The digest of everything `copyRows` reads (`NodeCopyDigest`), a page at a time.
    public func copyDigest(pageSize: Int = 5_000) throws -> NodeCopyDigest {
        var digest = NodeCopyDigest()
        digest.add(try copyIdentity())
        for table in NodeTable.allCases {
            var key: [NodeValue]?
            while true {
                let rows = try copyRows(table, after: key, limit: pageSize)
                digest.add(table, rows)
                guard rows.count == pageSize, let last = rows.last else { break }
                key = Array(last.prefix(table.keyCount))
            }
        }
        return digest
    }

    static func nodeValue(_ value: DatabaseValue, kind: NodeColumn.Kind) -> NodeValue {
        switch value.storage {
        case .null: .null
        case .int64(let number): kind == .text ? .text(String(number)) : .int(number)
        case .double(let number): .int(Int64(number))
        case .string(let text): kind == .blob ? .blob(Array(text.utf8)) : .text(text)
        case .blob(let data): kind == .text ? .text(String(decoding: data, as: UTF8.self)) : .blob([UInt8](data))
        }
    }

    static func databaseValue(_ value: NodeValue) -> (any DatabaseValueConvertible)? {
        switch value {
        case .null: nil
        case .int(let number): number
        case .text(let text): text
        case .blob(let bytes): Data(bytes)
        }
    }
}
