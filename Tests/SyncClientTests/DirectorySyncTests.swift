import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import SyncClient
import SyncModel
import SyncServer
import SyncStore
import Testing

/// The engine fetches the node's directory only when the pull says it changed (PROTOCOL.md
/// §10, §15): a sync with nothing to do makes no extra request.
struct DirectorySyncTests {
    /// A transport that notes every path it is asked for.
    final class CountingTransport: HTTPTransport {
        let inner: RouterTransport
        let paths = Mutex<[String]>([])
        var baseURL: String { inner.baseURL }

        init(inner: RouterTransport) { self.inner = inner }

        func send(_ request: TransportRequest) async throws -> TransportResponse {
            paths.withLock { $0.append(String(request.path.prefix { $0 != "?" })) }
            return try await inner.send(request)
        }

        func directoryFetches() -> Int { paths.withLock { $0.filter { $0 == "/v1/directory" }.count } }
    }

    @Test func theDirectoryIsFetchedOncePerChangeAndForgottenByAWipe() async throws {
        let now: Int64 = 1_795_000_000_000
        let store = try SQLiteNodeStore.inMemory()
        let node = try await SyncNode(store: store, logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() })
        _ = try store.addUser("ann", role: .mediator, at: now)
        let token = try await node.makeEnrollmentToken(for: "ann", ttl: 3600)
        let secret = try await node.enroll(token: token, device: DeviceID("ann-laptop"), name: "ann-laptop").secret
        let replica = try ReplicaStore.inMemory()
        try replica.initialize(device: try DeviceID("ann-laptop"), name: "ann-laptop", at: now)

        try await Application(router: buildRouter(node: node, configuration: NodeConfiguration())).test(.router) { client in
            let transport = CountingTransport(inner: RouterTransport(client: client))
            let engine = SyncEngine(store: replica, client: SyncClient(transport: transport, device: try DeviceID("ann-laptop"), secret: secret))
            _ = try await engine.run()
            #expect(transport.directoryFetches() == 1, "a first sync fetches it")
            let held = try #require(try replica.setting(SyncEngine.directoryKey))
            #expect(held.contains("\"ann-laptop\""))
            _ = try await engine.run()
            _ = try await engine.run()
            #expect(transport.directoryFetches() == 1, "unchanged: never fetched again")

            try store.addSite("North Hospital", at: now)
            _ = try await engine.run()
            #expect(transport.directoryFetches() == 2, "a change: fetched once more")
            #expect(try replica.setting(SyncEngine.directoryKey)?.contains("North Hospital") == true)
            _ = try await engine.run()
            #expect(transport.directoryFetches() == 2)
        }
        // A device that erases its case data forgets the directory (staff names) with it.
        _ = try SyncEngine.eraseCaseData(of: replica, undeliveredIn: nil)
        #expect(try replica.setting(SyncEngine.directoryKey) == nil && replica.setting(SyncEngine.directoryVersionKey) == nil)
    }
}
