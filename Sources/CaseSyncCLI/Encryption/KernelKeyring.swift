import CKeyring
import Foundation

/// Where an unlocked replica's key is held between commands: the Linux kernel keyring
/// (keyrings(7)), in the session keyring of the login session that unlocked it (or, where
/// logins get none, the user's session keyring). The kernel keeps the payload out of every
/// file and swap, destroys it at its timeout, and hands it only to the same user's processes.
protocol KeyHold {
    /// The payload held under `name`, or nil.
    func read(_ name: String) -> [UInt8]?
    /// Holds `payload` under `name` (replacing any earlier one) for `timeout` seconds.
    func hold(_ payload: [UInt8], as name: String, timeout: Int64) throws
    /// Forgets what is held under `name`; true if something was.
    @discardableResult
    func forget(_ name: String) -> Bool
}

/// `KeyHold` in the kernel's session keyring, through its system calls (`CKeyring`).
struct KernelKeyring: KeyHold {
    /// The session keyring, or nil where the kernel has no keyrings (then nothing is held).
    private var keyring: Int? {
        let serial = ckeyring_session()
        return serial >= 0 ? serial : nil
    }

    func read(_ name: String) -> [UInt8]? {
        guard let keyring else { return nil }
        let serial = ckeyring_search(keyring, name)
        guard serial >= 0 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 256)
        let length = buffer.withUnsafeMutableBytes { ckeyring_read(serial, $0.baseAddress, $0.count) }
        guard length >= 0, length <= buffer.count else { return nil }
        return Array(buffer.prefix(length))
    }

    func hold(_ payload: [UInt8], as name: String, timeout: Int64) throws {
        let serial = payload.withUnsafeBytes { bytes in keyring.map { ckeyring_add($0, name, bytes.baseAddress, bytes.count) } ?? -1 }
        guard serial >= 0 else {
            throw CLIError(.internalError, "the kernel keyring refused the key (\(String(cString: strerror(errno)))); without it, set CASESYNC_PASSPHRASE_FILE or type the passphrase per command")
        }
        _ = ckeyring_set_owner_only(serial)
        _ = ckeyring_set_timeout(serial, UInt32(clamping: max(1, timeout)))
    }

    func forget(_ name: String) -> Bool {
        guard let keyring else { return false }
        let serial = ckeyring_search(keyring, name)
        guard serial >= 0 else { return false }
        _ = ckeyring_revoke(serial)
        _ = ckeyring_unlink(serial, keyring)
        return true
    }
}
