import Crypto
import Foundation

/// A replica's data key: the random 256-bit AES key every sealed value is encrypted under
/// (`RecordSealer`). It never changes for the life of the replica; the passphrase only wraps
/// it (`ReplicaLock`), so changing the passphrase re-wraps 32 bytes instead of re-encrypting
/// every record. Held in memory only, and in the kernel keyring while a replica is unlocked.
public struct DataKey: Sendable {
    private let box: KeyBox

    /// The key, for CryptoKit's API.
    var symmetricKey: SymmetricKey { box.key }

    /// The key's length in bytes.
    public static let byteCount = 32

    /// A new random key.
    package static func random() -> DataKey {
        DataKey(symmetricKey: SymmetricKey(size: .bits256))
    }

    init(symmetricKey: SymmetricKey) {
        box = KeyBox(key: symmetricKey)
    }

    /// A key from its raw bytes (as `rawBytes` gave them, from the keyring); nil unless 32 bytes.
    public init?(rawBytes: [UInt8]) {
        guard rawBytes.count == Self.byteCount else { return nil }
        box = KeyBox(key: SymmetricKey(data: rawBytes))
    }

    /// The key's raw bytes, to hold in the kernel keyring while the replica is unlocked.
    public var rawBytes: [UInt8] {
        symmetricKey.withUnsafeBytes { Array($0) }
    }
}

/// Holds a `SymmetricKey` across threads. swift-crypto 3 does not declare the key `Sendable`,
/// but it is immutable once made (its bytes are never written after init), so sharing it is safe.
private final class KeyBox: @unchecked Sendable {
    let key: SymmetricKey

    init(key: SymmetricKey) {
        self.key = key
    }
}
