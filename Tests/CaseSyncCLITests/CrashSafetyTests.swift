import Foundation
import SyncModel
import SyncStore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `kill -9` while `casesync` writes: the store must open cleanly with every acknowledged write.
struct CrashSafetyTests {
    @Test func killingCasesyncMidWriteLosesNoAcknowledgedWrite() throws {
        let cli = try CLIRunner()
        defer { cli.remove() }
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        let caseID = try #require(try cli.ok("case", "new", "--title", "Crash test")["id"] as? String)

        var acknowledged: [String] = []
        var killed = 0
        var generator = SystemRandomNumberGenerator()
        for index in 0..<60 {
            let (process, out, _) = try cli.launch(["--json", "note", "add", caseID, "--text", "note \(index)"])
            if index % 2 == 1 {
                // Kill at a random moment: before, during or after the write transaction.
                usleep(UInt32.random(in: 0...40_000, using: &generator))
                kill(process.processIdentifier, SIGKILL)
            }
            let output = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal {
                killed += 1
            } else if process.terminationStatus == 0,
                      let object = try JSONSerialization.jsonObject(with: output) as? [String: Any], let id = object["id"] as? String {
                acknowledged.append(id)
            }
        }
        #expect(killed > 0, "the test must actually kill some writers")

        let store = try cli.store()
        #expect(try store.integrityCheck() == ["ok"])
        for id in acknowledged {
            #expect(try store.record(RecordID(id)) != nil, "acknowledged note \(id) is missing")
        }
        // The replica keeps working, and its counter never reused a dot.
        let after = try cli.ok("note", "add", caseID, "--text", "after the crashes")
        #expect(after["id"] is String)
        let counter = try store.replica().counter
        #expect(counter >= acknowledged.count + 2)
    }
}
