import Foundation
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import SyncModel
import SyncProtocol
import SyncServer
import SyncStore
import Testing

/// `GET /v1/directory` and the directory version pulls carry (PROTOCOL.md §15), in process.
struct DirectoryRouteTests {
    private static let directoryHeader = HTTPField.Name("CaseSync-Directory")!

    private func directory(_ fixture: NodeFixture, as device: String, _ client: any TestClientProtocol) async throws -> (NodeDirectory, String?) {
        try await client.execute(uri: "/v1/directory", method: .get, headers: [.authorization: fixture.credentials[device] ?? ""]) { response in
            #expect(response.status == .ok, "\(device): \(String(buffer: response.body))")
            return (try WireJSON.decode(NodeDirectory.self, from: Array(buffer: response.body)), response.headers[Self.directoryHeader])
        }
    }

    private func pulledVersion(_ fixture: NodeFixture, as device: String, _ client: any TestClientProtocol) async throws -> String? {
        try await client.execute(uri: "/v1/sync/pull?since=0", method: .get, headers: [.authorization: fixture.credentials[device] ?? ""]) { response in
            #expect(response.status == .ok)
            return response.headers[Self.directoryHeader]
        }
    }

    @Test(arguments: StoreKind.available) func mediatorsAndSupervisorsGetPeopleAndSitesReportersAndAdminsTheSitesOnly(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.store.addSite("North Hospital", at: fixture.time)
        try await fixture.test { client in
            for device in ["ann-laptop", "sue-desk"] {
                let (directory, _) = try await directory(fixture, as: device, client)
                #expect(directory.sites == ["North Hospital"])
                #expect(directory.users.map(\.name) == ["adam", "ann", "bob", "rita", "sue"])
                #expect(directory.users.first { $0.name == "rita" }?.role == "reporter")
                #expect(Set(directory.devices.map(\.name)) == Set(NodeFixture.users.map(\.device)))
                #expect(directory.devices.first { $0.id == "bob-laptop" }?.user == "bob")
            }
            for device in ["rita-desk", "adam-desk"] {
                let (directory, _) = try await directory(fixture, as: device, client)
                #expect(directory == NodeDirectory(devices: [], sites: ["North Hospital"], users: []), "no person names for \(device)")
            }
            try await client.execute(uri: "/v1/directory", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
        }
    }

    @Test(arguments: StoreKind.available) func everyChangeToUsersDevicesOrSitesGivesANewVersionThatPullsCarry(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.test { client in
            let first = try #require(try await pulledVersion(fixture, as: "ann-laptop", client))
            #expect(try await directory(fixture, as: "ann-laptop", client).1 == first, "the directory and the pull say the same version")
            #expect(try await pulledVersion(fixture, as: "sue-desk", client) == first, "nothing changed: the same version")
            var seen = [first]
            let changes: [(String, () async throws -> Void)] = [
                ("site added", { try await fixture.store.addSite("North Hospital", at: fixture.time) }),
                ("user added", { _ = try await fixture.store.addUser("cat", role: .mediator, at: fixture.time) }),
                ("device enrolled", {
                    let token = try await fixture.node.makeEnrollmentToken(for: "cat", ttl: 60)
                    _ = try await fixture.node.enroll(token: token, device: try DeviceID("cat-laptop"), name: "cat-laptop")
                }),
                ("user added", { _ = try await fixture.store.addUser("dan", role: .reporter, at: fixture.time) }),
                ("role changed", { _ = try await fixture.store.setRole("dan", to: .supervisor, at: fixture.time) }),
                ("user disabled", { try await fixture.store.disableUser("bob", at: fixture.time, deliverFirst: true) }),
                ("user enabled", { try await fixture.store.enableUser("bob", at: fixture.time) }),
                ("site removed", { _ = try await fixture.store.removeSite("north hospital", at: fixture.time) }),
            ]
            for (what, change) in changes {
                try await change()
                let version = try #require(try await pulledVersion(fixture, as: "ann-laptop", client))
                #expect(!seen.contains(version), "\(what): a new version")
                seen.append(version)
            }
            #expect(try await directory(fixture, as: "ann-laptop", client).0.sites.isEmpty, "removed without regard to case")
        }
    }

    @Test(arguments: StoreKind.available) func siteNamesAreCheckedAndKeptOnceWithoutRegardToCase(store: StoreKind) async throws {
        let fixture = try await NodeFixture(store: store)
        try await fixture.store.addSite("St Mary's", at: fixture.time)
        for bad in ["", " North", "North\tHospital", String(repeating: "x", count: 101)] {
            await #expect(throws: NodeError.self, "\(bad.debugDescription)") { try await fixture.store.addSite(bad, at: fixture.time) }
        }
        let again = await #expect(throws: NodeError.self) { try await fixture.store.addSite("ST MARY'S", at: fixture.time) }
        #expect(again?.code == .exists)
        await #expect(throws: NodeError.self) { try await fixture.store.removeSite("Nowhere", at: fixture.time) }
        #expect(try await fixture.store.sites() == ["St Mary's"])
        let audited = try await fixture.store.auditLog(limit: 5).filter { $0.action == "site-added" }
        #expect(audited.count == 1 && audited.first?.detail == "St Mary's")
    }
}
