import CaseSyncTestSupport
import Foundation
import Testing

/// Sixty-four `casesync sync` processes started together against the real node, each with
/// a case of its own to push: every one finishes with exit 0 (no timing is asserted; a
/// wedged node makes them exit 3 after their retries, or hang until the suite's bound).
@Suite(.serialized)
struct ConcurrentSyncTests {
    static let devices = 64

    @Test func sixtyFourDevicesSyncingAtOnceAllSucceed() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator"), ("sue", "supervisor")])
        defer { daemon.remove() }
        let replicas = try (0..<Self.devices).map { index in
            try CLIRunner.enrolled(daemon, user: index % 2 == 0 ? "ann" : "sue", name: String(format: "device-%02d", index)).cli
        }
        defer { replicas.forEach { $0.remove() } }
        for (index, cli) in replicas.enumerated() {
            _ = try cli.ok("case", "new", "--title", "Case of device \(index)")
        }

        // Start every sync before waiting for any.
        let launched = try replicas.map { try $0.launch(["--json", "sync"]) }
        var failures: [String] = []
        var pushed = 0
        for (index, (process, out, err)) in launched.enumerated() {
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            if process.terminationStatus != 0 {
                failures.append("device \(index) exited \(process.terminationStatus): \(stderr)")
            } else if let answer = try? JSONSerialization.jsonObject(with: stdout) as? [String: Any] {
                pushed += answer["pushed"] as? Int ?? 0
            }
        }
        #expect(failures.isEmpty, "\(failures.count) syncs failed, first: \(failures.prefix(3))")
        #expect(pushed == Self.devices, "every device pushed its case")

        // The supervisor's devices now hold every case: one more sync brings the rest.
        let check = try replicas[1].run("--json", "sync")
        #expect(check.status == 0)
        let cases = try replicas[1].run("--json", "case", "list")
        #expect((try cases.json() as? [Any])?.count == Self.devices)
        #expect(daemon.stop() == 0)
    }
}
