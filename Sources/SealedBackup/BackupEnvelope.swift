import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A node backup sealed to a recipient's public key, so that a copy on another disk, an
/// off-site store or a stolen tape gives nothing away without the identity.
///
/// HPKE (RFC 9180, base mode, X25519 / HKDF-SHA256 / ChaCha20-Poly1305, from swift-crypto)
/// seals the SQLite backup in chunks, streamed, so a node of any size is sealed in constant
/// memory. Hand-written framing because no library here streams HPKE over a file:
///
///     header  = "CASESYNC-BACKUP\n" ‖ version 0x01 ‖ SHA-256(recipient key)[0..<8] ‖ encapsulated key (32)
///     chunk   = final flag (0x00 | 0x01) ‖ ciphertext length (u32, big-endian) ‖ ciphertext
///
/// Each chunk is at most 1 MiB of plaintext, sealed in order (HPKE numbers its nonces), with
/// the header and the chunk's final flag as authenticated data: a reordered, altered or
/// dropped chunk fails to open, and a file cut short ends without a final chunk. The
/// recipient's key hash tells a wrong identity from a damaged file.
public enum BackupEnvelope {
    static let magic = Array("CASESYNC-BACKUP\n".utf8)
    static let version: UInt8 = 1
    static let info = Data("casesync node backup 1".utf8)
    static var suite: HPKE.Ciphersuite { .Curve25519_SHA256_ChachaPoly }
    static let chunkSize = 1 << 20
    static let headerSize = magic.count + 1 + 8 + 32

    /// Whether the file at `path` starts as a sealed backup does (false when unreadable).
    public static func isSealed(file path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: magic.count)).map { [UInt8]($0) == magic } ?? false
    }

    /// Seals the file at `plain` into a new file at `sealed` (mode 0600), for `recipient`.
    /// The sealed file appears only once it is whole (written beside it, then renamed).
    /// - Throws: `BackupError.io` naming the file when one cannot be read or written.
    public static func seal(_ plain: String, to sealed: String, for recipient: BackupRecipient) throws {
        var sender = try HPKE.Sender(recipientKey: recipient.key, ciphersuite: suite, info: info)
        let header = magic + [version] + keyHash(recipient) + [UInt8](sender.encapsulatedKey)
        guard let input = FileHandle(forReadingAtPath: plain) else { throw BackupError(.io, "cannot read \(plain)") }
        defer { try? input.close() }
        try writeWhole(sealed) { output in
            try output.write(contentsOf: header)
            var chunk = try input.read(upToCount: chunkSize) ?? Data()
            while true {
                let next = chunk.count == chunkSize ? (try input.read(upToCount: chunkSize) ?? Data()) : Data()
                let final: UInt8 = next.isEmpty ? 1 : 0
                let ciphertext = try sender.seal(chunk, authenticating: header + [final])
                var length = UInt32(ciphertext.count).bigEndian
                try output.write(contentsOf: [final] + withUnsafeBytes(of: &length) { [UInt8]($0) })
                try output.write(contentsOf: ciphertext)
                if final == 1 { break }
                chunk = next
            }
        }
    }

    /// Opens the sealed backup at `sealed` into a new file at `plain` (mode 0600).
    /// - Throws: `BackupError.wrongIdentity` when it was sealed to another key,
    ///   `.damaged` when it is cut short or altered, `.io` when a file cannot be used.
    ///   `plain` does not exist after a throw.
    public static func open(_ sealed: String, to plain: String, with identity: BackupIdentity) throws {
        guard let input = FileHandle(forReadingAtPath: sealed) else { throw BackupError(.io, "cannot read the backup \(sealed); check the path and its permissions") }
        defer { try? input.close() }
        let header = [UInt8](try input.read(upToCount: headerSize) ?? Data())
        guard header.count == headerSize, Array(header[0..<magic.count]) == magic else {
            throw BackupError(.damaged, "\(sealed) is not a sealed CaseSync backup, or its start is damaged")
        }
        guard header[magic.count] == version else {
            throw BackupError(.damaged, "\(sealed) was sealed by a newer casesyncd (format \(header[magic.count])); restore it with that release")
        }
        guard Array(header[(magic.count + 1)..<(magic.count + 9)]) == keyHash(identity.recipient) else {
            throw BackupError(.wrongIdentity, "\(sealed) was sealed to another key; give the identity whose .pub was its --recipient")
        }
        let encapsulated = Data(header[(magic.count + 9)...])
        var recipient: HPKE.Recipient
        do {
            recipient = try HPKE.Recipient(privateKey: identity.key, ciphersuite: suite, info: info, encapsulatedKey: encapsulated)
        } catch {
            throw BackupError(.damaged, "\(sealed): its key header is damaged; the backup cannot be opened")
        }
        let damaged = BackupError(.damaged, "\(sealed) is cut short or was altered; restore an earlier backup")
        try writeWhole(plain) { output in
            while true {
                let frame = [UInt8](try input.read(upToCount: 5) ?? Data())
                guard frame.count == 5, frame[0] <= 1 else { throw damaged }
                let length = frame[1...4].reduce(0) { $0 << 8 | Int($1) }
                guard length <= chunkSize + 16, let ciphertext = try input.read(upToCount: length), ciphertext.count == length,
                      let text = try? recipient.open(ciphertext, authenticating: header + [frame[0]]) else { throw damaged }
                try output.write(contentsOf: text)
                if frame[0] == 1 { break }
            }
            guard (try input.read(upToCount: 1) ?? Data()).isEmpty else { throw damaged }
        }
    }

    static func keyHash(_ recipient: BackupRecipient) -> [UInt8] {
        Array(SHA256.hash(data: recipient.key.rawRepresentation).prefix(8))
    }

    /// Writes a new file at `path` (mode 0600) through `body`: to `path.partial` first, made
    /// durable, then renamed, so `path` is never a half-written file. Nothing is left
    /// behind when `body` throws.
    static func writeWhole(_ path: String, _ body: (FileHandle) throws -> Void) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw BackupError(.io, "\(path) exists; choose a new file") }
        let partial = path + ".partial"
        let descriptor = Glibc.open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw BackupError(.io, "cannot create \(partial) (\(String(cString: strerror(errno)))); check that its folder exists and is writable")
        }
        let output = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        do {
            try body(output)
            try output.synchronize()
            try output.close()
        } catch {
            try? output.close()
            unlink(partial)
            if let error = error as? BackupError { throw error }
            throw BackupError(.io, "cannot write \(path); check that the disk has room and run again")
        }
        guard rename(partial, path) == 0 else {
            unlink(partial)
            throw BackupError(.io, "cannot put \(path) in place (\(String(cString: strerror(errno))))")
        }
    }
}
