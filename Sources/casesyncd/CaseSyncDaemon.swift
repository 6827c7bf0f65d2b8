import ArgumentParser
import CMalloc
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Hummingbird
import Logging
import ServiceLifecycle
import NodeStorage
import SyncModel
import SyncProtocol
import SyncServer
import SyncStore

/// `casesyncd`: the central sync node and its administration.
@main
struct CaseSyncDaemon: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "casesyncd",
        abstract: "The CaseSync sync node: merges what devices push, serves what they may pull.",
        discussion: "Exit codes: 0 ok, 1 usage or validation error, 2 not found, 4 not authorised, 10 internal error.",
        version: "casesyncd \(ProductVersion.current)",
        subcommands: [Serve.self, UserCommand.self, Enroll.self, DeviceCommand.self, Backup.self, Restore.self, Check.self]
    )

    /// Parses, runs, and maps errors to DESIGN.md's exit codes with one line on stderr.
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try parseAsRoot()
        } catch {
            if exitCode(for: error) == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            fail(.usage, message(for: error) + " (see `casesyncd --help`)")
        }
        do {
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error where !(error is any UserFacingError) && exitCode(for: error) == .success {
            // `help`, `--help` and a bare group name: ArgumentParser's help command or a
            // group's default run asks for help, which is a success.
            print(fullMessage(for: error))
            Foundation.exit(0)
        } catch let error as ValidationError {
            fail(.usage, error.message)
        } catch {
            // Every library error declares its exit status (`UserFacingError`), as for `casesync`.
            fail(ExitStatus(for: error), (error as? any UserFacingError)?.message ?? "internal error: \(type(of: error))")
        }
    }

    static func fail(_ status: ExitStatus, _ message: String) -> Never {
        FileHandle.standardError.write(Data("casesyncd: \(message)\n".utf8))
        Foundation.exit(status.rawValue)
    }
}

/// An error of a `casesyncd` command itself (a file it cannot use, a lock it cannot take).
struct DaemonError: Error, UserFacingError {
    let exitStatus: ExitStatus
    let message: String

    init(status: ExitStatus, message: String) {
        exitStatus = status
        self.message = message
    }
}

/// `--data DIR`: the node's data folder.
struct DataOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The node's data folder (default: $CASESYNCD_DATA or ./data).", valueName: "dir"))
    var data: String?

    var directory: URL {
        if let data { return URL(fileURLWithPath: data) }
        if let env = ProcessInfo.processInfo.environment["CASESYNCD_DATA"], !env.isEmpty { return URL(fileURLWithPath: env) }
        return URL(fileURLWithPath: "data")
    }

    /// Opens the node's store for an administration command. The command holds the data
    /// folder's admin lock shared while it runs, so a restore (which holds it exclusive) never
    /// swaps the database under a revocation that would then be lost.
    func openNode() async throws -> SyncNode {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        // Never released: held until the command's process ends.
        _ = try DataFolderLock(directory, file: "admin.lock", shared: true, purpose: "an administration command")
        return try await SyncNode(store: SQLiteNodeStore.open(directory: directory))
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the sync node until SIGTERM or SIGINT.")

    @OptionGroup var options: DataOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port, printed at start).") var port = 8443
    @Option(help: "Largest request body in bytes.") var maxBody = 16 << 20
    @Option(help: "Requests worked on at once; beyond it devices get 503 and retry.") var maxInFlight = 512
    @Option(help: "Request-body bytes held at once across pushes (at least --max-body).") var bodyBudget = 24 << 20
    @Option(help: "Close a connection on which nothing arrives for this long: 30s, 2m.") var idleTimeout = "30s"
    @Option(help: "Longest time a request body may take to arrive: 5m.") var bodyTimeout = "5m"

    func validate() throws {
        guard maxInFlight > 0 else { throw ValidationError("--max-in-flight must be at least 1") }
        guard maxBody > 0, bodyBudget > 0 else { throw ValidationError("--max-body and --body-budget must be positive") }
        guard DurationText.seconds(idleTimeout, upTo: 86_400) != nil else { throw ValidationError("--idle-timeout must look like 30s or 2m (up to 1d)") }
        guard DurationText.seconds(bodyTimeout, upTo: 86_400) != nil else { throw ValidationError("--body-timeout must look like 90s or 5m (up to 1d)") }
    }
    @Option(help: "TLS certificate (PEM); terminate TLS in a reverse proxy instead, see Deploy/.") var tlsCert: String?
    @Option(help: "TLS private key (PEM).") var tlsKey: String?

    func run() async throws {
        // glibc gives each thread that allocates under contention an arena of its own (up to
        // eight per core) and keeps what is freed there for that arena: a node whose pushes
        // run on many threads then holds several pushes' worth of freed memory. Two arenas
        // keep the node's peak near what it uses (measured: 16 parallel 16 MiB pushes peaked
        // at 338 MB with the default, 247 MB with two arenas at a 32 MiB body budget).
        _ = cmalloc_set_arena_max(2)
        guard tlsCert == nil && tlsKey == nil else {
            throw DaemonError(status: .usage, message: "built-in TLS is not available yet; put the node behind the nginx example in Deploy/ and serve on 127.0.0.1")
        }
        var logger = Logger(label: "casesyncd")
        logger.logLevel = .info
        // One node per data folder; `restore` takes the same lock, so it never swaps the
        // database under a running node.
        try FileManager.default.createDirectory(at: options.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let lock = try DataFolderLock(options.directory, file: "casesyncd.lock", shared: false, purpose: "serve")
        defer { lock.release() }
        let store = try SQLiteNodeStore.open(directory: options.directory, checkpointInBackground: true)
        let node = try await SyncNode(store: store, logger: logger)
        if let taken = node.backupTaken {
            throw DaemonError(status: .usage, message: "the database in \(options.directory.path) is a backup copy (taken \(Timestamp.text(taken))); put a backup in place with `casesyncd restore --from FILE --data \(options.directory.path)`, which keeps users and devices and tells devices to re-send what they hold")
        }
        if let window = node.restoreWindow {
            logger.notice("restored node: until \(Timestamp.text(window.until)) devices may bring back writes of other devices that the backup lacked")
        }
        var settings = NodeConfiguration(
            host: host, port: port, maxBodyBytes: maxBody, maxInFlight: maxInFlight, bodyBudgetBytes: bodyBudget,
            idleTimeout: .seconds(DurationText.seconds(idleTimeout, upTo: 86_400) ?? 30),
            bodyTimeout: .seconds(DurationText.seconds(bodyTimeout, upTo: 86_400) ?? 300))
        settings.afterLargePush = { _ = cmalloc_trim() }
        let configuration = settings
        let dataPath = options.directory.path
        let app = buildApplication(node: node, configuration: configuration) { boundPort in
            // Written unbuffered: scripts and tests wait for the first line to learn the port.
            FileHandle.standardOutput.write(Data("""
                casesyncd listening on http://\(configuration.host):\(boundPort) with data in \(dataPath)
                To enroll a device: casesyncd user add NAME --role mediator --data \(dataPath)
                  then: casesyncd enroll NAME --data \(dataPath)   (prints a one-time token)
                  then on the device: casesync enroll --server http://\(configuration.host):\(boundPort) --token TOKEN

                """.utf8))
        }
        // Shut down in reverse order: the server stops taking requests, then checkpoints end.
        let group = ServiceGroup(services: [CheckpointService(store: store, logger: logger), app],
                                 gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }
}

/// The node database's background WAL checkpoints (`SQLiteNodeStore.runCheckpoints`), as a
/// service of the node's group: started with it, ended at graceful shutdown, and every
/// failed checkpoint logged (by type: an error's text may name a file).
struct CheckpointService: Service {
    let store: SQLiteNodeStore
    let logger: Logger

    func run() async throws {
        let logger = logger
        await cancelWhenGracefulShutdown {
            await store.runCheckpoints { error in
                logger.warning("WAL checkpoint failed; the next push asks again", metadata: ["error": "\(type(of: error))"])
            }
        }
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage users.", subcommands: [Add.self, List.self, Disable.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user with a role: mediator, supervisor, reporter or admin.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The user name (a-z, 0-9, '.', '_', '-').") var name: String
        @Option(help: "mediator, supervisor, reporter or admin.") var role: String

        func run() async throws {
            guard let role = Role(rawValue: role) else { throw ValidationError("--role must be mediator, supervisor, reporter or admin") }
            _ = try await options.openNode().store.addUser(name, role: role, at: Timestamp.now())
            print("Added \(role.rawValue) \(name). Next: casesyncd enroll \(name)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var options: DataOptions

        func run() async throws {
            for user in try await options.openNode().store.users() {
                print("\(user.name)\t\(user.role.rawValue)\(user.disabled ? "\tdisabled" : "")")
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a user: their devices are refused from the next request on.")
        @OptionGroup var options: DataOptions
        @Argument var name: String

        func run() async throws {
            try await options.openNode().store.disableUser(name)
            print("Disabled \(name).")
        }
    }
}

struct Enroll: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make a one-time enrollment token for a user's device; the token is printed alone on the last line.")
    @OptionGroup var options: DataOptions
    @Argument(help: "The user the device will act for.") var name: String
    @Option(help: "How long the token stays valid: 30m, 24h, 7d.") var ttl = "24h"

    func run() async throws {
        guard let seconds = DurationText.seconds(ttl, upTo: 365 * 86_400) else { throw ValidationError("--ttl must look like 30m, 24h or 7d, at most 365d") }
        let token = try await options.openNode().makeEnrollmentToken(for: name, ttl: seconds)
        print("One-time enrollment token for \(name), valid \(ttl). On the device: casesync enroll --server URL --token TOKEN")
        print(token)
    }

}

/// Durations as operators type them: `90s`, `30m`, `24h`, `7d`.
enum DurationText {
    /// The seconds `text` names, or nil when it is malformed, not positive, or longer than
    /// `limit` seconds (which also keeps the arithmetic from overflowing).
    static func seconds(_ text: String, upTo limit: Int64) -> Int64? {
        guard let unit = text.last, text.dropLast().allSatisfy(\.isASCII), let number = Int64(text.dropLast()), number > 0 else { return nil }
        let scale: Int64
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86_400
        default: return nil
        }
        let (seconds, overflow) = number.multipliedReportingOverflow(by: scale)
        guard !overflow, seconds <= limit else { return nil }
        return seconds
    }
}

struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "device", abstract: "List and revoke devices.", subcommands: [List.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List enrolled devices.")
        @OptionGroup var options: DataOptions

        func run() async throws {
            for device in try await options.openNode().store.devices() {
                print("\(device.id)\t\(device.user.name)\t\(device.name)\(device.revoked ? "\trevoked" : "")")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a device; it is refused from its next request on.")
        @OptionGroup var options: DataOptions
        @Argument var id: String

        func run() async throws {
            try await options.openNode().store.revokeDevice(id)
            print("Revoked \(id).")
        }
    }
}

struct Backup: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Copy the node's database to FILE, consistently, while it serves (SQLite online backup).")
    @OptionGroup var options: DataOptions
    @Option(help: "The backup file to write (must not exist).") var to: String

    func run() throws {
        guard !FileManager.default.fileExists(atPath: to) else { throw ValidationError("\(to) exists; choose a new file") }
        // Opening would create an empty database, and back that up: a missing one is an error.
        guard FileManager.default.fileExists(atPath: options.directory.appendingPathComponent("replica.sqlite").path) else {
            throw DaemonError(status: .notFound, message: "\(options.directory.path) holds no node database to back up; give the node's folder with --data")
        }
        try SQLiteNodeStore.open(directory: options.directory).backup(to: to, at: Timestamp.now())
        print("Backed up \(options.directory.path) to \(to) (readable by this user only). Restore it with: casesyncd restore --from \(to) --data \(options.directory.path)")
    }
}

struct Restore: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Put a backup in place on a stopped node, keeping today's users and devices; devices then re-send what the backup lacks.",
        discussion: """
            The records come from the backup. Users, devices, enrollment tokens and the audit log come from the current database, so revocations, disables and enrollments made after the backup stay in force.

            The restored node gets a new generation id: every device starts its pull over on its next sync and re-sends every record it holds, and during the restore window (--window) the node takes back writes of other devices that came to a device through the node.

            The replaced database is kept beside it as replica.sqlite.before-restore-TIME. See Deploy/OPERATIONS.md, "Back up and restore".
            """)
    @OptionGroup var options: DataOptions
    @Option(help: "The backup file (written by `casesyncd backup`).") var from: String
    @Option(help: "How long devices may bring back lost writes of other devices: 30d, 72h.") var window = "30d"
    @Flag(help: "Use the backup's users and devices (when the current database is lost or damaged): account changes made after the backup are lost and must be made again before the node serves.")
    var accountsAsOfBackup = false

    func validate() throws {
        guard DurationText.seconds(window, upTo: 365 * 86_400) != nil else { throw ValidationError("--window must look like 30d or 72h, at most 365d") }
    }

    func run() throws {
        guard FileManager.default.isReadableFile(atPath: from) else { throw DaemonError(status: .notFound, message: "cannot read the backup \(from); give the file `casesyncd backup --to` wrote") }
        let directory = options.directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let lock = try DataFolderLock(directory, file: "casesyncd.lock", shared: false, purpose: "restore")
        defer { lock.release() }
        let adminLock = try DataFolderLock(directory, file: "admin.lock", shared: false, purpose: "restore")
        defer { adminLock.release() }
        let live = directory.appendingPathComponent("replica.sqlite").path
        let hasCurrent = FileManager.default.fileExists(atPath: live)
        guard hasCurrent || accountsAsOfBackup else {
            throw DaemonError(status: .usage, message: "\(directory.path) holds no database to keep users and devices from; if it is lost, run again with --accounts-as-of-backup and then repeat every revocation, disable and enrollment made after the backup")
        }
        let staging = live + ".restoring"
        for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: staging + suffix) }
        let now = Timestamp.now()
        let windowUntil = now + (DurationText.seconds(window, upTo: 365 * 86_400) ?? 0) * 1000
        let report: SQLiteNodeStore.RestoreReport
        do {
            report = try SQLiteNodeStore.restoreNode(from: from, to: staging, accountsFrom: accountsAsOfBackup ? nil : live,
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

/// Milliseconds since the Unix epoch, and how operators read them.
enum Timestamp {
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// `2026-12-01T10:00:00Z`.
    static func text(_ milliseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000).formatted(.iso8601)
    }

    /// `20261201T100000Z`, for file names.
    static func fileStamp(_ milliseconds: Int64) -> String {
        text(milliseconds).filter { $0 != "-" && $0 != ":" }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check the database's integrity; exits 10 if it is damaged.")
    @OptionGroup var options: DataOptions

    func run() throws {
        // Opening would create an empty database, which checks ok: a missing one is an error.
        guard FileManager.default.fileExists(atPath: options.directory.appendingPathComponent("replica.sqlite").path) else {
            throw DaemonError(status: .notFound, message: "\(options.directory.path) holds no node database; give the node's folder with --data (or restore one with `casesyncd restore`)")
        }
        let findings = try SQLiteNodeStore.open(directory: options.directory).integrityCheck()
        guard findings == ["ok"] else { throw DaemonError(status: .internalError, message: "integrity check failed: " + findings.prefix(5).joined(separator: "; ")) }
        print("ok")
    }
}

/// A lock on a data folder (`flock` on a file in it). `serve` holds `casesyncd.lock`
/// exclusive for as long as it runs and `restore` while it swaps the database, so a restore
/// never replaces the database under a running node and two nodes never serve one folder.
/// Administration commands hold `admin.lock` shared for their lifetime and `restore` holds it
/// exclusive, so no account change lands in a database being replaced. The kernel drops a
/// lock when its process ends, however it ends.
struct DataFolderLock {
    private let descriptor: Int32

    init(_ directory: URL, file: String, shared: Bool, purpose: String) throws {
        let path = directory.appendingPathComponent(file).path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw DaemonError(status: .usage, message: "cannot open \(path); check that the data folder exists and is writable by this user")
        }
        guard flock(descriptor, (shared ? LOCK_SH : LOCK_EX) | LOCK_NB) == 0 else {
            close(descriptor)
            let what: String
            switch (file, purpose) {
            case ("casesyncd.lock", "serve"): what = "another casesyncd serves \(directory.path); stop it first (e.g. `systemctl stop casesyncd`)"
            case ("casesyncd.lock", _): what = "a casesyncd node is running on \(directory.path); stop it first (e.g. `systemctl stop casesyncd`)"
            case (_, "restore"): what = "an administration command is running on \(directory.path); let it finish and run restore again"
            default: what = "a restore is running on \(directory.path); run this again when it has finished"
            }
            throw DaemonError(status: .usage, message: what)
        }
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
