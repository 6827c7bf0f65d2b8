import CaseSyncTestSupport
import Foundation
import Testing

/// Node backups sealed to a public key (Deploy/OPERATIONS.md, "Back up and restore"), on the
/// real binaries: a sealed backup holds no planted marker, opens only with its identity, is
/// refused whole when cut short or altered, and restores a node devices sync with again.
@Suite(.serialized)
struct SealedBackupTests {
    static func mode(of path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
    }

    @Test func aSealedBackupHoldsNoMarkerOpensOnlyWithItsIdentityAndRestoresTheNode() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator")])
        defer { daemon.remove() }
        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop")
        defer { ann.cli.remove() }
        let (markers, caseID) = try EncryptionAtRestTests.plantMarkers(in: ann.cli)
        try ann.sync()

        let keys = FileManager.default.temporaryDirectory.appendingPathComponent("casesync-keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: keys, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: keys) }
        let identity = keys.appendingPathComponent("backup.key").path
        let made = try DaemonProcess.run(DaemonProcess.directory.appendingPathComponent("casesyncd"), ["keygen", "--out", identity])
        #expect(made.status == 0, "\(made.stderr)")
        #expect(try Self.mode(of: identity) == 0o600, "the identity is readable by its owner only")
        let again = try DaemonProcess.run(DaemonProcess.directory.appendingPathComponent("casesyncd"), ["keygen", "--out", identity])
        #expect(again.status == 1 && again.stderr.contains("exists"), "a key pair is never overwritten")

        // A plain backup holds the markers (the search is not vacuous); a sealed one none.
        let plain = keys.appendingPathComponent("plain.sqlite").path
        #expect(try daemon.admin("backup", "--to", plain).status == 0)
        #expect(try EncryptionAtRestTests.traces(of: markers, in: keys).count >= markers.count / 2)
        try FileManager.default.removeItem(atPath: plain)
        let sealed = keys.appendingPathComponent("node.backup").path
        let backedUp = try daemon.admin("backup", "--to", sealed, "--recipient", identity + ".pub")
        #expect(backedUp.status == 0, "\(backedUp.stderr)")
        #expect(try Self.mode(of: sealed) == 0o600)
        #expect(try EncryptionAtRestTests.traces(of: markers, in: keys) == [], "no marker in the sealed backup or the key files")
        let folder = try FileManager.default.contentsOfDirectory(atPath: daemon.data.path)
        #expect(!folder.contains { $0.hasPrefix(".backup-plain-") }, "the plain working copy is gone: \(folder)")
        let asRecipient = try daemon.admin("backup", "--to", keys.appendingPathComponent("x").path, "--recipient", identity)
        #expect(asRecipient.status == 1 && asRecipient.stderr.contains("belongs off the node"), "\(asRecipient.stderr)")

        // After the backup: a note only the device holds until it re-sends it.
        _ = try ann.cli.ok("note", "add", caseID, "--text", "after the backup")
        try ann.sync()
        #expect(daemon.stop() == 0)

        // Refused, each in one line, changing nothing: no identity, another identity, a file
        // cut short, a flipped byte.
        let other = keys.appendingPathComponent("other.key").path
        #expect(try DaemonProcess.run(DaemonProcess.directory.appendingPathComponent("casesyncd"), ["keygen", "--out", other]).status == 0)
        let database = daemon.data.appendingPathComponent("replica.sqlite").path
        let before = try Data(contentsOf: URL(fileURLWithPath: database))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: sealed))
        let cut = keys.appendingPathComponent("cut.backup").path
        try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: cut))
        let flipped = keys.appendingPathComponent("flipped.backup").path
        var altered = bytes
        altered[altered.count / 2] ^= 0x01
        try altered.write(to: URL(fileURLWithPath: flipped))
        for (arguments, status, words) in [
            (["--from", sealed], Int32(1), "--identity"),
            (["--from", sealed, "--identity", other], 4, "another key"),
            (["--from", cut, "--identity", identity], 10, "cut short or was altered"),
            (["--from", flipped, "--identity", identity], 10, "cut short or was altered"),
        ] {
            let refused = try daemon.admin(["restore"] + arguments)
            #expect(refused.status == status && refused.stderr.contains(words), "\(arguments): \(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: database)) == before, "a refused restore leaves the node's database as it was")

        let restored = try daemon.admin("restore", "--from", sealed, "--identity", identity)
        #expect(restored.status == 0, "\(restored.stderr)")
        let left = try FileManager.default.contentsOfDirectory(atPath: daemon.data.path)
        #expect(!left.contains { $0.hasPrefix(".backup-plain-") }, "the opened copy is gone: \(left)")
        try daemon.start()
        try RestoreTests.repoint(ann, to: daemon)
        let resynced = try ann.sync()
        #expect(resynced["nodeRestored"] as? Bool == true)
        // A second device sees every note, the one written after the backup included.
        let tablet = try EnrolledReplica(daemon, user: "ann", name: "ann-tablet")
        defer { tablet.cli.remove() }
        try tablet.sync()
        let notes = try tablet.cli.ok("case", "show", caseID)["notes"] as? [Any]
        #expect(notes?.count == 2, "the restored node has the backup's note and the re-sent one")
    }
}
