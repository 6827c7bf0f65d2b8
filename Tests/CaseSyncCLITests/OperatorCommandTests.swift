import CaseSyncTestSupport
import Foundation
import Testing

/// `casesyncd`'s operator commands on the real binaries: JSON lists for scripts, the device
/// list's last contact, and a user re-enabled or given another role.
@Suite(.serialized)
struct OperatorCommandTests {
    private func json(_ result: (status: Int32, stdout: String, stderr: String)) throws -> [[String: Any]] {
        #expect(result.status == 0, "\(result.stderr)")
        return try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]], "not a JSON array: \(result.stdout)")
    }

    @Test func listsHaveHeadersAndJSONAndTheDeviceListShowsLastContact() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator"), ("sue", "supervisor")])
        defer { daemon.remove() }
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop")
        defer { ann.cli.remove() }

        let users = try json(try daemon.admin("user", "list", "--json"))
        #expect(users.map { $0["name"] as? String } == ["ann", "sue"])
        #expect(users.first?["role"] as? String == "mediator" && users.first?["disabled"] as? Bool == false)
        let table = try daemon.admin("user", "list")
        #expect(table.stdout.hasPrefix("USER\tROLE\tSTATE\n") && table.stdout.contains("ann\tmediator\tenabled"), "\(table.stdout)")

        let enrolled = try json(try daemon.admin("device", "list", "--json"))
        let enrolledAt = try #require(enrolled.first?["lastSeen"] as? String, "enrollment is a contact")
        Thread.sleep(forTimeInterval: 1.1)   // the listing shows whole seconds
        try ann.sync()
        let devices = try json(try daemon.admin("device", "list", "--json"))
        #expect(devices.count == 1)
        let device = try #require(devices.first)
        #expect(device["id"] as? String == ann.device && device["name"] as? String == "ann-laptop" && device["user"] as? String == "ann")
        #expect(device["state"] as? String == "active")
        #expect((device["lastSeen"] as? String ?? "") > enrolledAt, "a sync moves the last contact on")
        let header = try daemon.admin("device", "list").stdout.split(separator: "\n").first.map(String.init)
        #expect(header == "DEVICE\tUSER\tNAME\tLAST SEEN\tSTATE")
        #expect(try json(try daemon.admin("access", "list", "--json")).isEmpty)
    }

    @Test func aUserIsEnabledAgainAndChangesRoleOnceNoDeviceHoldsTheirData() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator")])
        defer { daemon.remove() }
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop")
        defer { ann.cli.remove() }

        #expect(try daemon.admin("user", "disable", "ann").status == 0)
        #expect(try ann.cli.run("sync").status == 4, "the sync delivers, erases and confirms")
        #expect(try OperatorCommandTests.state(daemon, "ann-laptop").hasPrefix("wiped at"))
        #expect(try daemon.admin("enroll", "ann").status != 0, "a disabled user gets no token")
        let enabled = try daemon.admin("user", "enable", "ann")
        #expect(enabled.status == 0, "\(enabled.stderr)")
        #expect(try json(try daemon.admin("user", "list", "--json")).first?["disabled"] as? Bool == false)
        #expect(try daemon.admin("enroll", "ann").status == 0, "enabled again: tokens are made")
        #expect(try daemon.admin("user", "enable", "ann").status == 1, "already enabled")
        #expect(try daemon.admin("user", "enable", "bob").status == 2, "no such user")

        // The old device erased its data when ann was disabled: enabling her does not let it back in.
        let back = try ann.cli.run("sync")
        #expect(back.status == 4, "an erasure is never taken back: \(back.stderr)")

        let second = try EnrolledReplica(daemon, user: "ann", name: "ann-desktop")
        defer { second.cli.remove() }
        let refused = try daemon.admin("user", "set-role", "ann", "supervisor")
        #expect(refused.status == 1 && refused.stderr.contains(second.device) && refused.stderr.contains("device revoke"), "\(refused.status) \(refused.stderr)")
        #expect(try json(try daemon.admin("user", "list", "--json")).first?["role"] as? String == "mediator", "a refused change changes nothing")
        #expect(try daemon.admin("user", "set-role", "ann", "boss").status == 1)

        #expect(try daemon.admin("device", "revoke", second.device, "--wipe").status == 0)
        let changed = try daemon.admin("user", "set-role", "ann", "supervisor")
        #expect(changed.status == 0, "\(changed.stderr)")
        #expect(try json(try daemon.admin("user", "list", "--json")).first?["role"] as? String == "supervisor")
        let third = try EnrolledReplica(daemon, user: "ann", name: "ann-new")
        defer { third.cli.remove() }
        try third.sync()
    }

    static func state(_ daemon: DaemonProcess, _ name: String) throws -> String {
        let rows = try #require(try JSONSerialization.jsonObject(with: Data(try daemon.admin("device", "list", "--json").stdout.utf8)) as? [[String: Any]])
        return rows.first { $0["name"] as? String == name }?["state"] as? String ?? "(not listed)"
    }
}
