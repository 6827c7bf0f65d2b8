import ArgumentParser
import CMalloc
import Foundation
import Hummingbird
import Logging
import ServiceLifecycle
import SyncProtocol
import SyncServer
import SyncStore
import NodeStorage

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the sync node until SIGTERM or SIGINT.")

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
    @Option(help: ArgumentHelp("Serve HTTPS with this certificate (PEM, the chain after it); TLS 1.2 or later. Or terminate TLS in nginx, see Deploy/.", valueName: "file"))
    var tlsCert: String?
    @Option(help: ArgumentHelp("The certificate's private key (PEM, unencrypted).", valueName: "file")) var tlsKey: String?

    func run() async throws {
        // glibc gives each thread that allocates under contention an arena of its own (up to
        // eight per core) and keeps what is freed there for that arena: a node whose pushes
        // run on many threads then holds several pushes' worth of freed memory. Two arenas
        // keep the node's peak near what it uses (measured: 16 parallel 16 MiB pushes peaked
        // at 338 MB with the default, 247 MB with two arenas at a 32 MiB body budget).
        _ = cmalloc_set_arena_max(2)
        guard (tlsCert == nil) == (tlsKey == nil) else {
            throw ValidationError("--tls-cert and --tls-key go together: give both (or neither, behind a TLS proxy)")
        }
        // Checked before anything else starts: a wrong file is one line, not a failed listener.
        let tls = try tlsCert.map { try NodeTLS(certificatePath: $0, keyPath: tlsKey ?? "") }
        let scheme = tls == nil ? "http" : "https"
        var logger = Logger(label: "casesyncd")
        logger.logLevel = .info
        let store: any NodeStore
        var services: [any Service] = []
        var lock: DataFolderLock?
        var pool: Task<Void, Never>?
        defer {
            lock?.release()
            pool?.cancel()
        }
        let place: String
        if let url = options.databaseURL {
            // Any number of nodes may serve one database: no folder, no lock.
            let (postgres, running) = try await PostgresStoreRunner.open(url: url, logger: logger, serving: true)
            (store, pool) = (postgres, running)
            place = "in PostgreSQL"
        } else {
            // One node per data folder; `restore` takes the same lock, so it never swaps the
            // database under a running node.
            try ReplicaStore.makeDataFolder(options.directory)
            lock = try DataFolderLock(options.directory, file: "casesyncd.lock", shared: false, purpose: "serve")
            let sqlite = try SQLiteNodeStore.open(directory: options.directory, checkpointInBackground: true)
            store = sqlite
            services.append(CheckpointService(store: sqlite, logger: logger))
            place = "with data in \(options.directory.path)"
        }
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
        // How the admin commands name this node's storage.
        let storeOption = options.databaseURL == nil ? "--data \(options.directory.path)" : "--database URL"
        let app = try buildApplication(node: node, configuration: configuration, tls: tls) { boundPort in
            // Written unbuffered: scripts and tests wait for the first line to learn the port.
            FileHandle.standardOutput.write(Data("""
                casesyncd listening on \(scheme)://\(configuration.host):\(boundPort) \(place)
                To enroll a device: casesyncd user add NAME --role mediator \(storeOption)
                  then: casesyncd enroll NAME \(storeOption)   (prints a one-time token)
                  then on the device: casesync enroll --server \(scheme)://\(configuration.host):\(boundPort) --token TOKEN\(tls == nil ? "" : " [--ca-cert CA.pem]")

                """.utf8))
        }
        // Shut down in reverse order: the server stops taking requests, then checkpoints end.
        let group = ServiceGroup(services: services + [app],
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
