import CaseSyncTestSupport
import Foundation
import SyncStore
import Testing

/// Runs the built `casesync` binary against a temporary data folder, as a user would.
struct CLIRunner {
    struct Result {
        let status: Int32
        let stdout: String
        let stderr: String

        /// stdout parsed as JSON.
        func json() throws -> Any {
            try JSONSerialization.jsonObject(with: Data(stdout.utf8), options: [.fragmentsAllowed])
        }

        func object() throws -> [String: Any] {
            try #require(try json() as? [String: Any], "expected a JSON object, got \(stdout)")
        }
    }

    let data: URL
    /// Pins "today" so stage dates are known; every replica is encrypted under the test
    /// passphrase, read from a file as a script would.
    var environment = ["CASESYNC_NOW": "2026-11-22T12:00:00Z", "TZ": "UTC", "CASESYNC_PASSPHRASE_FILE": CLIRunner.passphraseFile.path]

    /// The passphrase every test replica is encrypted under.
    static let passphrase = "test passphrase for casesync"

    /// A file holding `passphrase`, written once per test run.
    static let passphraseFile: URL = {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("casesync-test-passphrase-\(ProcessInfo.processInfo.processIdentifier)")
        _ = FileManager.default.createFile(atPath: file.path, contents: Data((passphrase + "\n").utf8), attributes: [.posixPermissions: 0o600])
        return file
    }()

    init() throws {
        data = FileManager.default.temporaryDirectory.appendingPathComponent("casesync-cli-\(UUID().uuidString)")
    }

    /// The `casesync` executable built beside this test bundle.
    static let binary: URL = {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("casesync")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/casesync")
    }()

    func launch(_ arguments: [String]) throws -> (Process, Pipe, Pipe) {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = ["--data", data.path] + arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    @discardableResult
    func run(_ arguments: String...) throws -> Result {
        try run(arguments)
    }

    @discardableResult
    func run(_ arguments: [String]) throws -> Result {
        try runOnce(arguments)
    }

    private func runOnce(_ arguments: [String]) throws -> Result {
        let (process, out, err) = try launch(arguments)
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Runs and expects success, returning stdout's JSON object (the command is run with --json).
    func ok(_ arguments: String...) throws -> [String: Any] {
        try ok(arguments)
    }

    /// Runs and expects success, returning stdout's JSON object (the command is run with --json).
    func ok(_ arguments: [String]) throws -> [String: Any] {
        let result = try run(["--json"] + arguments)
        #expect(result.status == 0, "casesync \(arguments.joined(separator: " ")) failed: \(result.stderr)")
        return try result.object()
    }

    /// Locks the replica (its key leaves the keyring) and removes its folder.
    func remove() {
        _ = try? runOnce(["lock"])
        try? FileManager.default.removeItem(at: data)
    }
}


extension CLIRunner {
    /// The replica's store, for tests that must change a setting no command changes.
    func settingsStore() throws -> ReplicaStore {
        try store()
    }

    /// The replica's store, opened in the test process with the test passphrase.
    func store() throws -> ReplicaStore {
        try ReplicaStore.open(directory: data) { lock in try lock.open(passphrase: CLIRunner.passphrase) }
    }
}


extension CLIRunner {
    /// A fresh replica named `name`, enrolled as `user` with a new token from `daemon`,
    /// pointed at `server` (the daemon itself unless a proxy stands between). Returns it
    /// and its device id.
    /// `encrypted: false` makes a plain replica (`init --no-encryption`).
    static func enrolled(_ daemon: DaemonProcess, user: String, name: String, server: String? = nil, encrypted: Bool = true) throws -> (cli: CLIRunner, device: String) {
        var cli = try CLIRunner()
        cli.environment["CASESYNC_NOW"] = nil
        let initialised = try cli.ok(["init", "--device-name", name] + (encrypted ? [] : ["--no-encryption"]))
        let token = try #require(try daemon.admin("enroll", user).stdout.split(separator: "\n").last.map(String.init))
        let enrolled = try cli.run("enroll", "--server", server ?? "http://127.0.0.1:\(daemon.port)", "--token", token)
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        return (cli, try #require(initialised["device"] as? String))
    }
}


/// A replica enrolled with a node and its device id: what the tests with several devices
/// drive.
struct EnrolledReplica {
    let cli: CLIRunner
    let device: String

    /// A fresh replica named `name`, enrolled as `user` with a new token from `daemon`;
    /// encrypted unless `encrypted` is false.
    init(_ daemon: DaemonProcess, user: String, name: String, encrypted: Bool = true) throws {
        (cli, device) = try CLIRunner.enrolled(daemon, user: user, name: name, encrypted: encrypted)
    }

    /// `casesync --json sync`, expected to succeed; its summary (empty when it failed).
    @discardableResult
    func sync(sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let result = try cli.run("--json", "sync")
        #expect(result.status == 0, "sync of \(device) failed: \(result.stderr)", sourceLocation: sourceLocation)
        return (try? result.object()) ?? [:]
    }
}
