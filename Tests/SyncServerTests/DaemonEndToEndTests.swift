import CaseSyncTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import SyncModel
import SyncStore
import Synchronization
import Testing

/// The real `casesyncd` binary on loopback.
@Suite(.serialized)
struct DaemonEndToEndTests {
    /// Adds a user, enrolls a device over HTTP, and returns its Authorization header.
    func enrolledDevice(_ daemon: DaemonProcess, user: String, role: String, device: String, client: TestClient) async throws -> String {
        let added = try daemon.admin("user", "add", user, "--role", role)
        #expect(added.status == 0, "\(added.stderr)")
        let enrolled = try daemon.admin("enroll", user, "--ttl", "1h")
        #expect(enrolled.status == 0)
        let token = try #require(enrolled.stdout.split(separator: "\n").last.map(String.init))
        let (status, answer) = try await client.send(.post, "/v1/enroll", body: #"{"device":"\#(device)","name":"\#(device)","token":"\#(token)"}"#)
        #expect(status == .ok)
        return "Bearer \(device):\(try #require(answer["secret"] as? String))"
    }

    @Test func aDeviceEnrollsPushesAndPullsAndTheNodeStopsGracefully() async throws {
        let daemon = DaemonProcess()
        defer { daemon.remove() }
        try daemon.start()
        let client = daemon.client()
        let auth = try await enrolledDevice(daemon, user: "ann", role: "mediator", device: "ann-laptop", client: client)

        let state = try NodeFixture.caseState(1, by: "ann-laptop", counter: 1, title: "End to end")
        let body = String(buffer: NodeFixture.pushBody([state]))
        let (pushed, answer) = try await client.send(.post, "/v1/sync/push", authorization: auth, body: body)
        #expect(pushed == .ok)
        #expect(answer["seq"] as? Int == 1)
        let (pulled, page) = try await client.send(.get, "/v1/sync/pull?since=0", authorization: auth)
        #expect(pulled == .ok)
        #expect((page["records"] as? [[String: Any]])?.first?["id"] as? String == state.id.rawValue)
        #expect(try await client.send(.get, "/v1/sync/pull", authorization: "Bearer ann-laptop:bad").0 == .unauthorized)

        let devices = try daemon.admin("device", "list")
        #expect(devices.stdout.contains("ann-laptop"))
        try daemon.admin("device", "revoke", "ann-laptop")
        #expect(try await client.send(.get, "/v1/sync/pull", authorization: auth).0 == .unauthorized, "revocation applies to the next request")
        try await client.shutdown()

        #expect(daemon.stop() == 0, "SIGTERM stops the node gracefully")
        let backup = daemon.data.appendingPathComponent("backup.sqlite").path
        #expect(try daemon.admin("backup", "--to", backup).status == 0)
        let restored = try SQLiteNodeStore.open(path: backup)
        #expect(try await restored.record(state.id) != nil)
        #expect(try daemon.admin("check").stdout.contains("ok"))
        #expect(try daemon.admin("enroll", "nobody").status == 2, "unknown user: not found")
        #expect(try daemon.admin("user", "add", "x", "--role", "emperor").status == 1)
    }

    @Test func everyAcknowledgedPushSurvivesKillDashNine() async throws {
        let daemon = DaemonProcess()
        defer { daemon.remove() }
        try daemon.start()
        let setup = daemon.client()
        let auth = try await enrolledDevice(daemon, user: "sue", role: "supervisor", device: "sue-desk", client: setup)
        try await setup.shutdown()

        for round in 0..<2 {
            let client = daemon.client()
            let progress = PushProgress()
            let pusher = Task { () -> [RecordID] in
                var acknowledged: [RecordID] = []
                for index in 0..<10_000 {
                    let counter = round * 10_000 + index + 1
                    let state = try NodeFixture.caseState(UInt64(counter), by: "sue-desk", counter: counter)
                    do {
                        let (status, _) = try await client.send(.post, "/v1/sync/push", authorization: auth, body: String(buffer: NodeFixture.pushBody([state])))
                        guard status == .ok else { break }
                        acknowledged.append(state.id)
                        progress.count.store(acknowledged.count, ordering: .relaxed)
                    } catch {
                        break
                    }
                }
                return acknowledged
            }
            // Crash mid-stream: once pushes are flowing (however slow the machine is), at a
            // random moment.
            let deadline = ContinuousClock.now + .seconds(30)
            while progress.count.load(ordering: .relaxed) < 20 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(Int.random(in: 0...400)))
            daemon.crash()
            let acknowledged = try await pusher.value
            try? await client.shutdown()
            #expect(acknowledged.count > 5, "the loop should have pushed for a while")

            try daemon.start()
            let check = daemon.client()
            var received: Set<String> = []
            var cursor = 0
            while true {
                let (status, page) = try await check.send(.get, "/v1/sync/pull?since=\(cursor)&limit=2000", authorization: auth)
                #expect(status == .ok)
                received.formUnion((page["records"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
                cursor = page["next"] as? Int ?? cursor
                if page["more"] as? Bool != true { break }
            }
            try await check.shutdown()
            let missing = acknowledged.filter { !received.contains($0.rawValue) }
            #expect(missing.isEmpty, "round \(round): \(missing.count) acknowledged pushes lost")
        }
        #expect(daemon.stop() == 0)
        #expect(try daemon.admin("check").stdout.contains("ok"))
    }
}

/// How many pushes have been acknowledged so far, shared with the task that pushes.
final class PushProgress: Sendable {
    let count = Atomic<Int>(0)

    @Test func adminCommandsRefuseBadInputInOneLineAndChangeNothing() throws {
        let daemon = DaemonProcess()
        defer { daemon.remove() }
        // `check` on a folder with no database says so; it does not create one to check.
        let missing = try daemon.admin("check")
        #expect(missing.status == 2 && missing.stderr.split(separator: "\n").count == 1, "\(missing.stderr)")
        let backup = FileManager.default.temporaryDirectory.appendingPathComponent("nothing-\(UUID().uuidString).sqlite").path
        let nothing = try daemon.admin("backup", "--to", backup)
        #expect(nothing.status == 2 && nothing.stderr.split(separator: "\n").count == 1, "\(nothing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: daemon.data.appendingPathComponent("replica.sqlite").path))
        #expect(!FileManager.default.fileExists(atPath: backup), "no backup of nothing")
        // Listing or changing what is not there is a mistyped --data: said, not created.
        for command in [["user", "list"], ["device", "list"], ["user", "disable", "ann"], ["device", "revoke", "ann-laptop"], ["enroll", "ann"],
                        ["user", "enable", "ann"], ["user", "set-role", "ann", "supervisor"], ["access", "list", "--json"], ["device", "list", "--json"],
                        ["purge", "MED-1", "--reason", "r", "--yes"], ["retention", "--closed-before", "2020-01-01", "--dry-run"]] {
            let result = try daemon.admin(command)
            #expect(result.status == 2 && result.stderr.split(separator: "\n").count == 1 && result.stderr.contains("holds no node database"), "\(command): \(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: daemon.data.appendingPathComponent("replica.sqlite").path), "nothing was created")

        #expect(try daemon.admin("user", "add", "ann", "--role", "mediator").status == 0)
        for ttl in ["999999999999999d", "366d", "0s", "-5m", "1w", "24"] {
            let refused = try daemon.admin("enroll", "ann", "--ttl", ttl)
            #expect(refused.status == 1, "--ttl \(ttl): \(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1 && refused.stderr.contains("--ttl"), "--ttl \(ttl): \(refused.stderr)")
        }
        #expect(try daemon.admin("enroll", "ann", "--ttl", "365d").status == 0)
        #expect(try daemon.admin("check").stdout == "ok\n")
    }
}
