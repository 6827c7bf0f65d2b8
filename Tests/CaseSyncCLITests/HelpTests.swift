import CaseSyncTestSupport
import Foundation
import Testing

/// Help and `--version` on both tools, at every level, as a new user tries them: each exits
/// 0 and prints to stdout, nothing to stderr. The subcommands are read from the help itself,
/// so a new command is covered without touching this test.
struct HelpTests {
    /// The subcommand names a help text lists under SUBCOMMANDS.
    static func subcommands(in help: String) -> [String] {
        guard let section = help.components(separatedBy: "SUBCOMMANDS:").dropFirst().first else { return [] }
        return section.split(separator: "\n").compactMap { line in
            // A subcommand line is indented by exactly two spaces; wrapped abstracts by more.
            guard line.hasPrefix("  "), !line.hasPrefix("   "), let name = line.split(separator: " ").first else { return nil }
            let text = String(name)
            return text.allSatisfy({ $0.isLowercase || $0 == "-" }) && text != "see" ? text : nil
        }
    }

    @Test(arguments: ["casesync", "casesyncd"])
    func everyCommandsHelpAndVersionExitZeroOnStdout(tool: String) throws {
        let binary = CLIRunner.binary.deletingLastPathComponent().appendingPathComponent(tool)
        for arguments in [["--help"], ["-h"], ["help"], [], ["--version"]] {
            let result = try DaemonProcess.run(binary, arguments)
            #expect(result.status == 0, "\(tool) \(arguments.joined(separator: " ")): \(result.stderr)")
            #expect(result.stderr.isEmpty)
            #expect(!result.stdout.isEmpty)
        }
        #expect(try DaemonProcess.run(binary, ["--version"]).stdout.hasPrefix("\(tool) "))
        var pending = Self.subcommands(in: try DaemonProcess.run(binary, ["--help"]).stdout).map { [$0] }
        #expect(pending.count >= 5, "subcommands found: \(pending)")
        var checked = 0
        while let path = pending.popLast() {
            let result = try DaemonProcess.run(binary, path + ["--help"])
            #expect(result.status == 0 && result.stderr.isEmpty, "\(tool) \(path.joined(separator: " ")) --help exited \(result.status): \(result.stderr)")
            #expect(result.stdout.contains("USAGE: \(tool) \(path.joined(separator: " "))"), "\(tool) \(path.joined(separator: " ")) --help: \(result.stdout.prefix(200))")
            pending += Self.subcommands(in: result.stdout).filter { $0 != "help" }.map { path + [$0] }
            checked += 1
        }
        #expect(checked >= 5)
    }
}
