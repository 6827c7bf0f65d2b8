import ArgumentParser
import Foundation
import SyncModel
import SyncProtocol
import SyncStore

/// `casesync init`: creates this device's replica (a random device id) in the data folder.
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "init", abstract: "Create this device's replica in the data folder.")

    @OptionGroup var options: GlobalOptions

    @Option(help: "A name for this device, shown next to its changes (default: the host name).")
    var deviceName: String?

    func validate() throws {
        if let deviceName, let problem = NodeDirectory.Device.nameProblem(deviceName) { throw ValidationError("--device-name: \(problem)") }
    }

    func run() throws {
        let name = deviceName ?? ProcessInfo.processInfo.hostName
        if let problem = NodeDirectory.Device.nameProblem(name) { throw CLIError(.usage, "the host name cannot name this device (\(problem)); give one with --device-name NAME") }
        let store = try options.openStore(creating: true)
        var generator = SystemRandomNumberGenerator()
        let replica = try store.initialize(device: DeviceID.random(using: &generator), name: name, at: WallClock().milliseconds)
        print(options.json
            ? JSONOutput.sortedObject([("device", .string(replica.device.rawValue)), ("name", .string(name)), ("data", .string(options.directory.path))]).text
            : "Initialised device \(replica.device) (\(name)) in \(options.directory.path).\nNext: `casesync case new --title \"…\"`, and `casesync enroll` when you have a server.")
    }
}
