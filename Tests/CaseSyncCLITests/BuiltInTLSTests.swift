import CaseSyncTestSupport
import Foundation
import Testing

/// `casesyncd serve --tls-cert --tls-key` (Deploy/OPERATIONS.md, "TLS"), on the real
/// binaries: a device that trusts the service's CA enrolls and syncs over HTTPS; one that
/// does not is refused with exit 3 and a line saying what to do, without retrying.
@Suite(.serialized)
struct BuiltInTLSTests {
    /// A CA, and a certificate it signs for 127.0.0.1 (and one more CA that signs nothing),
    /// made with the openssl command line; returns their folder.
    static func certificates() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("casesync-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let extensions = folder.appendingPathComponent("san.ext")
        try Data("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n".utf8).write(to: extensions)
        let steps = [
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=CaseSync test CA"],
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "other-ca.key", "-out", "other-ca.pem", "-days", "2", "-subj", "/CN=Another CA"],
            ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out", "node.csr", "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "node.pem", "-days", "2", "-extfile", "san.ext"],
        ]
        for step in steps {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl"] + step
            process.currentDirectoryURL = folder
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw CertificateError.openssl(step.prefix(2).joined(separator: " ")) }
        }
        return folder
    }

    enum CertificateError: Error { case openssl(String) }

    @Test func aDeviceTrustingTheCASyncsOverHTTPSAndOneThatDoesNotIsRefusedWithExit3() throws {
        let certificates = try Self.certificates()
        defer { try? FileManager.default.removeItem(at: certificates) }
        let file = { (name: String) in certificates.appendingPathComponent(name).path }
        let daemon = DaemonProcess()
        defer { daemon.remove() }
        #expect(try daemon.admin("user", "add", "ann", "--role", "mediator").status == 0)

        // Bad pairs are refused before the node listens, in one line.
        for (cert, key, words) in [(file("node.pem"), file("ca.key"), "does not belong"), (file("san.ext"), file("node.key"), "PEM certificate"),
                                   (file("node.pem"), file("nothing.key"), "PEM private key")] {
            let refused = try daemon.admin("serve", "--port", "0", "--tls-cert", cert, "--tls-key", key)
            #expect(refused.status == 1 && refused.stderr.contains(words) && refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
        }
        let alone = try daemon.admin("serve", "--port", "0", "--tls-cert", file("node.pem"))
        #expect(alone.status == 1 && alone.stderr.contains("go together"))

        try daemon.start(options: ["--tls-cert", file("node.pem"), "--tls-key", file("node.key")])
        let server = "https://127.0.0.1:\(daemon.port)"

        let trusting = try CLIRunner()
        defer { trusting.remove() }
        _ = try trusting.ok("init", "--device-name", "ann-laptop")
        let token = try #require(try daemon.admin("enroll", "ann").stdout.split(separator: "\n").last.map(String.init))
        let enrolled = try trusting.run("enroll", "--server", server, "--token", token, "--ca-cert", file("ca.pem"))
        #expect(enrolled.status == 0, "\(enrolled.stderr)")
        _ = try trusting.ok("case", "new", "--title", "Over HTTPS")
        let synced = try trusting.ok("sync")
        #expect(synced["pushed"] as? Int == 1, "the device syncs over HTTPS with the pinned CA")

        // A device that does not trust the certificate: no CA, or another CA.
        for caArguments in [[], ["--ca-cert", file("other-ca.pem")]] {
            let stranger = try CLIRunner()
            defer { stranger.remove() }
            _ = try stranger.ok("init", "--device-name", "ann-phone")
            let secondToken = try #require(try daemon.admin("enroll", "ann").stdout.split(separator: "\n").last.map(String.init))
            let start = ContinuousClock.now
            let refused = try stranger.run(["enroll", "--server", server, "--token", secondToken] + caArguments)
            #expect(refused.status == 3, "\(caArguments): \(refused.stderr)")
            #expect(refused.stderr.contains("not trusted") && refused.stderr.contains("--ca-cert"), "\(refused.stderr)")
            #expect(refused.stderr.split(separator: "\n").count == 1)
            #expect(ContinuousClock.now - start < .seconds(20), "not retried as if the network were down")
            #expect(try stranger.ok("status")["server"] as? String == nil, "nothing enrolled")
        }
        // Plain HTTP to the HTTPS port gets nowhere either.
        let plain = try CLIRunner()
        defer { plain.remove() }
        _ = try plain.ok("init", "--device-name", "ann-tablet")
        let thirdToken = try #require(try daemon.admin("enroll", "ann").stdout.split(separator: "\n").last.map(String.init))
        #expect(try plain.run("enroll", "--server", "http://127.0.0.1:\(daemon.port)", "--token", thirdToken).status == 3)
    }
}
