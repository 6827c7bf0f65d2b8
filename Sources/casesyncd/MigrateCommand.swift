import ArgumentParser
import Foundation
import Logging
import NodeStorage
import PostgresNodeStore
import SyncProtocol
import SyncStore

/// `casesyncd migrate --to postgres://…`: moves a node from its data folder into an empty
/// PostgreSQL database, whole: records with their change sequence numbers, the node's
/// identity, users, devices (with their secrets' hashes), tokens, access, drops, purges,
/// grants and the audit log with its chain. Devices keep syncing as they were: same node,
/// same cursors, same credentials, only the address behind the proxy changes.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Copy the node in the data folder into an empty PostgreSQL database, and check the copy.",
        discussion: """
            Stop the node first (the copy needs the data folder to itself). The copy is one transaction: it is all there or not at all. \
            It is then read back and compared with the folder, table by table and by a SHA-256 over every row; the folder is left as it was. \
            Then serve the database with `casesyncd serve --database URL` where the folder's node served: devices need not enroll again.
            """)

    @OptionGroup var options: DataOptions
    @Option(help: ArgumentHelp("The empty PostgreSQL database to move the node into.", valueName: "postgres://USER@HOST/DB")) var to: String
    @Flag(help: "Print one JSON object (counts and checksums) instead of text.") var json = false

    func run() async throws {
        guard options.database == nil else {
            throw ValidationError("migrate copies the data folder (--data) into the database given with --to; --database names a node already in PostgreSQL")
        }
        let directory = options.directory
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("replica.sqlite").path) else {
            throw DaemonError(status: .notFound, message: "\(directory.path) holds no node database to move; give the node's folder with --data (or CASESYNCD_DATA)")
        }
        // No node serves the folder and no admin command changes it while it is copied.
        let serving = try DataFolderLock(directory, file: "casesyncd.lock", shared: false, purpose: "migrate")
        defer { serving.release() }
        let admin = try DataFolderLock(directory, file: "admin.lock", shared: false, purpose: "migrate")
        defer { admin.release() }
        let source = try SQLiteNodeStore.open(directory: directory)
        let identity = try source.copyIdentity()
        let (target, pool) = try await PostgresStoreRunner.open(url: to, logger: PostgresStoreRunner.commandLogger)
        defer { pool.cancel() }

        let progress = ProgressLine(enabled: !json)
        try await target.importNode(identity: identity, page: { table, key in
            try source.copyRows(table, after: key, limit: 2_000)
        }, progress: { table, written in
            progress.show("copying \(table.rawValue): \(written) rows")
        })
        progress.show("gathering statistics")
        try await target.analyze()
        progress.show("checking the copy")
        let expected = try source.copyDigest()
        let copied = try await target.copyDigest()
        progress.finish()
        let mismatched = NodeTable.allCases.filter { expected.counts[$0, default: 0] != copied.counts[$0, default: 0] }
        guard mismatched.isEmpty, expected.hex == copied.hex else {
            let tables = mismatched.map { "\($0.rawValue) \(expected.counts[$0, default: 0]) vs \(copied.counts[$0, default: 0])" }
            throw DaemonError(status: .internalError, message: "the copy does not match the folder (\(tables.isEmpty ? "checksum" : tables.joined(separator: ", "))); drop the database's node tables and run migrate again")
        }
        // Recorded in the copy, after the check: the move itself is in the node's audit log.
        let records = expected.counts[.record, default: 0]
        try await target.appendAudit(AuditEvent("migrate", user: nil, device: nil, records: [], detail: "from a SQLite data folder: \(records) records, sha256 \(expected.hex)", at: Timestamp.now()))
        if json {
            let counts = NodeTable.allCases.map { "\"\($0.rawValue)\":\(expected.counts[$0, default: 0])" }.joined(separator: ",")
            print(#"{"migrated":true,"sequence":\#(identity.highestSequence),"counts":{\#(counts)},"sha256":"\#(expected.hex)"}"#)
        } else {
            let users = expected.counts[.user, default: 0]
            let devices = expected.counts[.device, default: 0]
            let audit = expected.counts[.audit, default: 0]
            print("""
                Moved the node in \(directory.path) into PostgreSQL: \(records) records (sequence \(identity.highestSequence)), \(users) users, \(devices) devices, \(audit) audit entries.
                Every table's rows and the SHA-256 over them match the folder (\(expected.hex)).
                Next: casesyncd serve --database URL (behind the same address; devices need not enroll again). The folder is unchanged: keep it until the new node has served.
                """)
        }
    }
}

/// One line of progress on stderr, rewritten in place on a terminal (nothing otherwise).
final class ProgressLine: Sendable {
    let enabled: Bool

    init(enabled: Bool) {
        self.enabled = enabled && isatty(2) != 0
    }

    func show(_ text: String) {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
    }

    func finish() {
        guard enabled else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
    }
}
