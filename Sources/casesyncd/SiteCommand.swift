import ArgumentParser

/// `casesyncd site add|list|remove`: the service's sites, which devices receive with the
/// node's directory and check `--site` against (PROTOCOL.md §15).
struct SiteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site", abstract: "Keep the list of sites devices check case sites against.",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a site: devices learn it at their next sync.",
            discussion: "Names are compared without regard to case: \"north hospital\" is the site \"North Hospital\". Once the node lists a site, devices refuse a case site it does not list, suggesting the nearest.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The site's name, as reports should show it (1-100 characters).") var name: String

        func run() async throws {
            try await options.openNode(existing: true).store.addSite(name, at: Timestamp.now())
            print("Added site \"\(name)\"; devices learn it at their next sync.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the sites.")
        @OptionGroup var options: DataOptions
        @Flag(help: "Print a JSON array of site names.") var json = false

        func run() async throws {
            let sites = try await options.openNode(existing: true).store.sites()
            if json {
                try ListOutput.print(strings: sites)
                return
            }
            if sites.isEmpty { print("No sites yet: devices accept any site. Add one with `casesyncd site add NAME`.") }
            for site in sites { print(site) }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a site from the list (a misspelt one).",
            discussion: "Cases that name it keep their value; devices stop accepting it for new writes at their next sync.")
        @OptionGroup var options: DataOptions
        @Argument(help: "The site's name.") var name: String

        func run() async throws {
            let removed = try await options.openNode(existing: true).store.removeSite(name, at: Timestamp.now())
            print("Removed site \"\(removed)\"; cases that name it keep it.")
        }
    }
}
