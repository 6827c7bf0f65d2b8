import Foundation
import SyncStore

/// Finds the data key of an encrypted replica for a command: the session `casesync unlock`
/// left in the keyring if it has not been idle too long, else the passphrase from a file
/// (`CASESYNC_PASSPHRASE_FILE`), else the passphrase typed at the terminal.
struct ReplicaUnlocker {
    var keyring: any KeyHold = KernelKeyring()
    var clock = WallClock()
    var passphraseFile: String? = Passphrase.file(option: nil)

    /// The data key `lock` guards.
    /// - Throws: `locked` when no source gives a passphrase, `wrong_passphrase`.
    func unlock(_ lock: ReplicaLock) throws -> DataKey {
        if let key = heldKey(for: lock) { return key }
        if let passphraseFile { return try lock.open(passphrase: try Passphrase.read(file: passphraseFile)) }
        if let typed = Passphrase.prompt("Passphrase for this replica: ") { return try lock.open(passphrase: typed) }
        throw StoreError(.locked, "this replica is encrypted and locked; run `casesync unlock` (scripts: set \(Passphrase.fileVariable))")
    }

    /// The key of a live session, its idle time moved on; a session idle too long is removed.
    func heldKey(for lock: ReplicaLock) -> DataKey? {
        let name = UnlockedSession.name(for: lock.device.rawValue)
        guard let payload = keyring.read(name), var session = UnlockedSession(payload: payload) else { return nil }
        let now = clock.milliseconds
        guard !session.hasExpired(at: now), let key = DataKey(rawBytes: session.key), lock.accepts(key) else {
            keyring.forget(name)
            return nil
        }
        session.lastUsed = max(session.lastUsed, now)
        try? keyring.hold(session.payload, as: name, timeout: session.idle / 1000)
        return key
    }

    /// Holds `key` for `device` for an idle timeout of `idle` milliseconds.
    func hold(_ key: DataKey, for device: String, idle: Int64) throws {
        let session = UnlockedSession(key: key.rawBytes, lastUsed: clock.milliseconds, idle: idle)
        try keyring.hold(session.payload, as: UnlockedSession.name(for: device), timeout: idle / 1000)
    }

    /// After `init` or `encrypt`, where the person has just given the passphrase: holds the
    /// store's key for the default idle time, as `unlock` would. Where the kernel has no
    /// keyring, nothing is held and later commands ask.
    func holdForSitting(_ store: ReplicaStore, device: String) {
        guard let key = store.sealer.sealingKey else { return }
        try? hold(key, for: device, idle: UnlockedSession.defaultIdle)
    }

    /// Forgets `device`'s session; true if one was held.
    @discardableResult
    func forget(device: String) -> Bool {
        keyring.forget(UnlockedSession.name(for: device))
    }
}
