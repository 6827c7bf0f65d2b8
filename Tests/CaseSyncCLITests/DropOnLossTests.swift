import CaseSyncTestSupport
import Foundation
import Testing

/// When the holding rule stops allowing a user to hold records, every device of theirs
/// removes them on its next sync, leaving no trace in any file of its data folder, and
/// nothing it had queued is lost (PROTOCOL.md §13). Checked as an attacker would: unique
/// markers planted in the records, then every byte of the folder searched.
@Suite(.serialized)
struct DropOnLossTests {
    /// A marker no other test or record holds.
    static func marker(_ label: String) -> String { "MARK-\(label)-\(UUID().uuidString.prefix(12))" }

    /// "file: marker" for every file under `folder` whose bytes hold one of `markers`
    /// (database, WAL, SHM, settings, anything else).
    static func traces(of markers: [String], in folder: URL) throws -> [String] {
        var found: [String] = []
        let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.isRegularFileKey])
        while let file = files?.nextObject() as? URL {
            guard (try file.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true else { continue }
            let bytes = try Data(contentsOf: file)
            for marker in markers where bytes.range(of: Data(marker.utf8)) != nil {
                found.append("\(file.lastPathComponent): \(marker)")
            }
        }
        return found
    }

    @Test func aRemovedMediatorsDeviceKeepsNoTraceAndWhatItQueuedReachesTheNode() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator"), ("bob", "mediator")])
        defer { daemon.remove() }
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop")
        let bob = try EnrolledReplica(daemon, user: "bob", name: "bob-laptop")
        defer { [ann, bob].forEach { $0.cli.remove() } }
        let (title, contact, text) = (Self.marker("title"), Self.marker("contact"), Self.marker("note"))
        let caseID = try #require(try ann.cli.ok("case", "new", "--title", title, "--site", "North")["id"] as? String)
        _ = try ann.cli.ok("party", "add", caseID, "--role", "patient", "--name", "P. Patient", "--contact", contact)
        _ = try ann.cli.ok("note", "add", caseID, "--text", text)
        _ = try ann.cli.ok("case", "set", caseID, "mediators+=bob")
        try ann.sync()
        try bob.sync()
        #expect(try Self.traces(of: [title, contact, text], in: bob.cli.data).count >= 3, "bob's device holds the case before")

        // Offline, bob adds a note; meanwhile ann removes him from the case.
        let late = Self.marker("late")
        _ = try bob.cli.ok("note", "add", caseID, "--text", late)
        _ = try ann.cli.ok("case", "set", caseID, "mediators-=bob")
        try ann.sync()

        let sync = try bob.cli.run("sync")
        #expect(sync.status == 0, "\(sync.stderr)")
        #expect(sync.stdout.contains("4 records of MED-") && sync.stdout.contains("removed from this device: you are no longer a mediator of the case"), "\(sync.stdout)")
        #expect(try bob.cli.run("case", "show", caseID).status == 2)
        #expect(try Self.traces(of: [title, contact, text, late], in: bob.cli.data) == [])
        #expect(try bob.cli.ok("status")["pending"] as? Int == 0)

        // What bob typed before he knew reached the node and ann, and his next sync is clean.
        try ann.sync()
        let shown = try ann.cli.run("--json", "case", "show", caseID)
        #expect(shown.stdout.contains(late))
        let again = try bob.sync()
        #expect(again["pulled"] as? Int == 0 && again["pushed"] as? Int == 0)
    }

    @Test func aNoteNarrowedToCaucusLeavesTheCoMediatorAndTheSupervisor() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator"), ("bob", "mediator"), ("sue", "supervisor")])
        defer { daemon.remove() }
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop")
        let bob = try EnrolledReplica(daemon, user: "bob", name: "bob-laptop")
        let sue = try EnrolledReplica(daemon, user: "sue", name: "sue-desk")
        defer { [ann, bob, sue].forEach { $0.cli.remove() } }
        let (title, text) = (Self.marker("title"), Self.marker("caucus"))
        let caseID = try #require(try ann.cli.ok("case", "new", "--title", title)["id"] as? String)
        let noteID = try #require(try ann.cli.ok("note", "add", caseID, "--text", text)["id"] as? String)
        _ = try ann.cli.ok("case", "set", caseID, "mediators+=bob")
        try ann.sync()
        for replica in [bob, sue] {
            try replica.sync()
            #expect(try Self.traces(of: [text], in: replica.cli.data).count >= 1)
        }

        _ = try ann.cli.ok("note", "set", noteID, "visibility=caucus")
        try ann.sync()
        for replica in [bob, sue] {
            let sync = try replica.sync()
            #expect((sync["dropped"] as? [[String: Any]])?.first?["reason"] as? String == "note-narrowed")
            #expect(try Self.traces(of: [text], in: replica.cli.data) == [], "\(replica.device) keeps no trace of the caucus note")
            #expect(try replica.cli.run("case", "show", caseID).status == 0, "the case itself stays")
        }
        #expect(try ann.cli.run("--json", "case", "show", caseID).stdout.contains(text), "its author keeps it")
    }

    @Test func aCaseMadeRestrictedLeavesSupervisorsAndComesBackWhenItIsNot() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator"), ("sue", "supervisor")])
        defer { daemon.remove() }
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop")
        let sue = try EnrolledReplica(daemon, user: "sue", name: "sue-desk")
        defer { [ann, sue].forEach { $0.cli.remove() } }
        let (title, contact) = (Self.marker("title"), Self.marker("contact"))
        let caseID = try #require(try ann.cli.ok("case", "new", "--title", title)["id"] as? String)
        _ = try ann.cli.ok("party", "add", caseID, "--role", "family", "--name", "F. Family", "--contact", contact)
        try ann.sync()
        try sue.sync()
        #expect(try sue.cli.run("case", "show", caseID).status == 0)

        _ = try ann.cli.ok("case", "set", caseID, "confidentiality=restricted")
        try ann.sync()
        let sync = try sue.sync()
        #expect((sync["dropped"] as? [[String: Any]])?.first?["records"] as? Int == 2)
        #expect(try sue.cli.run("case", "show", caseID).status == 2)
        #expect(try Self.traces(of: [title, contact], in: sue.cli.data) == [])

        _ = try ann.cli.ok("case", "set", caseID, "confidentiality=standard")
        try ann.sync()
        #expect(try sue.sync()["pulled"] as? Int == 2, "the case and its party come back")
        #expect(try sue.cli.run("--json", "case", "show", caseID).stdout.contains(contact))
    }
}
