import SyncClient
import SyncModel
import SyncProtocol
import SyncStore

/// What this device knows of the node's devices, users and sites: the directory its last
/// sync fetched (PROTOCOL.md §15). Before a first sync it knows nothing, and nothing is
/// checked: a device works offline from its first minute.
struct KnownValues {
    /// The directory as held, or nil before one was fetched.
    let directory: NodeDirectory?

    /// The directory held by `store` (nil when none is, or what is held does not read).
    init(_ store: ReplicaStore) throws {
        directory = try store.setting(SyncEngine.directoryKey).flatMap { try? WireJSON.decode(NodeDirectory.self, from: Array($0.utf8)) }
    }

    init(directory: NodeDirectory?) {
        self.directory = directory
    }

    /// Every device name the directory gives, by device id.
    var deviceNames: [DeviceID: String] {
        var names: [DeviceID: String] = [:]
        for device in directory?.devices ?? [] {
            if let id = try? DeviceID(device.id) { names[id] = Self.printable(device.name) }
        }
        return names
    }

    /// The site a case is written with: `text` as the node spells it (the same text, or the
    /// same without regard to ASCII case: `NodeDirectory.site(named:)`), or `text` itself when the node lists no sites. A site the node does
    /// not list is refused (exit 1) with the nearest known one as a suggestion.
    func site(_ text: String, option: String) throws -> String {
        guard let directory, !directory.sites.isEmpty else { return text }
        let sites = directory.sites
        if let known = directory.site(named: text) { return known }
        let hint = Self.nearest(to: text, in: sites).map { "did you mean \"\($0)\"? " } ?? ""
        throw CLIError(.usage, "\(option) \"\(Self.printable(text.prefix(100)))\" is not one of the node's sites; \(hint)the sites are \(Self.list(sites)) (a new one is added on the node with `casesyncd site add NAME`, then `casesync sync`)")
    }

    /// A warning for each of `names` a case's `mediators` would name that is not an enabled
    /// mediator or supervisor of the node; none when no directory is held yet.
    func mediatorWarnings(_ names: [String]) -> [String] {
        guard let users = directory?.users, !users.isEmpty else { return [] }
        return names.compactMap { name in
            guard let user = users.first(where: { $0.name == name }) else {
                let hint = Self.nearest(to: name, in: users.map(\.name)).map { " (did you mean \($0)?)" } ?? ""
                let shown = Self.printable(name.prefix(64))
                return "the node has no user \(shown)\(hint); no device of theirs will hold the case until an administrator adds them (`casesyncd user add \(shown) --role mediator`)"
            }
            if user.disabled { return "\(name) is disabled on the node: no device of theirs will hold the case" }
            guard let role = Role(rawValue: user.role), role.syncsCases else {
                return "\(name) is a \(user.role) on the node, not a mediator: no device of theirs will hold the case"
            }
            return nil
        }
    }

    /// A case's `changes` checked against what the node lists: a `site` spelled as the node
    /// spells it (or refused), and a warning for each `mediators` addition the node would
    /// not give the case to (`mediatorWarnings`).
    func checkedCase(_ changes: [FieldChange]) throws -> (changes: [FieldChange], warnings: [String]) {
        let checked = try changes.map { change -> FieldChange in
            guard case let .set("site", .text(site)) = change else { return change }
            return .set("site", .text(try self.site(site, option: "site")))
        }
        let added = changes.compactMap { change -> String? in
            guard case let .add("mediators", name) = change else { return nil }
            return name
        }
        return (checked, mediatorWarnings(added))
    }

    /// The known value nearest to `text` (edit distance without regard to case), if it is
    /// near enough to be the likely meaning of a typo: at most a third of its length away.
    static func nearest(to text: String, in known: [String]) -> String? {
        let word = Array(text.lowercased())
        let scored = known.map { (value: $0, distance: editDistance(word, Array($0.lowercased()))) }
        guard let best = scored.min(by: { $0.distance < $1.distance }), best.distance <= max(1, best.value.count / 3) else { return nil }
        return best.value
    }

    /// Edit distance: insertions, deletions, substitutions and swaps of two neighbours
    /// (optimal string alignment), so "bbo" is one edit from "bob".
    static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }

    /// Text typed or received, safe to print on one line: control characters (line breaks,
    /// terminal escapes) become spaces.
    static func printable(_ text: some StringProtocol) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0.properties.generalCategory == .control ? " " : $0 }))
    }

    static func list(_ values: [String]) -> String {
        let shown = values.prefix(12).map { "\"\($0)\"" }.joined(separator: ", ")
        return values.count > 12 ? shown + " and \(values.count - 12) more" : shown
    }
}
