import ArgumentParser
import Foundation
import SealedBackup
import SyncStore

struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the node's database to FILE, consistently, while it serves (SQLite online backup).",
        discussion: """
            The file is created mode 0600. With --recipient it is sealed to that public key (HPKE; `casesyncd keygen` makes the pair) and only the matching identity opens it: `casesyncd restore --identity`. See Deploy/OPERATIONS.md, "Back up and restore".
            """)
    @OptionGroup var options: DataOptions
    @Option(help: "The backup file to write (must not exist).") var to: String
    @Option(help: ArgumentHelp("Seal the backup to this recipient (the .pub file `casesyncd keygen` wrote).", valueName: "keyfile"))
    var recipient: String?

    func run() throws {
        try options.requireDataFolder(for: "backup", instead: "back up the database with PostgreSQL's own tools (pg_dump, or pg_basebackup with WAL archiving): see Deploy/SCALE-OUT.md")
        guard !FileManager.default.fileExists(atPath: to) else { throw ValidationError("\(to) exists; choose a new file") }
        // Read before any copy is made: a bad key file changes nothing.
        let sealTo = try recipient.map { try BackupRecipient.read(file: $0) }
        // Opening would create an empty database, and back that up: a missing one is an error.
        guard FileManager.default.fileExists(atPath: options.directory.appendingPathComponent("replica.sqlite").path) else {
            throw DaemonError(status: .notFound, message: "\(options.directory.path) holds no node database to back up; give the node's folder with --data")
        }
        let store = try SQLiteNodeStore.open(directory: options.directory)
        guard let sealTo else {
            let head = try store.backup(to: to, at: Timestamp.now())
            print("Backed up \(options.directory.path) to \(to) (readable by this user only, not encrypted). Restore it with: casesyncd restore --from \(to) --data \(options.directory.path)")
            print("Audit chain head in the backup: \(head) (keep it: `casesyncd audit verify --head \(head)` shows the log still holds it)")
            return
        }
        // The plain copy is made inside the node's own folder (as readable as the database
        // itself, never beside the sealed file, which may be on another disk) and removed
        // once sealed; one left by a killed backup is removed by the next.
        let plain = PlainBackupCopy(directory: options.directory)
        plain.removeLeftovers()
        defer { plain.remove() }
        let head = try store.backup(to: plain.path, at: Timestamp.now(), sealed: true)
        try BackupEnvelope.seal(plain.path, to: to, for: sealTo)
        print("Backed up \(options.directory.path) to \(to), sealed to \(recipient ?? "") (readable by this user only). Restore it with: casesyncd restore --from \(to) --identity IDENTITY --data \(options.directory.path)")
        print("Audit chain head in the backup: \(head) (keep it: `casesyncd audit verify --head \(head)` shows the log still holds it)")
    }
}

/// The plain database copy a sealed backup or restore works through, in the node's folder.
struct PlainBackupCopy {
    static let prefix = ".backup-plain-"
    let directory: URL
    let path: String

    init(directory: URL) {
        self.directory = directory
        path = directory.appendingPathComponent(Self.prefix + UUID().uuidString + ".sqlite").path
    }

    /// Removes the copies killed backups and restores left behind.
    func removeLeftovers() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        for name in names where name.hasPrefix(Self.prefix) { try? FileManager.default.removeItem(at: directory.appendingPathComponent(name)) }
    }

    func remove() {
        for suffix in ["", "-wal", "-shm", "-journal"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}

/// `casesyncd keygen --out FILE`: the key pair sealed backups use.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Make a key pair for sealed backups: FILE (the identity, private) and FILE.pub (the recipient).",
        discussion: "Give FILE.pub to `casesyncd backup --recipient` on the node; keep FILE off the node, for `casesyncd restore --identity`.")
    @Option(help: ArgumentHelp("Where to write the identity (mode 0600); the recipient goes to the same path with .pub added.", valueName: "file"))
    var out: String

    func run() throws {
        let publicPath = out + ".pub"
        for path in [out, publicPath] where FileManager.default.fileExists(atPath: path) {
            throw ValidationError("\(path) exists; choose a new file (a key pair is never overwritten)")
        }
        let identity = BackupIdentity()
        guard FileManager.default.createFile(atPath: out, contents: Data(identity.fileText.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw DaemonError(status: .usage, message: "cannot create \(out); check that its folder exists and is writable")
        }
        guard FileManager.default.createFile(atPath: publicPath, contents: Data(identity.recipient.fileText.utf8), attributes: [.posixPermissions: 0o644]) else {
            try? FileManager.default.removeItem(atPath: out)
            throw DaemonError(status: .usage, message: "cannot create \(publicPath); check that its folder exists and is writable")
        }
        print("Wrote the identity \(out) (private: keep it off the node, e.g. on the administrator's machine and in a safe) and the recipient \(publicPath) (for casesyncd backup --recipient).")
    }
}
