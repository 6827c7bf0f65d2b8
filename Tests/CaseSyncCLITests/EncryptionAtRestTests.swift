import CaseSyncTestSupport
import Foundation
import GRDB
import SyncStore
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// A lost or stolen laptop gives nothing away (PROTOCOL.md §16), checked as an attacker
/// would: unique markers planted in every free-text field of every record type, then every
/// byte of every file of the data folder searched, on the real binaries.
@Suite(.serialized)
struct EncryptionAtRestTests {
    /// A marker no other test or record holds.
    static func marker(_ label: String) -> String { "ENC-\(label)-\(UUID().uuidString.prefix(12))" }

    /// Plants a marker in every field of every record type that takes free text (the
    /// enumerated fields cannot hold one); returns the markers and the case's id.
    static func plantMarkers(in cli: CLIRunner) throws -> (markers: [String], caseID: String) {
        var markers: [String] = []
        func mark(_ label: String) -> String {
            let text = marker(label)
            markers.append(text)
            return text
        }
        let created = try cli.ok("case", "new", "--title", mark("title"), "--site", mark("site"))
        let caseID = try #require(created["id"] as? String)
        markers.append(try #require((created["fields"] as? [String: Any])?["reference"] as? String))
        _ = try cli.ok("case", "set", caseID, "objectives=\(mark("objectives"))", "successCriteria=\(mark("criteria"))",
                       "outcome=\(mark("outcome"))", "conflictOfInterest=\(mark("conflict"))")
        let party = try cli.ok("party", "add", caseID, "--role", "patient", "--name", mark("name"), "--contact", mark("contact"),
                               "--organization", mark("organization"))
        let session = try cli.ok("session", "add", caseID, "--at", "2026-11-20T10:00", "--kind", "joint", "--location", mark("location"),
                                 "--summary", mark("summary"))
        _ = try cli.ok("session", "set", try #require(session["id"] as? String), "attendees+=\(mark("attendee"))")
        _ = try cli.ok("note", "add", caseID, "--text", mark("note"), "--visibility", "caucus")
        _ = try cli.ok("action", "add", caseID, "--text", mark("action"), "--owner", mark("owner"), "--measure", mark("measure"))
        _ = try cli.ok("feedback", "add", caseID, "--rating", "4", "--party", try #require(party["id"] as? String), "--comments", mark("comments"))
        return (markers, caseID)
    }

    /// "file: marker" for every file under `folder` whose bytes hold one of `markers`.
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

    @Test func noFileOfAnEncryptedReplicaHoldsAnyPlantedMarkerEvenAfterKill9MidWrite() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator")])
        defer { daemon.remove() }
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop")
        defer { ann.cli.remove() }
        var (markers, caseID) = try Self.plantMarkers(in: ann.cli)
        try ann.sync()
        // What the node sent back and the device's own secret are as confidential.
        markers.append(try #require(try ann.cli.store().setting("secret")))

        // The markers are really there, behind the passphrase.
        let shown = try ann.cli.run("--json", "case", "show", caseID)
        for label in ["title", "objectives", "contact", "note", "comments", "attendee"] {
            #expect(shown.stdout.contains("ENC-\(label)-"), "case show gives back the \(label)")
        }
        #expect(try Self.traces(of: markers, in: ann.cli.data) == [], "after the writes and a sync")

        // kill -9 at random moments of writes that carry markers: whatever the WAL holds when
        // the process dies is sealed too.
        var generator = SystemRandomNumberGenerator()
        var killed = 0
        for index in 0..<16 {
            let text = Self.marker("killed\(index)")
            markers.append(text)
            let (process, _, _) = try ann.cli.launch(["note", "add", caseID, "--text", text])
            usleep(UInt32.random(in: 0...30_000, using: &generator))
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            if process.terminationReason == .uncaughtSignal { killed += 1 }
            #expect(try Self.traces(of: markers, in: ann.cli.data) == [], "after kill -9 of write \(index)")
        }
        #expect(killed > 0, "the test must actually kill some writers")
        #expect(try ann.cli.store().integrityCheck() == ["ok"])
        #expect(try Self.traces(of: markers, in: ann.cli.data) == [])
    }

    @Test func aPlainReplicaShowsTheMarkersAndEncryptMigratesItLeavingNone() throws {
        let cli = try CLIRunner()
        defer { cli.remove() }
        let initialised = try cli.run("--json", "init", "--device-name", "rig", "--no-encryption")
        #expect(initialised.status == 0)
        #expect(initialised.stderr.contains("NOT encrypted"), "--no-encryption says loudly what it means")
        let (markers, caseID) = try Self.plantMarkers(in: cli)
        // The search finds what a plain replica holds: the check above is not vacuous.
        #expect(try Self.traces(of: markers, in: cli.data).count >= markers.count - 1)
        let before = try cli.run("--json", "case", "show", caseID).stdout
        let listed = try cli.run("--json", "case", "list").stdout
        let site = try #require(markers.first { $0.hasPrefix("ENC-site-") })
        let bySite = try cli.run("--json", "case", "list", "--site", site.lowercased()).stdout
        #expect(bySite.contains(caseID))

        let encrypted = try cli.ok("encrypt")
        #expect(encrypted["encrypted"] as? Bool == true)
        #expect(try Self.traces(of: markers, in: cli.data) == [], "no plain copy left in the database, its free pages or the WAL")
        #expect(try cli.run("--json", "case", "show", caseID).stdout == before, "every record reads as before")
        #expect(try cli.run("--json", "case", "list").stdout == listed, "and lists as before, from the sealed list entries")
        #expect(try cli.run("--json", "case", "list", "--site", site.lowercased()).stdout == bySite, "filters too")
        let reference = try #require(markers.first { $0.hasPrefix("MED-") })
        #expect(try cli.run("case", "show", reference).status == 0, "a case is found by its reference")
        let again = try cli.run("encrypt")
        #expect(again.status == 1 && again.stderr.contains("already encrypted"))
    }

    @Test func aWrongPassphraseIsExit4AndChangesNothingAndPassphraseChangeRewrapsTheKey() throws {
        var cli = try CLIRunner()
        defer { cli.remove() }
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        let caseID = try #require(try cli.ok("case", "new", "--title", "Passphrases")["id"] as? String)
        let before = try cli.run("--json", "case", "show", caseID).stdout
        let queuedBefore = try cli.ok("status")["pending"] as? Int
        _ = try cli.run("lock")
        let wrong = FileManager.default.temporaryDirectory.appendingPathComponent("casesync-wrong-\(UUID().uuidString)")
        try Data("not the passphrase\n".utf8).write(to: wrong)
        defer { try? FileManager.default.removeItem(at: wrong) }

        cli.environment["CASESYNC_PASSPHRASE_FILE"] = wrong.path
        for arguments in [["case", "list"], ["case", "set", caseID, "outcome=changed"], ["unlock"]] {
            let refused = try cli.run(arguments)
            #expect(refused.status == 4, "\(arguments) with a wrong passphrase: \(refused.stderr)")
            #expect(refused.stderr.contains("wrong passphrase") && refused.stderr.split(separator: "\n").count == 1)
        }
        cli.environment["CASESYNC_PASSPHRASE_FILE"] = CLIRunner.passphraseFile.path
        #expect(try cli.run("--json", "case", "show", caseID).stdout == before, "the refused set changed nothing")
        #expect(try cli.ok("status")["pending"] as? Int == queuedBefore, "and queued nothing")
        _ = try cli.run("lock")
        cli.environment["CASESYNC_PASSPHRASE_FILE"] = nil
        let locked = try cli.run("case", "list")
        #expect(locked.status == 4 && locked.stderr.contains("casesync unlock"), "no passphrase and no terminal: \(locked.stderr)")

        // Change: the old passphrase no longer opens it, the new one does, the records are the same.
        let new = FileManager.default.temporaryDirectory.appendingPathComponent("casesync-new-\(UUID().uuidString)")
        try Data("a brand new passphrase\n".utf8).write(to: new)
        defer { try? FileManager.default.removeItem(at: new) }
        let short = FileManager.default.temporaryDirectory.appendingPathComponent("casesync-short-\(UUID().uuidString)")
        try Data("short\n".utf8).write(to: short)
        defer { try? FileManager.default.removeItem(at: short) }
        let weak = try cli.run("passphrase", "change", "--passphrase-file", CLIRunner.passphraseFile.path, "--new-passphrase-file", short.path)
        #expect(weak.status == 1 && weak.stderr.contains("at least 8 characters"), "\(weak.stderr)")
        let badCurrent = try cli.run("passphrase", "change", "--passphrase-file", wrong.path, "--new-passphrase-file", new.path)
        #expect(badCurrent.status == 4)
        let changed = try cli.run("passphrase", "change", "--passphrase-file", CLIRunner.passphraseFile.path, "--new-passphrase-file", new.path)
        #expect(changed.status == 0, "\(changed.stderr)")
        cli.environment["CASESYNC_PASSPHRASE_FILE"] = CLIRunner.passphraseFile.path
        #expect(try cli.run("case", "list").status == 4, "the old passphrase is refused")
        cli.environment["CASESYNC_PASSPHRASE_FILE"] = new.path
        let listed = try cli.run("--json", "case", "list")
        #expect(listed.status == 0 && listed.stdout.contains(caseID), "\(listed.stderr)")
    }

    @Test func anUnlockedReplicaLocksAfterItsIdleTimeByTheCommandsClockAndAtOnceOnLock() throws {
        var cli = try CLIRunner()
        defer { cli.remove() }
        cli.environment["CASESYNC_NOW"] = "2026-11-22T09:00:00Z"
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        let unlocked = try cli.run("unlock", "--idle", "15m")
        if unlocked.status != 0, unlocked.stderr.contains("kernel keyring refused") {
            // A sandbox whose seccomp profile forbids keyctl (Docker's default): there is no
            // session to time out; every command asks, which `aWrongPassphrase…` covers.
            print("EncryptionAtRestTests: the kernel keyring is not available here; idle timeout not tested")
            return
        }
        #expect(unlocked.status == 0, "\(unlocked.stderr)")
        cli.environment["CASESYNC_PASSPHRASE_FILE"] = nil
        // Each command within 15 minutes of the last keeps the session going.
        for time in ["09:10", "09:24", "09:38"] {
            cli.environment["CASESYNC_NOW"] = "2026-11-22T\(time):00Z"
            #expect(try cli.run("status").status == 0, "at \(time), within the idle time of the last command")
        }
        cli.environment["CASESYNC_NOW"] = "2026-11-22T09:54:00Z"
        let idle = try cli.run("status")
        #expect(idle.status == 4 && idle.stderr.contains("locked"), "16 minutes idle: \(idle.stderr)")
        cli.environment["CASESYNC_NOW"] = "2026-11-22T09:55:00Z"
        #expect(try cli.run("status").status == 4, "the expired session is gone, not revived")

        cli.environment["CASESYNC_PASSPHRASE_FILE"] = CLIRunner.passphraseFile.path
        _ = try cli.ok("unlock")
        cli.environment["CASESYNC_PASSPHRASE_FILE"] = nil
        #expect(try cli.run("status").status == 0)
        #expect(try cli.ok("lock")["wasUnlocked"] as? Bool == true)
        #expect(try cli.run("status").status == 4, "locked at once")
        let badIdle = try cli.run("unlock", "--idle", "3d")
        #expect(badIdle.status == 1 && badIdle.stderr.contains("--idle"))
    }

    @Test func aDamagedCiphertextIsReportedWithItsRecordIDNotACrash() throws {
        let cli = try CLIRunner()
        defer { cli.remove() }
        _ = try cli.ok("init", "--device-name", "ann-laptop")
        let caseID = try #require(try cli.ok("case", "new", "--title", "Damaged")["id"] as? String)
        let queue = try DatabaseQueue(path: cli.data.appendingPathComponent("replica.sqlite").path)
        try queue.write { db in
            var state = [UInt8](try #require(try Data.fetchOne(db, sql: "SELECT state FROM record WHERE id = ?", arguments: [caseID])))
            state[state.count / 2] ^= 0x55
            try db.execute(sql: "UPDATE record SET state = ? WHERE id = ?", arguments: [Data(state), caseID])
        }
        try queue.close()
        let shown = try cli.run("case", "show", caseID)
        #expect(shown.status == 10, "\(shown.stderr)")
        #expect(shown.stderr.contains(caseID) && shown.stderr.contains("does not decrypt") && shown.stderr.split(separator: "\n").count == 1, "\(shown.stderr)")
    }
}
