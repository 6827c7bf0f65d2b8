import ArgumentParser
import SyncProtocol

struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enroll", abstract: "Make a one-time enrollment token for a user's device; the token is printed alone on the last line.")
    @OptionGroup var options: DataOptions
    @Argument(help: "The user the device will act for.") var name: String
    @Option(help: "How long the token stays valid: 30m, 24h, 7d.") var ttl = "24h"

    func run() async throws {
        guard let seconds = DurationText.seconds(ttl, upTo: 365 * 86_400) else { throw ValidationError("--ttl must look like 30m, 24h or 7d, at most 365d") }
        let token = try await options.openNode(existing: true).makeEnrollmentToken(for: name, ttl: seconds)
        print("One-time enrollment token for \(name), valid \(ttl). On the device: casesync enroll --server URL --token TOKEN")
        print(token)
    }

}
