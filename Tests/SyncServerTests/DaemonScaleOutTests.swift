import CaseSyncTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import SyncModel
import Testing

/// Two real `casesyncd` processes on one PostgreSQL database: a crash of one loses nothing
/// it acknowledged, and the other serves on meanwhile.
@Suite(.serialized, .enabled(if: DaemonProcess.freshDatabaseURL() != nil, "set CASESYNC_TEST_DATABASE_URL (make test starts a cluster when PostgreSQL is installed)"))
struct DaemonScaleOutTests {
    /// Pushes alternate between the two nodes; one is killed (SIGKILL) at a random moment,
    /// and the pushes go on to the survivor. Every push either node acknowledged is served by
    /// the survivor at once, and by the killed node once it is back.
    @Test func killingOneNodeDuringPushesLosesNoAcknowledgedPushAndTheOtherServesOn() async throws {
        let url = try #require(DaemonProcess.freshDatabaseURL())
        let first = DaemonProcess(database: url)
        let second = DaemonProcess(database: url)
        defer { first.remove(); second.remove() }
        try first.start()
        try second.start()
        let setup = first.client()
        let auth = try await DaemonEndToEndTests().enrolledDevice(first, user: "sue", role: "supervisor", device: "sue-desk", client: setup)
        try await setup.shutdown()

        let clients = [first.client(), second.client()]
        let progress = PushProgress()
        let crashed = PostgresStoreTests.Flag()
        let pusher = Task { () -> [RecordID] in
            var acknowledged: [RecordID] = []
            var afterCrash = 0
            for index in 0..<10_000 {
                let state = try NodeFixture.caseState(UInt64(index + 1), by: "sue-desk", counter: index + 1)
                // Each push to the other node than the last; once one is killed, to the survivor.
                let down = await crashed.isSet
                let toSecond = index % 2 == 1 && !down
                do {
                    let (status, _) = try await clients[toSecond ? 1 : 0].send(.post, "/v1/sync/push", authorization: auth, body: String(buffer: NodeFixture.pushBody([state])))
                    guard status == .ok else {
                        Issue.record("push \(index) answered \(status)")
                        break
                    }
                    acknowledged.append(state.id)
                    progress.count.store(acknowledged.count, ordering: .relaxed)
                } catch where toSecond {
                    continue  // the node being killed: this push was not acknowledged
                } catch {
                    Issue.record("push \(index) to the survivor failed: \(error)")
                    break
                }
                if down {
                    afterCrash += 1
                    if afterCrash == 20 { break }
                }
            }
            return acknowledged
        }
        let deadline = ContinuousClock.now + .seconds(60)
        while progress.count.load(ordering: .relaxed) < 20 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(Int.random(in: 0...400)))
        second.crash()
        await crashed.set()
        let acknowledged = try await pusher.value
        for client in clients { try? await client.shutdown() }
        #expect(acknowledged.count > 25, "the loop should have pushed for a while, and on after the crash")

        // The survivor serves every acknowledged push while the other is down.
        let survivor = first.client()
        let served = try await pullAll(survivor, authorization: auth)
        #expect(acknowledged.filter { !served.contains($0.rawValue) }.isEmpty, "acknowledged pushes missing on the survivor")
        // It still takes pushes.
        let after = try NodeFixture.caseState(50_000, by: "sue-desk", counter: 50_000)
        #expect(try await survivor.send(.post, "/v1/sync/push", authorization: auth, body: String(buffer: NodeFixture.pushBody([after]))).0 == .ok)
        try await survivor.shutdown()

        // The killed node, back, serves the same.
        try second.start()
        let back = second.client()
        let again = try await pullAll(back, authorization: auth)
        try await back.shutdown()
        #expect(again == served.union([after.id.rawValue]))
        #expect(first.stop() == 0 && second.stop() == 0)
    }

    /// Every record id a device is served, pulling from the start until `more` is false.
    func pullAll(_ client: TestClient, authorization: String) async throws -> Set<String> {
        var received: Set<String> = []
        var cursor = 0
        var after: Int?
        while true {
            let (status, page) = try await client.send(.get, "/v1/sync/pull?since=\(cursor)&limit=2000" + (after.map { "&after=\($0)" } ?? ""), authorization: authorization)
            #expect(status == .ok)
            received.formUnion((page["records"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
            cursor = page["next"] as? Int ?? cursor
            after = page["after"] as? Int
            if page["more"] as? Bool != true { break }
        }
        return received
    }
}
