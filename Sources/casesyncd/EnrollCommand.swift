import ArgumentParser
import NodeStorage
import SyncProtocol

struct EnrollCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "enroll", abstract: "Make a one-time enrollment token for a user's device; the token is printed alone on the last line.")
    @OptionGroup var options: DataOptions
    @Argument(help: "The user the device will act for.") var name: String
    @Option(help: "How long the token stays valid: 30m, 24h, 7d.") var ttl = "24h"
    @Option(help: "The device's offline lease: without reaching the node for longer, it locks its case data until it syncs (1h to 365d).")
    var lease = "30d"

    func validate() throws {
        guard DurationText.seconds(ttl, upTo: 365 * 86_400) != nil else { throw ValidationError("--ttl must look like 30m, 24h or 7d, at most 365d") }
        guard let seconds = DurationText.seconds(lease, upTo: 365 * 86_400), seconds >= 3600 else {
            throw ValidationError("--lease must look like 14d or 72h, from 1h to 365d")
        }
    }

    func run() async throws {
        let seconds = DurationText.seconds(ttl, upTo: 365 * 86_400) ?? 86_400
        let leaseSeconds = DurationText.seconds(lease, upTo: 365 * 86_400) ?? DeviceAccount.defaultLease
        let token = try await options.openNode(existing: true).makeEnrollmentToken(for: name, ttl: seconds, lease: leaseSeconds)
        print("One-time enrollment token for \(name), valid \(ttl); the device's offline lease is \(lease). On the device: casesync enroll --server URL --token TOKEN")
        print(token)
    }

}
