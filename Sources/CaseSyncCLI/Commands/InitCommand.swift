import ArgumentParser
import Foundation
import SyncModel
import SyncProtocol
import SyncStore

/// `casesync init`: creates this device's replica (a random device id) in the data folder.
/// The replica is encrypted unless `--no-encryption` says otherwise (PROTOCOL.md §16).
struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create this device's replica in the data folder.",
        discussion: """
            The replica is encrypted under a passphrase, asked twice on the terminal or read from \
            --passphrase-file / $CASESYNC_PASSPHRASE_FILE, and left unlocked for 15 minutes without \
            a command, as `casesync unlock` does. A forgotten passphrase cannot be recovered: \
            what was synced is still on the node, so `casesync init` in a new folder, enroll and sync \
            bring it back; changes not yet synced are lost.
            """
    )

    @OptionGroup var options: GlobalOptions

    @Option(help: "A name for this device, shown next to its changes (default: the host name).")
    var deviceName: String?

    @Option(help: ArgumentHelp("Read the passphrase from the first line of this file (default: $CASESYNC_PASSPHRASE_FILE, else ask twice).", valueName: "file"))
    var passphraseFile: String?

    @Flag(help: "Keep the replica unencrypted: for test rigs only, never on a mediator's laptop.")
    var noEncryption = false

    func validate() throws {
        if let deviceName, let problem = NodeDirectory.Device.nameProblem(deviceName) { throw ValidationError("--device-name: \(problem)") }
        if noEncryption && passphraseFile != nil { throw ValidationError("--no-encryption and --passphrase-file exclude each other: choose one") }
    }

    func run() throws {
        let name = deviceName ?? ProcessInfo.processInfo.hostName
        if let problem = NodeDirectory.Device.nameProblem(name) { throw CLIError(.usage, "the host name cannot name this device (\(problem)); give one with --device-name NAME") }
        if FileManager.default.fileExists(atPath: options.directory.appendingPathComponent("replica.sqlite").path) {
            throw StoreError(.alreadyInitialized, "this data folder already holds a replica; use another --data folder to start afresh")
        }
        try ReplicaStore.makeDataFolder(options.directory)
        // The passphrase before the replica: a refused one leaves no replica behind.
        let passphrase = noEncryption ? nil : try Passphrase.new(file: Passphrase.file(option: passphraseFile))
        if let passphrase { try ReplicaLock.checkStrength(passphrase) }
        var store = try options.openStore(creating: true)
        var generator = SystemRandomNumberGenerator()
        let replica = try store.initialize(device: DeviceID.random(using: &generator), name: name, at: WallClock().milliseconds)
        if let passphrase {
            store = try store.encrypt(passphrase: passphrase)
            ReplicaUnlocker().holdForSitting(store, device: replica.device.rawValue)
        } else {
            FileHandle.standardError.write(Data("""
                warning: this replica is NOT encrypted: anyone who gets this laptop or a copy of its disk can read every case it holds. \
                Use --no-encryption for test rigs only; `casesync encrypt` encrypts it later.

                """.utf8))
        }
        print(options.json
            ? JSONOutput.sortedObject([("device", .string(replica.device.rawValue)), ("name", .string(name)), ("data", .string(options.directory.path)),
                                       ("encrypted", .boolean(store.isEncrypted))]).text
            : "Initialised device \(replica.device) (\(name)) in \(options.directory.path)\(store.isEncrypted ? ", encrypted" : "").\nNext: `casesync case new --title \"…\"`, and `casesync enroll` when you have a server.")
    }
}
