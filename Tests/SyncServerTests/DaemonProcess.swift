import Foundation
import HummingbirdTesting
import Hummingbird
import NIOCore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The real `casesyncd` binary, started on a free loopback port with a temporary data folder.
final class DaemonProcess {
    let data: URL
    private var process: Process?
    private(set) var port = 0

    init(data: URL? = nil) {
        self.data = data ?? FileManager.default.temporaryDirectory.appendingPathComponent("casesyncd-\(UUID().uuidString)")
    }

    static let directory: URL = {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if FileManager.default.isExecutableFile(atPath: besideTests.appendingPathComponent("casesyncd").path) { return besideTests }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug")
    }()

    /// Runs an administration command (`user add`, `enroll`, `check`, …) and returns its output.
    @discardableResult
    func admin(_ arguments: String...) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = Self.directory.appendingPathComponent("casesyncd")
        process.arguments = arguments + ["--data", data.path]
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

    /// Starts `casesyncd serve --port 0` and waits for the line naming its port.
    func start() throws {
        let process = Process()
        process.executableURL = Self.directory.appendingPathComponent("casesyncd")
        process.arguments = ["serve", "--data", data.path, "--port", "0"]
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
            if let line = text.split(separator: "\n").first(where: { $0.contains("casesyncd listening on http://") }),
               let portText = line.split(separator: ":").dropFirst(2).first?.split(separator: " ").first, let port = Int(portText) {
                self.port = port
                return
            }
        }
        throw DaemonError.noPort(String(decoding: buffer, as: UTF8.self))
    }

    /// SIGKILL: no shutdown, no flush beyond what SQLite already made durable.
    func crash() {
        guard let process else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    /// SIGTERM and wait: the graceful stop; returns the exit status.
    func stop() -> Int32 {
        guard let process else { return -1 }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        self.process = nil
        return process.terminationStatus
    }

    func client() -> TestClient {
        let client = TestClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(10)))
        client.connect()
        return client
    }

    func remove() {
        crash()
        try? FileManager.default.removeItem(at: data)
    }

    enum DaemonError: Error { case noPort(String) }
}

extension TestClient {
    func send(_ method: HTTPRequest.Method, _ uri: String, authorization: String? = nil, body: String? = nil) async throws -> (HTTPResponse.Status, [String: Any]) {
        var headers: HTTPFields = [:]
        if let authorization { headers[.authorization] = authorization }
        let response = try await execute(TestClient.Request(uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }))
        let object = (try? JSONSerialization.jsonObject(with: Data((response.body ?? ByteBuffer()).readableBytesView)) as? [String: Any]) ?? [:]
        return (response.head.status, object)
    }
}
