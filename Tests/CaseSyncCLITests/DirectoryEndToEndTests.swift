import CaseSyncTestSupport
import Foundation
import Testing

/// The node's directory on the real binaries (PROTOCOL.md §15): every device names every
/// writer, `--keep` takes a name, sites are known values with a "did you mean", and a
/// `mediators` name the node does not know warns.
@Suite(.serialized)
struct DirectoryEndToEndTests {
    /// Ann opens a case for herself and bob; both change its title before syncing again.
    private func conflictedCase(_ daemon: DaemonProcess, annDevice: String, bobDevice: String) throws -> (ann: EnrolledReplica, bob: EnrolledReplica, id: String) {
        let ann = try EnrolledReplica(daemon, user: "ann", name: annDevice)
        let bob = try EnrolledReplica(daemon, user: "bob", name: bobDevice)
        let id = try #require(try ann.cli.ok("case", "new", "--title", "Wait times", "--mediator", "bob")["id"] as? String)
        try ann.sync()
        try bob.sync()
        _ = try ann.cli.ok("case", "set", id, "title=Ann's title")
        _ = try bob.cli.ok("case", "set", id, "title=Bob's title")
        try ann.sync()
        try bob.sync()
        try ann.sync()
        return (ann, bob, id)
    }

    @Test func everyDeviceNamesEveryWriterAndKeepTakesAName() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator"), ("bob", "mediator")])
        defer { daemon.remove() }
        let (ann, bob, id) = try conflictedCase(daemon, annDevice: "ann-laptop", bobDevice: "bob-laptop")
        defer { ann.cli.remove(); bob.cli.remove() }

        for replica in [ann, bob] {
            let listed = try #require(try replica.cli.run("--json", "conflicts").json() as? [[String: Any]])
            let sides = try #require((listed.first?["conflicts"] as? [[String: Any]])?.first?["sides"] as? [[String: Any]])
            let named = Dictionary(uniqueKeysWithValues: sides.map { ($0["device"] as? String ?? "", $0["deviceName"] as? String) })
            #expect(named == [ann.device: "ann-laptop", bob.device: "bob-laptop"], "\(replica.device) names both writers")
            let text = try replica.cli.run("conflicts").stdout
            #expect(text.contains("on ann-laptop (\(ann.device))") && text.contains("on bob-laptop (\(bob.device))"), "\(text)")
        }
        let stranger = try bob.cli.run("resolve", id, "title", "--keep", "sue-desk")
        #expect(stranger.status == 1 && stranger.stderr.contains("is not a device of this conflict"), "\(stranger.stderr)")
        #expect(stranger.stderr.contains("ann-laptop (\(ann.device))") && stranger.stderr.contains("bob-laptop (\(bob.device))"), "names the sides: \(stranger.stderr)")
        // The README's own example: bob's device keeps what ann's laptop wrote, by its name.
        let kept = try bob.cli.run("--json", "resolve", id, "title", "--keep", "ann-laptop")
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(((try kept.object()["fields"] as? [String: Any])?["title"] as? String) == "Ann's title")
    }

    @Test func twoSidesWrittenOnDevicesOfOneNameAreKeptByTheirIds() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator"), ("bob", "mediator")])
        defer { daemon.remove() }
        let (ann, bob, id) = try conflictedCase(daemon, annDevice: "laptop", bobDevice: "laptop")
        defer { ann.cli.remove(); bob.cli.remove() }

        let ambiguous = try ann.cli.run("resolve", id, "title", "--keep", "laptop")
        #expect(ambiguous.status == 1)
        #expect(ambiguous.stderr.contains("names several devices") && ambiguous.stderr.contains(bob.device), "\(ambiguous.stderr)")
        #expect(ambiguous.stderr.split(separator: "\n").count == 1)
        #expect(try ann.cli.run("conflicts").stdout.contains("title"), "the refusal changed nothing")
        let kept = try ann.cli.run("--json", "resolve", id, "title", "--keep", bob.device)
        #expect(kept.status == 0, "\(kept.stderr)")
        #expect(((try kept.object()["fields"] as? [String: Any])?["title"] as? String) == "Bob's title")
    }

    @Test func sitesAreKnownValuesWithADidYouMeanAndUnknownMediatorsWarn() throws {
        let daemon = try DaemonProcess.started(users: [("ann", "mediator"), ("bob", "mediator"), ("rita", "reporter")])
        defer { daemon.remove() }
        #expect(try daemon.admin("site", "list").stdout.contains("No sites yet"))
        #expect(try daemon.admin("site", "add", "North Hospital").status == 0)
        let twice = try daemon.admin("site", "add", "north hospital")
        #expect(twice.status == 1 && twice.stderr.contains("already"), "\(twice.stderr)")
        #expect(try daemon.admin("site", "add", " ").status == 1)
        #expect(try daemon.admin("site", "list", "--json").stdout == "[\"North Hospital\"]\n")

        let ann = try EnrolledReplica(daemon, user: "ann", name: "ann-laptop")
        defer { ann.cli.remove() }
        // Before its first sync a device knows no list: offline work is never blocked.
        let early = try ann.cli.ok("case", "new", "--title", "Before the list", "--site", "Old Annex")
        try ann.sync()

        let typo = try ann.cli.run("case", "new", "--title", "Typo", "--site", "North Hopsital")
        #expect(typo.status == 1)
        #expect(typo.stderr.contains("did you mean \"North Hospital\"?") && typo.stderr.split(separator: "\n").count == 1, "\(typo.stderr)")
        let listed = try #require(try ann.cli.run("--json", "case", "list").json() as? [[String: Any]])
        #expect(listed.count == 1, "the refused case was not written")

        let spelled = try ann.cli.ok("case", "new", "--title", "Lower case", "--site", "north hospital")
        #expect((spelled["fields"] as? [String: Any])?["site"] as? String == "North Hospital", "stored as the node spells it")
        let id = try #require(spelled["id"] as? String)
        #expect(try ann.cli.run("case", "set", id, "site=Nowhere").status == 1)
        #expect((try ann.cli.run("--json", "case", "list", "--site", "Old Annex").json() as? [[String: Any]])?.first?["id"] as? String == early["id"] as? String,
                "a case from before the list is still found by its site")
        #expect((try ann.cli.run("--json", "case", "list", "--site", "old annex").json() as? [[String: Any]])?.count == 1, "without regard to case")
        let listTypo = try ann.cli.run("case", "list", "--site", "Nort Hospital")
        #expect(listTypo.status == 1 && listTypo.stderr.contains("did you mean"), "\(listTypo.stderr)")

        let unknown = try ann.cli.run("case", "set", id, "mediators+=bbo", "mediators+=rita", "mediators+=bob")
        #expect(unknown.status == 0, "a warning, not a refusal: \(unknown.stderr)")
        #expect(unknown.stderr.contains("the node has no user bbo (did you mean bob?)"), "\(unknown.stderr)")
        #expect(unknown.stderr.contains("rita is a reporter"), "\(unknown.stderr)")
        #expect(!unknown.stderr.contains("bob is"), "bob is a mediator: no warning")
        let nowhere = try ann.cli.run("case", "set", "MED-2026-NONE", "mediators+=bbo")
        #expect(nowhere.status == 2 && !nowhere.stderr.contains("warning"), "no warning about a write that was not made: \(nowhere.stderr)")
        #expect(try ann.cli.run("init", "--device-name", "two\nlines").status == 1, "a device name is one printable line")

        // A site added on the node is known to the device after its next sync; one removed is not.
        #expect(try daemon.admin("site", "add", "St Mary's").status == 0)
        #expect(try daemon.admin("site", "remove", "North Hospital").status == 0)
        #expect(try daemon.admin("site", "remove", "North Hospital").status == 2)
        try ann.sync()
        #expect(try ann.cli.run("case", "new", "--title", "New site", "--site", "St Mary's").status == 0)
        #expect(try ann.cli.run("case", "new", "--title", "Old site", "--site", "North Hospital").status == 1)
    }
}
