import ArgumentParser
import SyncModel

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "user", abstract: "Manage users.", subcommands: [Add.self, List.self, Disable.self])

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

        func run() async throws {
            for user in try await options.openNode(existing: true).store.users() {
                print("\(user.name)\t\(user.role.rawValue)\(user.disabled ? "\tdisabled" : "")")
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
}
