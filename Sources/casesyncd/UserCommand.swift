import ArgumentParser
import SyncModel

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage users.", subcommands: [Add.self, List.self, Disable.self, Enable.self, SetRole.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a user with a role: mediator, supervisor, reporter or admin.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The user name (a-z, 0-9, '.', '_', '-').") var name: String
        @Option(help: "mediator, supervisor, reporter or admin.") var role: String

        func run() async throws {
            guard let role = Role(rawValue: role) else { throw ValidationError("--role must be mediator, supervisor, reporter or admin") }
            _ = try await options.openNode().store.addUser(name, role: role, at: Timestamp.now())
            print("Added \(role.rawValue) \(name). Next: casesyncd enroll \(name)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List users.")
        @OptionGroup var options: DataOptions
        @Flag(help: "Print a JSON array of {disabled, name, role}.") var json = false

        func run() async throws {
            let users = try await options.openNode(existing: true).store.users()
            if json {
                try ListOutput.print(users.map { ["name": $0.name, "role": $0.role.rawValue, "disabled": $0.disabled] })
                return
            }
            print("USER\tROLE\tSTATE")
            for user in users {
                print("\(user.name)\t\(user.role.rawValue)\t\(user.disabled ? "disabled" : "enabled")")
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Disable a user: each of their devices erases its case data at its next sync, then is refused.",
            discussion: "Without --wipe a device first delivers the changes it has queued (a user leaving the service); with --wipe it delivers nothing (a user whose devices must not be trusted). `casesyncd device list` shows each erasure pending or confirmed.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The user name.") var name: String
        @Flag(help: "Take nothing more from their devices: erase at once.") var wipe = false

        func run() async throws {
            try await options.openNode(existing: true).store.disableUser(name, at: Timestamp.now(), deliverFirst: !wipe)
            print("Disabled \(name): each of their devices erases its case data at its next sync\(wipe ? "" : ", after delivering what it has queued"), then is refused.")
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable a disabled user again.",
            discussion: "Devices already asked to erase their case data stay so (an erasure is never taken back): enroll new ones with `casesyncd enroll NAME`.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The user name.") var name: String

        func run() async throws {
            try await options.openNode(existing: true).store.enableUser(name, at: Timestamp.now())
            print("Enabled \(name). Devices asked to erase stay so; enroll new ones with `casesyncd enroll \(name)`.")
        }
    }

    struct SetRole: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-role",
            abstract: "Change a user's role: mediator, supervisor, reporter or admin.",
            discussion: "Refused while the user has a device that may hold case data: what a device holds follows the role it pulled with. Revoke those devices with --wipe first, then enroll again after the change.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The user name.") var name: String
        @Argument(help: "mediator, supervisor, reporter or admin.") var role: String

        func validate() throws {
            guard Role(rawValue: role) != nil else { throw ValidationError("\(role) is not a role; roles: mediator, supervisor, reporter, admin") }
        }

        func run() async throws {
            guard let role = Role(rawValue: role) else { return }
            _ = try await options.openNode(existing: true).store.setRole(name, to: role, at: Timestamp.now())
            print("\(name) is now a \(role.rawValue). Next: casesyncd enroll \(name)")
        }
    }
}
