import ArgumentParser
import Foundation
import SyncProtocol
import SyncStore

/// `casesync unlock [--idle 30m]`: opens the replica's key once and holds it in the kernel
/// keyring, so the commands of one sitting need no passphrase; after `--idle` without a
/// command (default 15 minutes) every command asks again.
struct UnlockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unlock",
        abstract: "Hold this replica's key for the session, until it has been idle for a while.",
        discussion: "The key stays in the Linux kernel keyring of this login session, never in a file. `casesync lock` forgets it at once."
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: ArgumentHelp("How long the key is held after the last command (e.g. 15m, 1h; at most 12h).", valueName: "duration"))
    var idle = "15m"

    @Option(help: ArgumentHelp("Read the passphrase from the first line of this file (default: $CASESYNC_PASSPHRASE_FILE, else ask).", valueName: "file"))
    var passphraseFile: String?

    func validate() throws {
        guard let seconds = DurationText.seconds(idle, upTo: UnlockedSession.longestIdle / 1000), seconds > 0 else {
            throw ValidationError("--idle: give a duration such as 15m or 1h, at most 12h")
        }
    }

    func run() throws {
        let idleMilliseconds = (DurationText.seconds(idle, upTo: UnlockedSession.longestIdle / 1000) ?? 900) * 1000
        guard let lock = try ReplicaStore.lock(directory: try options.existingDirectory()) else {
            throw CLIError(.usage, "this replica is not encrypted, so there is nothing to unlock; `casesync encrypt` encrypts it")
        }
        var unlocker = ReplicaUnlocker()
        unlocker.passphraseFile = Passphrase.file(option: passphraseFile)
        // A fresh passphrase, not a held session: unlocking is the moment the person proves it.
        let key: DataKey
        if let file = unlocker.passphraseFile {
            key = try lock.open(passphrase: try Passphrase.read(file: file))
        } else if let typed = Passphrase.prompt("Passphrase for this replica: ") {
            key = try lock.open(passphrase: typed)
        } else {
            throw CLIError(.usage, "no terminal to ask for the passphrase; give --passphrase-file FILE or set \(Passphrase.fileVariable)")
        }
        try unlocker.hold(key, for: lock.device.rawValue, idle: idleMilliseconds)
        print(options.json
            ? JSONOutput.sortedObject([("device", .string(lock.device.rawValue)), ("idleSeconds", .integer(Int(idleMilliseconds / 1000)))]).text
            : "Unlocked: it locks again after \(idle) without a command, or now with `casesync lock`.")
    }
}

/// `casesync lock`: forgets the key `unlock` held, at once.
struct LockCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lock", abstract: "Forget this replica's key now: the next command asks for the passphrase.")

    @OptionGroup var options: GlobalOptions

    func run() throws {
        guard let lock = try ReplicaStore.lock(directory: try options.existingDirectory()) else {
            throw CLIError(.usage, "this replica is not encrypted, so there is nothing to lock; `casesync encrypt` encrypts it")
        }
        let wasHeld = ReplicaUnlocker().forget(device: lock.device.rawValue)
        print(options.json
            ? JSONOutput.sortedObject([("device", .string(lock.device.rawValue)), ("wasUnlocked", .boolean(wasHeld))]).text
            : wasHeld ? "Locked: the key is forgotten." : "Already locked.")
    }
}

/// `casesync passphrase change`: re-wraps the data key under a new passphrase.
struct PassphraseCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "passphrase",
        abstract: "Manage this replica's passphrase.",
        subcommands: [Change.self]
    )

    struct Change: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "change",
            abstract: "Change the passphrase (the records are not re-encrypted: only the key's wrapping changes)."
        )

        @OptionGroup var options: GlobalOptions

        @Option(help: ArgumentHelp("Read the current passphrase from this file (default: $CASESYNC_PASSPHRASE_FILE, else ask).", valueName: "file"))
        var passphraseFile: String?

        @Option(help: ArgumentHelp("Read the new passphrase from this file (default: ask twice).", valueName: "file"))
        var newPassphraseFile: String?

        func run() throws {
            let directory = try options.existingDirectory()
            guard try ReplicaStore.lock(directory: directory) != nil else {
                throw CLIError(.usage, "this replica is not encrypted; `casesync encrypt` encrypts it with a passphrase")
            }
            let current: String
            if let file = Passphrase.file(option: passphraseFile) {
                current = try Passphrase.read(file: file)
            } else if let typed = Passphrase.prompt("Current passphrase: ") {
                current = typed
            } else {
                throw CLIError(.usage, "no terminal to ask for the current passphrase; give --passphrase-file FILE")
            }
            let store = try ReplicaStore.open(directory: directory) { lock in try lock.open(passphrase: current) }
            let new = try Passphrase.new(file: newPassphraseFile, what: "a new passphrase")
            try store.changePassphrase(from: current, to: new)
            print(options.json ? JSONOutput.sortedObject([("changed", .boolean(true))]).text
                : "Passphrase changed. A session already unlocked stays unlocked until it is idle or `casesync lock`.")
        }
    }
}

/// `casesync encrypt`: encrypts a replica made with `init --no-encryption` (or by a release
/// before encryption at rest), in one transaction, and erases the plain pages.
struct EncryptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt",
        abstract: "Encrypt a plain replica under a new passphrase.",
        discussion: "One transaction: interrupted, the replica stays plain and whole. The plain copies are then erased from the folder's files."
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: ArgumentHelp("Read the new passphrase from the first line of this file (default: $CASESYNC_PASSPHRASE_FILE, else ask twice).", valueName: "file"))
    var passphraseFile: String?

    func run() throws {
        let directory = try options.existingDirectory()
        guard try ReplicaStore.lock(directory: directory) == nil else {
            throw CLIError(.usage, "this replica is already encrypted; `casesync passphrase change` changes its passphrase")
        }
        let passphrase = try Passphrase.new(file: Passphrase.file(option: passphraseFile))
        try ReplicaLock.checkStrength(passphrase)
        let store = try ReplicaStore.open(directory: directory).encrypt(passphrase: passphrase)
        ReplicaUnlocker().holdForSitting(store, device: try store.replica().device.rawValue)
        let records = try store.counts().records
        print(options.json ? JSONOutput.sortedObject([("encrypted", .boolean(true)), ("records", .integer(records))]).text
            : "Encrypted \(records) record\(records == 1 ? "" : "s"). It stays unlocked for 15 minutes without a command; then commands ask for the passphrase (`casesync unlock` holds it for a sitting).")
    }
}
