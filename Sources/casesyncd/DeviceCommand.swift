import ArgumentParser

struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "device", abstract: "List and revoke devices.", subcommands: [List.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List enrolled devices.")
        @OptionGroup var options: DataOptions

        func run() async throws {
            for device in try await options.openNode(existing: true).store.devices() {
                print("\(device.id)\t\(device.user.name)\t\(device.name)\(device.revoked ? "\trevoked" : "")")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a device; it is refused from its next request on.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The device's id, or its name (as `device list` shows them).") var device: String

        func run() async throws {
            let revoked = try await options.openNode(existing: true).store.revokeDevice(device)
            print("Revoked \(revoked.id) (\(revoked.name), of \(revoked.user.name)).")
        }
    }
}
