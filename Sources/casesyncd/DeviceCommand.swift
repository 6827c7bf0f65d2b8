import ArgumentParser
import NodeStorage

struct DeviceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "device", abstract: "List and revoke devices.", subcommands: [List.self, Revoke.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List enrolled devices.")
        @OptionGroup var options: DataOptions
        @Flag(help: "Print a JSON array of {created, id, lastSeen, name, role, state, user}.") var json = false

        func run() async throws {
            let devices = try await options.openNode(existing: true).store.devices()
            if json {
                try ListOutput.print(devices.map { device in
                    ["id": device.id.rawValue, "user": device.user.name, "role": device.user.role.rawValue, "name": device.name,
                     "created": Timestamp.text(device.created), "lastSeen": device.lastSeen.map(Timestamp.text), "state": Self.state(of: device)]
                })
                return
            }
            print("DEVICE\tUSER\tNAME\tLAST SEEN\tSTATE")
            for device in devices {
                print("\(device.id)\t\(device.user.name)\t\(ListOutput.cell(device.name))\t\(device.lastSeen.map(Timestamp.text) ?? "never")\t\(Self.state(of: device))")
            }
        }

        /// `active`, `revoked`, `wipe pending since …` or `wiped at …`.
        static func state(of device: DeviceAccount) -> String {
            if let wipe = device.wipe {
                return wipe.confirmed.map { "wiped at \(Timestamp.text($0))" } ?? "wipe pending since \(Timestamp.text(wipe.requested))"
            }
            return device.revoked ? "revoked" : device.user.disabled ? "user disabled" : "active"
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a device; it is refused from its next request on.",
            discussion: "With --wipe (a lost or stolen device) it is first told, at its next contact, to erase every case record from its data folder; it delivers nothing more. `casesyncd device list` shows the erasure pending, then confirmed with its time.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The device's id, or its name (as `device list` shows them).") var device: String
        @Flag(help: "Have the device erase its case data at its next contact.") var wipe = false

        func run() async throws {
            let revoked = try await options.openNode(existing: true).store.revokeDevice(device, wipeAt: wipe ? Timestamp.now() : nil, at: Timestamp.now())
            print("Revoked \(revoked.id) (\(revoked.name), of \(revoked.user.name))\(wipe ? ": it erases its case data at its next contact" : "").")
        }
    }
}
