import CaseSyncTestSupport
import Foundation
import GRDB
import SyncStore
import Testing

/// A node restored from an older backup, on the real binaries: devices get back to where
/// they were, the node gets back every write they hold, and account changes made after the
/// backup stay in force.
@Suite(.serialized)
struct RestoreTests {
    /// Every record a replica holds (id → canonical state bytes), read from its file.
    static func records(inDatabaseAt path: String) throws -> [String: Data] {
        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        return try queue.read { db in
            var records: [String: Data] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, state FROM record") { records[row["id"]] = row["state"] }
            return records
        }
    }

    /// The device's record states as canonical JSON, opened from its encrypted replica.
    static func records(of device: EnrolledReplica) throws -> [String: Data] {
        let store = try device.cli.store()
        return try store.writer.read { db in
            var records: [String: Data] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, state FROM record") {
                let id: String = row["id"]
                records[id] = Data(try store.sealer.open([UInt8](row["state"] as Data), place: RecordSealer.Place.record(id)))
            }
            return records
        }
    }

    /// Points a device at the node's new port (a restarted test node listens on a new one).
    static func repoint(_ device: EnrolledReplica, to daemon: DaemonProcess) throws {
        try device.cli.settingsStore().setSetting("server", "http://127.0.0.1:\(daemon.port)")
    }

    @Test func aRestoredNodeGetsBackEveryWriteDevicesHoldAndKeepsLaterRevocations() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator"), ("sue", "supervisor")])
        defer { daemon.remove() }
        let laptop = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop")
        let desktop = try EnrolledReplica(daemon, user: "ann", name: "ann-desktop")
        let supervisor = try EnrolledReplica(daemon, user: "sue", name: "sue-desk")
        var devices = [laptop, desktop, supervisor]
        defer { devices.forEach { $0.cli.remove() } }

        // Before the backup: one case, known everywhere.
        let old = try #require(try laptop.cli.ok("case", "new", "--title", "Before the backup", "--site", "North")["id"] as? String)
        _ = try laptop.cli.ok("note", "add", old, "--text", "first note")
        for device in devices { try device.sync() }
        let backup = daemon.data.appendingPathComponent("backup.sqlite").path
        let backedUp = try daemon.admin("backup", "--to", backup)
        #expect(backedUp.status == 0, "\(backedUp.stderr)")
        let mode = try FileManager.default.attributesOfItem(atPath: backup)[.posixPermissions] as? Int
        #expect(mode == 0o600, "a backup is readable by its owner only")

        // After the backup: all three write, and a device enrolled now writes too.
        let fresh = try #require(try laptop.cli.ok("case", "new", "--title", "After the backup")["id"] as? String)
        _ = try laptop.cli.ok("note", "add", fresh, "--text", "written on the laptop")
        try laptop.sync()
        try desktop.sync()
        _ = try desktop.cli.ok("case", "set", fresh, "site=South")
        _ = try desktop.cli.ok("note", "add", old, "--text", "written on the desktop, which is revoked later")
        try desktop.sync()
        try supervisor.sync()
        _ = try supervisor.cli.ok("case", "set", old, "outcome=Apology given")
        try supervisor.sync()
        let tablet = try EnrolledReplica(daemon, user: "ann", name: "ann-tablet")
        devices.append(tablet)
        try tablet.sync()
        _ = try tablet.cli.ok("note", "add", fresh, "--text", "written on the tablet, enrolled after the backup")
        try tablet.sync()
        // The supervisor opens a case for ann; ann's laptop writes in it.
        let assigned = try #require(try supervisor.cli.ok("case", "new", "--title", "Assigned after the backup")["id"] as? String)
        _ = try supervisor.cli.ok("case", "set", assigned, "mediators+=ann")
        try supervisor.sync()
        try laptop.sync()
        _ = try laptop.cli.ok("note", "add", assigned, "--text", "ann's note in the assigned case")
        for device in [laptop, supervisor] { try device.sync() }
        // The tablet's last note reaches only the node before it fails, and the tablet last
        // synced with a node that named no generation (an older version).
        _ = try tablet.cli.ok("note", "add", fresh, "--text", "only the tablet and the lost node have this")
        try tablet.sync()
        let tabletDatabase = try DatabaseQueue(path: tablet.cli.data.appendingPathComponent("replica.sqlite").path)
        try tabletDatabase.write { db in try db.execute(sql: "DELETE FROM setting WHERE key = 'nodeGeneration'") }
        try tabletDatabase.close()
        // The laptop has an unsent change when the node fails.
        _ = try laptop.cli.ok("case", "set", fresh, "title=After the backup (edited)")
        // An administrator revokes the desktop after the backup, and adds a site.
        #expect(try daemon.admin("device", "revoke", desktop.device).status == 0)
        #expect(try daemon.admin("site", "add", "South Wing").status == 0)
        let nodeBefore = try Self.records(inDatabaseAt: daemon.data.appendingPathComponent("replica.sqlite").path)

        // The node fails and is restored from the backup.
        #expect(daemon.stop() == 0)
        let restored = try daemon.admin("restore", "--from", backup)
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(restored.stdout.contains("today's"), "accounts are kept from the current database: \(restored.stdout)")
        #expect(try daemon.admin("site", "list", "--json").stdout == "[\"South Wing\"]\n", "the sites are today's too")
        let afterRestore = try Self.records(inDatabaseAt: daemon.data.appendingPathComponent("replica.sqlite").path)
        #expect(afterRestore.count < nodeBefore.count, "the backup lacks the later records")
        try daemon.start()
        for device in devices { try Self.repoint(device, to: daemon) }

        // The remaining devices sync: each notices the restore and re-sends what it holds. The
        // laptop goes first: the assigned case it relays is the supervisor's, and its access
        // to it was granted after the backup.
        let first = try laptop.sync()
        #expect(first["nodeRestored"] as? Bool == true)
        #expect((first["redelivered"] as? Int ?? 0) > 0)
        for device in [supervisor, tablet, laptop, supervisor, tablet] { try device.sync() }
        let revoked = try desktop.cli.run("sync")
        #expect(revoked.status == 4, "the desktop revoked after the backup stays refused: \(revoked.stderr)")
        #expect(revoked.stderr.contains("revoked"))

        #expect(daemon.stop() == 0)
        let node = try Self.records(inDatabaseAt: daemon.data.appendingPathComponent("replica.sqlite").path)
        for device in [laptop, supervisor, tablet] {
            let held = try Self.records(of: device)
            for (id, state) in held {
                #expect(node[id] == state, "the node holds \(id) exactly as \(device.device) does")
            }
            #expect(try device.cli.ok("status")["pending"] as? Int == 0, "nothing stays queued on \(device.device)")
        }
        // Every record the node had before it failed is back, including the revoked
        // desktop's note that only reached the others through the node.
        #expect(Set(nodeBefore.keys).isSubset(of: Set(node.keys)))
        #expect(try Self.records(of: supervisor) == node, "the supervisor's replica and the node are identical")
        #expect(try Self.records(of: laptop) == Self.records(of: tablet), "two devices of one mediator are identical")
        let shown = try laptop.cli.ok("case", "show", fresh)
        let fields = try #require((shown["case"] as? [String: Any])?["fields"] as? [String: Any])
        #expect(fields["title"] as? String == "After the backup (edited)" && fields["site"] as? String == "South")
        #expect((shown["notes"] as? [Any])?.count == 3)
        #expect((try laptop.cli.ok("case", "show", assigned)["notes"] as? [Any])?.count == 1)
        let nodeDatabase = try DatabaseQueue(path: daemon.data.appendingPathComponent("replica.sqlite").path)
        let relays = try nodeDatabase.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit WHERE action = 'relay'") ?? 0 }
        let restores = try nodeDatabase.read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM audit WHERE action = 'restore'") ?? 0 }
        try nodeDatabase.close()
        #expect(relays > 0, "re-delivered writes of other devices are audited")
        #expect(restores == 1, "the restore is in the audit log kept from before it")
    }

    @Test func withTheDatabaseLostADeviceEnrolledAfterTheBackupEnrollsAgainAndKeepsItsQueuedWrites() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator")])
        defer { daemon.remove() }
        let laptop = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop")
        defer { laptop.cli.remove() }
        try laptop.sync()
        let backup = FileManager.default.temporaryDirectory.appendingPathComponent("casesyncd-backup-\(UUID().uuidString).sqlite").path
        defer { try? FileManager.default.removeItem(atPath: backup) }
        #expect(try daemon.admin("backup", "--to", backup).status == 0)

        let phone = try EnrolledReplica(daemon, user: "ann", name: "ann-phone")
        defer { phone.cli.remove() }
        let caseID = try #require(try phone.cli.ok("case", "new", "--title", "Opened on the phone")["id"] as? String)
        try phone.sync()
        _ = try phone.cli.ok("note", "add", caseID, "--text", "queued on the phone")

        // The disk is lost: nothing of the data folder is left.
        daemon.crash()
        try FileManager.default.removeItem(at: daemon.data)
        let refused = try daemon.admin("restore", "--from", backup)
        #expect(refused.status == 1 && refused.stderr.contains("--accounts-as-of-backup"), "\(refused.stderr)")
        let restored = try daemon.admin("restore", "--from", backup, "--accounts-as-of-backup")
        #expect(restored.status == 0, "\(restored.stderr)")
        try daemon.start()
        try Self.repoint(phone, to: daemon)
        try Self.repoint(laptop, to: daemon)

        let unknown = try phone.cli.run("sync")
        #expect(unknown.status == 4)
        #expect(unknown.stderr.contains("enroll --again"), "the phone is told how to get back: \(unknown.stderr)")
        #expect(unknown.stderr.split(separator: "\n").count == 1, "one line: \(unknown.stderr)")
        let notAgain = try phone.cli.run("enroll", "--server", "http://127.0.0.1:\(daemon.port)", "--token", "x")
        #expect(notAgain.status == 1 && notAgain.stderr.contains("--again"))
        let token = try #require(try daemon.admin("enroll", "ann").stdout.split(separator: "\n").last.map(String.init))
        let again = try phone.cli.run("enroll", "--again", "--server", "http://127.0.0.1:\(daemon.port)", "--token", token)
        #expect(again.status == 0, "\(again.stderr)")
        let synced = try phone.sync()
        #expect(synced["nodeRestored"] as? Bool == true)
        try laptop.sync()
        let shown = try laptop.cli.ok("case", "show", caseID)
        #expect((shown["notes"] as? [Any])?.count == 1, "the phone's queued note and its case reached the laptop through the restored node")
    }

    @Test func aBackupCopyIsNotServedAndARunningNodeIsNotRestoredUnder() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator")])
        defer { daemon.remove() }
        let backup = daemon.data.appendingPathComponent("backup.sqlite").path
        #expect(try daemon.admin("backup", "--to", backup).status == 0)
        let busy = try daemon.admin("restore", "--from", backup)
        #expect(busy.status == 1 && busy.stderr.contains("stop it first"), "\(busy.stderr)")
        #expect(daemon.stop() == 0)

        // Copied into place by hand, the backup would rewind the node silently: refused.
        let byHand = DaemonProcess()
        defer { byHand.remove() }
        try FileManager.default.createDirectory(at: byHand.data, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: backup, toPath: byHand.data.appendingPathComponent("replica.sqlite").path)
        let served = try DaemonProcess.run(DaemonProcess.directory.appendingPathComponent("casesyncd"), ["serve", "--port", "0", "--data", byHand.data.path])
        #expect(served.status == 1 && served.stderr.contains("casesyncd restore"), "\(served.stderr)")

        let notABackup = daemon.data.appendingPathComponent("not-a-backup").path
        try Data("hello".utf8).write(to: URL(fileURLWithPath: notABackup))
        let junk = try daemon.admin("restore", "--from", notABackup)
        #expect(junk.status != 0 && junk.status != 10 && junk.stderr.split(separator: "\n").count == 1, "\(junk.stderr)")
        #expect(try daemon.admin("check").stdout.contains("ok"), "a refused restore leaves the node's database alone")

        // A good backup over a current database that is damaged beyond opening: its users and
        // devices cannot be kept, and the message says how to restore without them.
        let damaged = DaemonProcess()
        defer { damaged.remove() }
        try FileManager.default.createDirectory(at: damaged.data, withIntermediateDirectories: true)
        try Data("garbage, not a database".utf8).write(to: damaged.data.appendingPathComponent("replica.sqlite"))
        let overDamaged = try damaged.admin("restore", "--from", backup)
        #expect(overDamaged.status == 10 && overDamaged.stderr.contains("is damaged") && overDamaged.stderr.contains("--accounts-as-of-backup"), "\(overDamaged.stderr)")
        #expect(overDamaged.stderr.split(separator: "\n").count == 1 && !overDamaged.stderr.contains("StoreError"), "\(overDamaged.stderr)")
    }
}
