import CaseSyncTestSupport
import Foundation
import Testing

/// When the holding rule stops allowing a user to hold records, every device of theirs
/// removes them on its next sync, leaving no trace in any file of its data folder, and
/// nothing it had queued is lost (PROTOCOL.md §13). Checked as an attacker would: unique
/// markers planted in the records, then every byte of the folder searched. The replicas are
/// plain (`init --no-encryption`): encryption would hide the markers whether or not the
/// drop erased them, and these tests check the erasure itself (`EncryptionAtRestTests`
/// checks that an encrypted replica shows none).
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
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop", encrypted: false)
        let bob = try EnrolledReplica(daemon, user: "bob", name: "bob-laptop", encrypted: false)
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
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop", encrypted: false)
        let bob = try EnrolledReplica(daemon, user: "bob", name: "bob-laptop", encrypted: false)
        let sue = try EnrolledReplica(daemon, user: "sue", name: "sue-desk", encrypted: false)
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
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop", encrypted: false)
        let sue = try EnrolledReplica(daemon, user: "sue", name: "sue-desk", encrypted: false)
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
        // She keeps the case's metadata, nothing more.
        let shown = try sue.cli.run("case", "show", caseID)
        #expect(shown.status == 0 && shown.stdout.contains("restricted: metadata only"), "\(shown.stdout)")
        #expect(try Self.traces(of: [title, contact], in: sue.cli.data) == [])

        _ = try ann.cli.ok("case", "set", caseID, "confidentiality=standard")
        try ann.sync()
        #expect(try sue.sync()["pulled"] as? Int == 2, "the case and its party come back")
        #expect(try sue.cli.run("--json", "case", "show", caseID).stdout.contains(contact))
    }

    /// A supervisor holds a restricted case's metadata only; break-glass access gives her, for
    /// the time asked, what its mediators hold (not a caucus note), audited and shown to them;
    /// when it ends, her next sync takes it off her device, leaving no trace.
    @Test func breakGlassGivesASupervisorARestrictedCaseForAWhileAndTakesItBack() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator"), ("sue", "supervisor")])
        defer { daemon.remove() }
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop", encrypted: false)
        let sue = try EnrolledReplica(daemon, user: "sue", name: "sue-desk", encrypted: false)
        defer { [ann, sue].forEach { $0.cli.remove() } }
        let (title, contact, note, caucus) = (Self.marker("title"), Self.marker("contact"), Self.marker("note"), Self.marker("caucus"))
        let created = try ann.cli.ok("case", "new", "--title", title, "--site", "North", "--confidentiality", "restricted")
        let caseID = try #require(created["id"] as? String)
        let reference = try #require((created["fields"] as? [String: Any])?["reference"] as? String)
        _ = try ann.cli.ok("party", "add", caseID, "--role", "patient", "--name", "P. Patient", "--contact", contact)
        _ = try ann.cli.ok("note", "add", caseID, "--text", note, "--visibility", "mediator")
        _ = try ann.cli.ok("note", "add", caseID, "--text", caucus, "--visibility", "caucus")
        try ann.sync()
        try sue.sync()

        // Metadata only: listed and shown, with no content in any file of her folder.
        let listed = try sue.cli.run("--json", "case", "list")
        let cases = try #require(try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [[String: Any]])
        let entry = try #require(cases.first { $0["id"] as? String == caseID })
        #expect(entry["metadataOnly"] as? Bool == true && entry["site"] as? String == "North" && entry["reference"] as? String == reference && entry["title"] as? String == "")
        let shown = try sue.cli.run("case", "show", reference)
        #expect(shown.status == 0 && shown.stdout.contains("restricted: metadata only") && shown.stdout.contains("casesync access request"), "\(shown.stdout)")
        #expect(try Self.traces(of: [title, contact, note, caucus], in: sue.cli.data) == [])

        // Only a supervisor, and only with a reason.
        #expect(try ann.cli.run("access", "request", caseID, "--reason", "curious").status == 4)
        #expect(try sue.cli.run("access", "request", caseID).status == 1)
        #expect(try sue.cli.run("access", "request", caseID, "--reason", "x", "--for", "8d").status == 1)

        let asked = try sue.cli.ok("access", "request", reference, "--reason", "safeguarding concern raised by the ward", "--for", "6s")
        #expect(asked["case"] as? String == caseID && asked["user"] as? String == "sue")
        let granted = Date()
        try sue.sync()
        let held = try sue.cli.run("--json", "case", "show", caseID)
        #expect(held.status == 0 && held.stdout.contains(title) && held.stdout.contains(contact) && held.stdout.contains(note), "\(held.stdout)")
        #expect(try Self.traces(of: [caucus], in: sue.cli.data) == [], "never another's caucus note")

        // Ann sees who looked, when and why.
        try ann.sync()
        let told = try ann.cli.run("case", "show", caseID)
        #expect(told.stdout.contains("Break-glass access (1)") && told.stdout.contains("sue") && told.stdout.contains("safeguarding concern raised by the ward"), "\(told.stdout)")

        // When it ends, her next sync removes it all; the metadata stays.
        Thread.sleep(forTimeInterval: max(0, 6.5 - Date().timeIntervalSince(granted)))
        let ended = try sue.cli.run("sync")
        #expect(ended.status == 0 && ended.stdout.contains("removed from this device: your break-glass access to the case ended"), "\(ended.stdout) \(ended.stderr)")
        #expect(try Self.traces(of: [title, contact, note, caucus], in: sue.cli.data) == [])
        #expect(try sue.cli.run("case", "show", caseID).stdout.contains("restricted: metadata only"))
        // The service reviews it: who, which case, when, why.
        let review = try daemon.admin("access", "list").stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        #expect(review.count == 2 && review[1][0] == caseID && review[1][1] == "sue" && review[1][4] == "ended" && review[1][5] == "safeguarding concern raised by the ward", "\(review)")
    }

    /// The state `casesyncd device list` shows for the device named `name`.
    static func listedState(_ daemon: DaemonProcess, _ name: String) throws -> String {
        let listing = try daemon.admin("device", "list").stdout
        let line = listing.split(separator: "\n").first { $0.split(separator: "\t").dropFirst(2).first.map(String.init) == name }
        return line.flatMap { $0.split(separator: "\t").last.map(String.init) } ?? "(not listed: \(listing))"
    }

    /// A lost laptop: revoked with `--wipe`, it erases everything at its next contact,
    /// delivers nothing, and is refused from then on.
    @Test func aDeviceRevokedWithWipeErasesEverythingAtItsNextContact() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator"), ("sue", "supervisor")])
        defer { daemon.remove() }
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop", encrypted: false)
        let sue = try EnrolledReplica(daemon, user: "sue", name: "sue-desk", encrypted: false)
        defer { [ann, sue].forEach { $0.cli.remove() } }
        let (title, text, queued) = (Self.marker("title"), Self.marker("note"), Self.marker("queued"))
        let caseID = try #require(try ann.cli.ok("case", "new", "--title", title)["id"] as? String)
        _ = try ann.cli.ok("note", "add", caseID, "--text", text)
        try ann.sync()
        _ = try ann.cli.ok("note", "add", caseID, "--text", queued)

        let revoked = try daemon.admin("device", "revoke", "ann-laptop", "--wipe")
        #expect(revoked.status == 0, "\(revoked.stderr)")
        #expect(try Self.listedState(daemon, "ann-laptop").hasPrefix("wipe pending since"))
        let sync = try ann.cli.run("sync")
        #expect(sync.status == 4 && sync.stderr.contains("erase its case data: 3 records removed"), "\(sync.stderr)")
        #expect(try Self.traces(of: [title, text, queued], in: ann.cli.data) == [])
        #expect(try Self.listedState(daemon, "ann-laptop").hasPrefix("wiped at"))
        #expect(try ann.cli.run("sync").status == 4, "then refused")
        // The thief's last note never reached the node.
        try sue.sync()
        #expect(try !sue.cli.run("--json", "case", "show", caseID).stdout.contains(queued))
    }

    /// A user leaving the service: disabled, each device delivers what it queued, then
    /// erases its case data and is refused.
    @Test func aDisabledUsersDevicesDeliverWhatTheyQueuedThenEraseEverything() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator"), ("bob", "mediator")])
        defer { daemon.remove() }
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop", encrypted: false)
        let bob = try EnrolledReplica(daemon, user: "bob", name: "bob-laptop", encrypted: false)
        defer { [ann, bob].forEach { $0.cli.remove() } }
        let (title, queued) = (Self.marker("title"), Self.marker("queued"))
        let caseID = try #require(try ann.cli.ok("case", "new", "--title", title)["id"] as? String)
        _ = try ann.cli.ok("case", "set", caseID, "mediators+=bob")
        try ann.sync()
        try bob.sync()
        _ = try bob.cli.ok("note", "add", caseID, "--text", queued)

        #expect(try daemon.admin("user", "disable", "bob").status == 0)
        let sync = try bob.cli.run("sync")
        #expect(sync.status == 4 && sync.stderr.contains("erase its case data"), "\(sync.stderr)")
        #expect(try Self.traces(of: [title, queued], in: bob.cli.data) == [])
        #expect(try Self.listedState(daemon, "bob-laptop").hasPrefix("wiped at"))
        try ann.sync()
        #expect(try ann.cli.run("--json", "case", "show", caseID).stdout.contains(queued), "what bob queued was delivered first")
        let refused = try bob.cli.run("sync")
        #expect(refused.status == 4 && refused.stderr.contains("disabled"), "\(refused.stderr)")
    }

    /// `casesync wipe` on purpose: the same erasure; the device stays enrolled and gets back
    /// what it may hold. Refused while changes are queued.
    @Test func aLocalWipeErasesEverythingAndTheDeviceCanPullItBack() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator")])
        defer { daemon.remove() }
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop", encrypted: false)
        defer { ann.cli.remove() }
        let title = Self.marker("title")
        _ = try ann.cli.ok("case", "new", "--title", title)
        let queued = try ann.cli.run("wipe", "--yes")
        #expect(queued.status == 1 && queued.stderr.contains("1 change is queued"), "\(queued.stderr)")
        try ann.sync()
        let notConfirmed = try ann.cli.run("wipe")
        #expect(notConfirmed.status == 1 && notConfirmed.stderr.contains("--yes"), "no terminal, no --yes")
        #expect(try ann.cli.ok("wipe", "--yes")["erased"] as? Int == 1)
        #expect(try Self.traces(of: [title], in: ann.cli.data) == [])
        #expect(try ann.sync()["pulled"] as? Int == 1)
    }

    /// Disposal: a purged case leaves the node and every device; a device that was offline
    /// during the purge cannot bring it back, and drops it too.
    @Test func aPurgedCaseLeavesEveryDeviceAndAnOfflineDeviceCannotBringItBack() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator"), ("sue", "supervisor")])
        defer { daemon.remove() }
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop", encrypted: false)
        let sue = try EnrolledReplica(daemon, user: "sue", name: "sue-desk", encrypted: false)
        defer { [ann, sue].forEach { $0.cli.remove() } }
        // A case the supervisor opened for ann: every write in it is a device's (none of the
        // node's), so only the purge marker stops an offline copy from recreating it.
        let (title, contact, queued) = (Self.marker("title"), Self.marker("contact"), Self.marker("queued"))
        let caseID = try #require(try sue.cli.ok("case", "new", "--title", title)["id"] as? String)
        _ = try sue.cli.ok("party", "add", caseID, "--role", "patient", "--name", "P. Patient", "--contact", contact)
        _ = try sue.cli.ok("case", "set", caseID, "mediators+=ann")
        try sue.sync()
        try ann.sync()
        // Sue works on, offline, while the service purges the case.
        _ = try sue.cli.ok("note", "add", caseID, "--text", queued)
        _ = try sue.cli.ok("case", "set", caseID, "site=North")
        let notConfirmed = try daemon.admin("purge", caseID, "--reason", "retention schedule")
        #expect(notConfirmed.status == 1 && notConfirmed.stderr.contains("--yes"))
        let purged = try daemon.admin("purge", caseID, "--reason", "retention schedule", "--yes")
        #expect(purged.status == 0 && purged.stdout.contains("2 records"), "\(purged.stdout)\(purged.stderr)")

        let annSync = try ann.sync()
        #expect((annSync["dropped"] as? [[String: Any]])?.first?["reason"] as? String == "purged")
        #expect(try Self.traces(of: [title, contact], in: ann.cli.data) == [])
        let sueSync = try sue.cli.run("sync")
        #expect(sueSync.status == 0 && sueSync.stdout.contains("removed from this device: the service purged the case"), "\(sueSync.stdout)\(sueSync.stderr)")
        #expect(try Self.traces(of: [title, contact, queued], in: sue.cli.data) == [])
        #expect(try sue.cli.ok("status")["pending"] as? Int == 0)
        try ann.sync()
        #expect(try ann.cli.run("case", "show", caseID).status == 2, "not brought back")
        #expect(try sue.cli.run("case", "show", caseID).status == 2)
        #expect(try daemon.admin("purge", caseID, "--reason", "again", "--yes").status == 2)
    }

    /// `casesyncd retention --closed-before`: a dry run lists and changes nothing; then the
    /// cases closed before the day are purged, and only they.
    @Test func retentionPurgesTheCasesClosedBeforeADay() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator")])
        defer { daemon.remove() }
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop", encrypted: false)
        defer { ann.cli.remove() }
        let old = try #require(try ann.cli.ok("case", "new", "--title", "Old", "--opened", "2019-01-07")["id"] as? String)
        let recent = try #require(try ann.cli.ok("case", "new", "--title", "Recent", "--opened", "2026-01-05")["id"] as? String)
        let open = try #require(try ann.cli.ok("case", "new", "--title", "Open")["id"] as? String)
        _ = try ann.cli.ok("case", "status", old, "agreement", "--date", "2019-02-01")
        _ = try ann.cli.ok("case", "status", old, "closed", "--date", "2019-03-01")
        _ = try ann.cli.ok("case", "status", recent, "agreement", "--date", "2026-02-02")
        _ = try ann.cli.ok("case", "status", recent, "closed", "--date", "2026-03-01")
        try ann.sync()
        let dry = try daemon.admin("retention", "--closed-before", "2020-01-01", "--dry-run")
        #expect(dry.status == 0 && dry.stdout.contains(old) && !dry.stdout.contains(recent) && dry.stdout.contains("dry run"), "\(dry.stdout)")
        #expect((try ann.sync()["dropped"] as? [Any])?.isEmpty == true)
        for bad in ["01/01/2020", "2020-13-45", "９９９９-01-01"] {
            #expect(try daemon.admin("retention", "--closed-before", bad, "--yes").status == 1, "\(bad)")
        }
        let purged = try daemon.admin("retention", "--closed-before", "2020-01-01", "--yes")
        #expect(purged.status == 0 && purged.stdout.contains("Purged 1 case"), "\(purged.stdout)\(purged.stderr)")
        let sync = try ann.sync()
        #expect((sync["dropped"] as? [[String: Any]])?.map { $0["case"] as? String } == [old])
        for (id, status) in [(old, 2), (recent, 0), (open, 0)] {
            #expect(try ann.cli.run("case", "show", id).status == Int32(status), "\(id)")
        }
    }
}
