import ArgumentParser

struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "device", abstract: "List and revoke devices.", subcommands: [List.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List enrolled devices.")
        @OptionGroup var options: DataOptions

        func run() async throws {
            for device in try await options.openNode().store.devices() {
                print("\(device.id)\t\(device.user.name)\t\(device.name)\(device.revoked ? "\trevoked" : "")")
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a device; it is refused from its next request on.")
        @OptionGroup var options: DataOptions
        @Argument var id: String

        func run() async throws {
            try await options.openNode().store.revokeDevice(id)
            print("Revoked \(id).")
        }
    }
}
