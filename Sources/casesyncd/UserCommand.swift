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
        static let configuration = CommandConfiguration(abstract: "Disable a user: their devices are refused from the next request on.")
        @OptionGroup var options: DataOptions
        @Argument var name: String

        func run() async throws {
            try await options.openNode(existing: true).store.disableUser(name)
            print("Disabled \(name).")
        }
    }
}
