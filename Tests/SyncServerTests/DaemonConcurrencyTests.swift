import CaseSyncTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import SyncClient
import SyncModel
import Testing

/// The real `casesyncd` under many devices at once: every request must be answered, and
/// `/healthz` must keep answering while they run. (A synchronous database read inside an
/// async route once wedged the node for good with eight concurrent pulls.) No timing is
/// asserted beyond a generous bound that only a hang exceeds. Requests go through the
/// client library's libcurl transport, whose timeouts end a request the node never answers
/// (HummingbirdTesting's client waits for ever on a wedged server).
@Suite(.serialized)
struct DaemonConcurrencyTests {
    static let devices = 16
    static let workers = 64
    static let rounds = 3
    static let seeded = 200

    @Test func sixtyFourConcurrentPushesAndPullsAllFinishWhileHealthzAnswers() async throws {
        let daemon = try DaemonProcess.started(users: [("sue", "supervisor")])
        defer { daemon.remove() }
        let setup = daemon.client()
        var credentials: [String] = []
        for index in 0..<Self.devices {
            let device = String(format: "load-%02d", index)
            let enrolled = try daemon.admin("enroll", "sue", "--ttl", "1h")
            let token = try #require(enrolled.stdout.split(separator: "\n").last.map(String.init))
            let (status, answer) = try await setup.send(.post, "/v1/enroll", body: #"{"device":"\#(device)","name":"\#(device)","token":"\#(token)"}"#)
            #expect(status == .ok)
            credentials.append("Bearer \(device):\(try #require(answer["secret"] as? String))")
        }
        let seeds = try (1...Self.seeded).map { try NodeFixture.caseState(UInt64($0), by: "load-00", counter: $0) }
        #expect(try await setup.send(.post, "/v1/sync/push", authorization: credentials[0], body: String(buffer: NodeFixture.pushBody(seeds))).0 == .ok)
        try await setup.shutdown()

        let port = daemon.port
        let auth = credentials
        let server = "http://127.0.0.1:\(port)"
        let watchdog = Task { () -> [String] in
            var failures: [String] = []
            do {
                let client = try CurlTransport(baseURL: server, timeout: .seconds(15), connections: 1)
                while !Task.isCancelled {
                    do {
                        let answer = try await client.send(TransportRequest(.get, "/healthz"))
                        if answer.status != 200 { failures.append("healthz answered \(answer.status)") }
                    } catch {
                        failures.append("healthz did not answer: \(error)")
                        break
                    }
                    try? await Task.sleep(for: .milliseconds(100))
                }
            } catch {
                failures.append("no transport: \(error)")
            }
            return failures
        }

        let failures = await withTaskGroup(of: [String].self) { group -> [String] in
            for worker in 0..<Self.workers {
                group.addTask {
                    let device = worker % Self.devices
                    var failures: [String] = []
                    let headers = [("Authorization", auth[device])]
                    do {
                        let client = try CurlTransport(baseURL: server, timeout: .seconds(60), connections: 1)
                        for round in 0..<Self.rounds {
                            let number = 10_000 + worker * 100 + round
                            let state = try NodeFixture.caseState(UInt64(number), by: String(format: "load-%02d", device), counter: number)
                            let body = Array(NodeFixture.pushBody([state]).readableBytesView)
                            let pushed = try await client.send(TransportRequest(.post, "/v1/sync/push", headers: headers, body: body))
                            if pushed.status != 200 { failures.append("worker \(worker) push answered \(pushed.status): \(String(decoding: pushed.body, as: UTF8.self))") }
                            var cursor = 0
                            while true {
                                let pulled = try await client.send(TransportRequest(.get, "/v1/sync/pull?since=\(cursor)&limit=50", headers: headers))
                                let page = (try? JSONSerialization.jsonObject(with: Data(pulled.body)) as? [String: Any]) ?? [:]
                                guard pulled.status == 200 else {
                                    failures.append("worker \(worker) pull answered \(pulled.status): \(page)")
                                    break
                                }
                                cursor = page["next"] as? Int ?? cursor
                                if page["more"] as? Bool != true { break }
                            }
                        }
                    } catch {
                        failures.append("worker \(worker): no answer (\(error))")
                    }
                    return failures
                }
            }
            var all: [String] = []
            for await failures in group { all += failures }
            return all
        }
        watchdog.cancel()
        let watchdogFailures = await watchdog.value
        #expect(failures.isEmpty, "\(failures.count) failed requests, first: \(failures.prefix(3))")
        #expect(watchdogFailures.isEmpty, "\(watchdogFailures.prefix(3))")

        // Every push was merged: a new pull sees the seeds and each worker's records.
        let check = try CurlTransport(baseURL: server, timeout: .seconds(30), connections: 1)
        var ids: Set<String> = []
        var cursor = 0
        while true {
            let answer = try await check.send(TransportRequest(.get, "/v1/sync/pull?since=\(cursor)&limit=2000", headers: [("Authorization", auth[1])]))
            try #require(answer.status == 200)
            let page = (try JSONSerialization.jsonObject(with: Data(answer.body)) as? [String: Any]) ?? [:]
            ids.formUnion((page["records"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
            cursor = page["next"] as? Int ?? cursor
            if page["more"] as? Bool != true { break }
        }
        #expect(ids.count == Self.seeded + Self.workers * Self.rounds)
        #expect(daemon.stop() == 0, "the node still stops gracefully")
    }
}
