import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The real `casesyncd` binary, started on a free loopback port with a temporary data folder,
/// or on a PostgreSQL database (`database`, a URL) that other such processes may share.
public final class DaemonProcess {
    public let data: URL
    /// The PostgreSQL database the node is kept in, instead of `data`.
    public let database: String?
    private var process: Process?
    public private(set) var port = 0

    public init(data: URL? = nil, database: String? = nil) {
        self.data = data ?? FileManager.default.temporaryDirectory.appendingPathComponent("casesyncd-\(UUID().uuidString)")
        self.database = database
    }

    /// How the node's storage is named on a command line: `--data DIR` or `--database URL`.
    public var storeArguments: [String] {
        database.map { ["--database", $0] } ?? ["--data", data.path]
    }

    /// The URL of a schema of its own in the test database (`CASESYNC_TEST_DATABASE_URL`),
    /// created when a node first starts on it; nil when no test database is named.
    public static func freshDatabaseURL() -> String? {
        guard let base = ProcessInfo.processInfo.environment["CASESYNC_TEST_DATABASE_URL"], !base.isEmpty else { return nil }
        return freshSchemaURL(base)
    }

    /// `base` with a schema of its own (`t_` and 16 random hex digits), made when a store
    /// on it is prepared.
    public static func freshSchemaURL(_ base: String) -> String {
        let schema = "t_" + (0..<16).map { _ in String(Int.random(in: 0..<16), radix: 16) }.joined()
        return base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D" + schema
    }

    /// A node with `users` (name, role) added, started on a free port.
    public static func started(users: [(name: String, role: String)]) throws -> DaemonProcess {
        let daemon = DaemonProcess()
        for user in users {
            let added = try daemon.admin("user", "add", user.name, "--role", user.role)
            guard added.status == 0 else { throw DaemonError.noPort("user add \(user.name) failed: \(added.stderr)") }
        }
        try daemon.start()
        return daemon
    }

    /// Where the built executables are.
    public static let directory: URL = {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if FileManager.default.isExecutableFile(atPath: besideTests.appendingPathComponent("casesyncd").path) { return besideTests }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug")
    }()

    /// Runs an administration command (`user add`, `enroll`, `check`, …) and returns its output.
    @discardableResult
    public func admin(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
        try admin(arguments)
    }

    /// `admin` with the arguments as an array.
    @discardableResult
    public func admin(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        try Self.run(Self.directory.appendingPathComponent("casesyncd"), arguments + storeArguments)
    }

    /// Runs `binary` with `arguments` to the end and returns its exit status and output.
    public static func run(_ binary: URL, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, stdout, stderr)
    }

    /// Starts `casesyncd serve --port 0` (with `options`, e.g. `--idle-timeout 1s`) and waits
    /// for the line naming its port.
    public func start(options: [String] = []) throws {
        let process = Process()
        process.executableURL = Self.directory.appendingPathComponent("casesyncd")
        // HummingbirdTesting's client keeps one connection and cannot open a new one, and on
        // a loaded machine a test may leave it idle past the node's 30 s default between two
        // admin commands: tests that do not set the idle timeout get a long one.
        let idle = options.contains("--idle-timeout") ? [] : ["--idle-timeout", "10m"]
        process.arguments = ["serve"] + storeArguments + ["--port", "0"] + idle + options
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        var buffer = Data()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            buffer.append(chunk)
            let text = String(decoding: buffer, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.contains("casesyncd listening on http://") || $0.contains("casesyncd listening on https://") }),
               let portText = line.split(separator: ":").dropFirst(2).first?.split(separator: " ").first, let port = Int(portText) {
                self.port = port
                return
            }
        }
        throw DaemonError.noPort(String(decoding: buffer, as: UTF8.self))
    }

    /// SIGKILL: no shutdown, no flush beyond what SQLite already made durable.
    public func crash() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// SIGTERM and wait: the graceful stop; returns the exit status. A node that has not
    /// stopped after `timeout` is killed and -1 returned, so a wedged node fails a test
    /// instead of hanging it.
    @discardableResult
    public func stop(timeout: Duration = .seconds(20)) -> Int32 {
        guard let process else { return -1 }
        kill(process.processIdentifier, SIGTERM)
        let deadline = ContinuousClock.now + timeout
        while process.isRunning && ContinuousClock.now < deadline { usleep(20_000) }
        self.process = nil
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        return process.terminationStatus
    }

    public func remove() {
        crash()
        try? FileManager.default.removeItem(at: data)
    }

    public enum DaemonError: Error { case noPort(String) }
}
