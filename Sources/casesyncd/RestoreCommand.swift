import ArgumentParser
import Foundation
import SyncProtocol
#if canImport(Glibc)
import Glibc
#endif
import Logging
import SealedBackup
import SyncStore

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a backup in place on a stopped node, keeping today's users and devices; devices then re-send what the backup lacks.",
        discussion: """
            The records come from the backup. Users, devices, enrollment tokens and the audit log come from the current database, so revocations, disables and enrollments made after the backup stay in force.

            The restored node gets a new generation id: every device starts its pull over on its next sync and re-sends every record it holds, and during the restore window (--window) the node takes back writes of other devices that came to a device through the node.

            The replaced database is kept beside it as replica.sqlite.before-restore-TIME. See Deploy/OPERATIONS.md, "Back up and restore".

            A node in PostgreSQL (--database URL) is restored with PostgreSQL's own tools while every node on it is stopped; then `casesyncd restore --database URL` alone gives it the new generation and the window, and the nodes may start. See Deploy/SCALE-OUT.md.
            """)
    @OptionGroup var options: DataOptions
    @Option(help: "The backup file (written by `casesyncd backup`); not for --database, which PostgreSQL's own tools restore.") var from: String?
    @Option(help: ArgumentHelp("The identity that opens a sealed backup (the file `casesyncd keygen --out` wrote).", valueName: "keyfile"))
    var identity: String?
    @Option(help: "How long devices may bring back lost writes of other devices: 30d, 72h.") var window = "30d"
    @Flag(help: "Use the backup's users and devices (when the current database is lost or damaged): account changes made after the backup are lost and must be made again before the node serves.")
    var accountsAsOfBackup = false

    func validate() throws {
        guard DurationText.seconds(window, upTo: 365 * 86_400) != nil else { throw ValidationError("--window must look like 30d or 72h, at most 365d") }
        if options.databaseURL == nil, from == nil { throw ValidationError("give the backup to restore with --from FILE") }
        if options.databaseURL != nil, from != nil || identity != nil || accountsAsOfBackup {
            throw ValidationError("a node in PostgreSQL is restored with PostgreSQL's own tools (pg_restore, point-in-time recovery); then run `casesyncd restore --database URL` alone to tell devices (see Deploy/SCALE-OUT.md)")
        }
    }

    func run() async throws {
        let now = Timestamp.now()
        let windowUntil = now + (DurationText.seconds(window, upTo: 365 * 86_400) ?? 0) * 1000
        if let url = options.databaseURL {
            // The database is back from a backup: a new generation makes every device start
            // over and re-send what it holds; the window takes back other devices' writes.
            let (store, pool) = try await PostgresStoreRunner.open(url: url, logger: PostgresStoreRunner.commandLogger)
            defer { pool.cancel() }
            // A node that serves on keeps the generation it read at start: devices would
            // not learn of the restore from it.
            let serving = try await store.servingConnections()
            guard serving == 0 else {
                throw DaemonError(status: .usage, message: "casesyncd serve is running on this database (\(serving) connection\(serving == 1 ? "" : "s")); stop every node on it first, then run restore again")
            }
            let generation = try await store.startGeneration(windowUntil: windowUntil, at: now)
            print("Marked the database as restored: node generation \(generation). Start the nodes: each device re-sends what it holds on its next `casesync sync`; the node takes back other devices' writes until \(Timestamp.text(windowUntil)).")
            print("Repeat now every revocation, disable and enrollment made after the backup was taken (`casesyncd device revoke`, `casesyncd user disable`): the database has the backup's accounts.")
            return
        }
        let from = from ?? ""
        guard FileManager.default.isReadableFile(atPath: from) else { throw DaemonError(status: .notFound, message: "cannot read the backup \(from); give the file `casesyncd backup --to` wrote") }
        let directory = options.directory
        try ReplicaStore.makeDataFolder(directory)
        let lock = try DataFolderLock(directory, file: "casesyncd.lock", shared: false, purpose: "restore")
        defer { lock.release() }
        let adminLock = try DataFolderLock(directory, file: "admin.lock", shared: false, purpose: "restore")
        defer { adminLock.release() }
        let live = directory.appendingPathComponent("replica.sqlite").path
        let hasCurrent = FileManager.default.fileExists(atPath: live)
        guard hasCurrent || accountsAsOfBackup else {
            throw DaemonError(status: .usage, message: "\(directory.path) holds no database to keep users and devices from; if it is lost, run again with --accounts-as-of-backup and then repeat every revocation, disable and enrollment made after the backup")
        }
        // A sealed backup is opened into a plain copy inside the node's folder, removed after.
        var source = from
        let opened = PlainBackupCopy(directory: directory)
        defer { opened.remove() }
        if BackupEnvelope.isSealed(file: from) {
            guard let identity else {
                throw DaemonError(status: .usage, message: "\(from) is sealed; give the identity that opens it with --identity KEYFILE")
            }
            let key = try BackupIdentity.read(file: identity)
            opened.removeLeftovers()
            try BackupEnvelope.open(from, to: opened.path, with: key)
            source = opened.path
        }
        let staging = live + ".restoring"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: staging + suffix) }
        let report: SQLiteNodeStore.RestoreReport
        do {
            report = try SQLiteNodeStore.restoreNode(from: source, to: staging, accountsFrom: accountsAsOfBackup ? nil : live,
                                                  windowUntil: windowUntil, at: now)
        } catch {
            if let error = error as? StoreError, error.code == .corrupt, !accountsAsOfBackup, error.message.contains("current database") {
                throw DaemonError(status: .internalError, message: "\(error.message); run again with --accounts-as-of-backup and then repeat every revocation, disable and enrollment made after the backup")
            }
            throw error
        }
        // The swap, so that a crash at any point leaves a whole database in place: the
        // current one is linked aside (its log, which the restore folded in unless it was
        // told not to read it, goes with it), then the restored one renamed over it in one step.
        var kept: String?
        if hasCurrent {
            let aside = live + ".before-restore-" + Timestamp.fileStamp(now)
            guard link(live, aside) == 0 else {
                throw DaemonError(status: .usage, message: "cannot keep the replaced database as \(aside) (\(String(cString: strerror(errno)))); check the data folder and run restore again")
            }
            if FileManager.default.fileExists(atPath: live + "-wal") { _ = rename(live + "-wal", aside + "-wal") }
            kept = aside
        }
        for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: live + suffix) }
        guard rename(staging, live) == 0 else {
            throw DaemonError(status: .usage, message: "cannot put the restored database in place (\(String(cString: strerror(errno)))); the node's database is unchanged")
        }
        let taken = report.backupTaken.map { " taken \(Timestamp.text($0))" } ?? ""
        print("Restored \(report.records) records from \(from)\(taken) into \(directory.path); node generation \(report.generation).")
        if report.accountsFromCurrent {
            print("Users, devices, case access and the audit log are today's (\(report.devices) devices): revocations, disables and access changes made after the backup stay in force.")
        } else {
            print("Users and devices are the backup's (\(report.devices) devices): repeat now every revocation and disable made after the backup (`casesyncd device revoke`, `casesyncd user disable`); devices enrolled after it must enroll again (`casesync enroll --again`).")
        }
        if let kept { print("The replaced database is kept as \(kept); delete it once the node serves well.") }
        print("Start the node: each device re-sends what it holds on its next `casesync sync`; the node takes back other devices' writes until \(Timestamp.text(windowUntil)).")
    }
}
