import _CryptoExtras
import Crypto
import Foundation
import SyncModel

/// How an encrypted replica's data key is kept in its own database: wrapped (AES-GCM) under
/// a key derived from the mediator's passphrase with scrypt, a memory-hard KDF, so a stolen
/// file cannot be attacked at the speed of a GPU (PROTOCOL.md §16). The row is all a
/// replica holds in the clear about its key; it gives away nothing without the passphrase.
public struct ReplicaLock: Sendable, Hashable {
    /// The device whose replica this is (names its key in the keyring).
    public let device: DeviceID
    /// scrypt's cost: N = 2^logN, block size r, parallelism p.
    let logN: Int, r: Int, p: Int
    /// The KDF's random salt (16 bytes, new on every passphrase change).
    let salt: [UInt8]
    /// The data key, sealed under the passphrase key: nonce ‖ ciphertext ‖ tag.
    let wrapped: [UInt8]
    /// HMAC-SHA256 of a fixed label under the data key, cut to 16 bytes: tells whether a
    /// key from the keyring is this replica's, without decrypting anything.
    let keyCheck: [UInt8]

    /// scrypt N = 2^16, r = 8, p = 1: 64 MiB and about a fifth of a second here per
    /// derivation — paid once per `unlock` (or per command with a passphrase file), never
    /// per record. Stored with each lock, so a later release can raise it for new locks.
    static let defaultCost = (logN: 16, r: 8, p: 1)

    /// A passphrase shorter than this is refused when a lock is made.
    public static let minimumPassphraseLength = 8

    /// The authenticated data of the wrapped key.
    private static let wrapLabel = Data("casesync data key v1".utf8)
    private static let checkLabel = Data("casesync key check v1".utf8)

    /// A lock on `key` opened by `passphrase`, with a new salt.
    static func wrapping(_ key: DataKey, device: DeviceID, passphrase: String) throws -> ReplicaLock {
        try checkStrength(passphrase)
        let salt = (0..<16).map { _ in UInt8.random(in: .min ... .max) }
        let cost = defaultCost
        let wrappingKey = try derive(passphrase, salt: salt, logN: cost.logN, r: cost.r, p: cost.p)
        let box = try AES.GCM.seal(key.rawBytes, using: wrappingKey, authenticating: wrapLabel)
        guard let combined = box.combined else { throw StoreError(.corrupt, "AES-GCM gave no combined form") }
        return ReplicaLock(device: device, logN: cost.logN, r: cost.r, p: cost.p, salt: salt, wrapped: Array(combined), keyCheck: check(key))
    }

    /// Refuses a passphrase too short to protect a stolen laptop's case data.
    public static func checkStrength(_ passphrase: String) throws {
        guard passphrase.count >= minimumPassphraseLength else {
            throw StoreError(.weakPassphrase, "the passphrase must be at least \(minimumPassphraseLength) characters; choose a longer one")
        }
    }

    /// The data key, unwrapped with `passphrase`.
    /// - Throws: `wrong_passphrase` when it is not this replica's passphrase.
    public func open(passphrase: String) throws -> DataKey {
        let wrappingKey = try Self.derive(passphrase, salt: salt, logN: logN, r: r, p: p)
        guard let box = try? AES.GCM.SealedBox(combined: wrapped),
              let raw = try? AES.GCM.open(box, using: wrappingKey, authenticating: Self.wrapLabel),
              let key = DataKey(rawBytes: Array(raw)) else {
            throw StoreError(.wrongPassphrase, "wrong passphrase for this replica; try again (a forgotten passphrase cannot be recovered: see `casesync init --help`)")
        }
        return key
    }

    /// Whether `key` is this replica's data key.
    public func accepts(_ key: DataKey) -> Bool {
        Self.check(key) == keyCheck
    }

    private static func check(_ key: DataKey) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: checkLabel, using: key.symmetricKey).prefix(16))
    }

    private static func derive(_ passphrase: String, salt: [UInt8], logN: Int, r: Int, p: Int) throws -> SymmetricKey {
        do {
            return try KDF.Scrypt.deriveKey(from: Array(passphrase.utf8), salt: salt, outputByteCount: 32,
                                            rounds: 1 << logN, blockSize: r, parallelism: p, maxMemory: 256 << 20)
        } catch {
            throw StoreError(.corrupt, "the replica's key parameters are not usable (scrypt 2^\(logN), \(r), \(p))")
        }
    }
}
