import Crypto
import Foundation

/// The private half of a backup key pair: it opens backups sealed to its recipient. It is
/// kept off the node (an administrator's machine, a safe), so that a stolen node or backup
/// disk cannot open the backups.
///
/// File format (text, one key line, comments start with `#`):
/// `casesync-backup-identity-1 BASE64(X25519 private key, 32 bytes)`.
public struct BackupIdentity {
    static let label = "casesync-backup-identity-1"

    let key: Curve25519.KeyAgreement.PrivateKey

    /// A new random identity.
    public init() { key = Curve25519.KeyAgreement.PrivateKey() }

    init(key: Curve25519.KeyAgreement.PrivateKey) { self.key = key }

    /// The recipient backups are sealed to, to give `casesyncd backup --recipient`.
    public var recipient: BackupRecipient { BackupRecipient(key: key.publicKey) }

    /// The identity's file text.
    public var fileText: String {
        """
        # CaseSync backup identity: opens node backups (casesyncd restore --identity).
        # Keep it off the node and readable by its owner only; without it the backups cannot be restored.
        \(Self.label) \(key.rawRepresentation.base64EncodedString())

        """
    }

    /// Reads an identity file.
    /// - Throws: `BackupError.badKeyFile` naming the file, also when it holds a recipient.
    public static func read(file path: String) throws -> BackupIdentity {
        let raw = try BackupKeyFile.key(in: path, label: label, other: BackupRecipient.label,
                                        otherHint: "it is a recipient (public key); give the identity file keygen wrote without .pub")
        guard let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: raw) else {
            throw BackupError(.badKeyFile, "\(path) does not hold a valid backup identity; give the file `casesyncd keygen` wrote")
        }
        return BackupIdentity(key: key)
    }
}

/// The public half of a backup key pair, which the node seals its backups to. It may be
/// kept on the node: it cannot open anything.
///
/// File format: `casesync-backup-recipient-1 BASE64(X25519 public key, 32 bytes)`.
public struct BackupRecipient {
    static let label = "casesync-backup-recipient-1"

    let key: Curve25519.KeyAgreement.PublicKey

    /// The recipient's file text.
    public var fileText: String {
        """
        # CaseSync backup recipient: node backups are sealed to it (casesyncd backup --recipient).
        # Public: it cannot open a backup. The matching identity can.
        \(Self.label) \(key.rawRepresentation.base64EncodedString())

        """
    }

    /// Reads a recipient file.
    /// - Throws: `BackupError.badKeyFile` naming the file, also when it holds an identity
    ///   (which belongs off the node).
    public static func read(file path: String) throws -> BackupRecipient {
        let raw = try BackupKeyFile.key(in: path, label: label, other: BackupIdentity.label,
                                        otherHint: "it is the identity (private key), which belongs off the node; give the .pub file keygen wrote beside it")
        guard let key = try? Curve25519.KeyAgreement.PublicKey(rawRepresentation: raw) else {
            throw BackupError(.badKeyFile, "\(path) does not hold a valid backup recipient; give the .pub file `casesyncd keygen` wrote")
        }
        return BackupRecipient(key: key)
    }
}

/// The key line of a backup key file.
enum BackupKeyFile {
    static func key(in path: String, label: String, other: String, otherHint: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BackupError(.badKeyFile, "cannot read the key file \(path); check the path and its permissions")
        }
        for line in String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline) {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let first = words.first, !first.hasPrefix("#") else { continue }
            if first == other { throw BackupError(.badKeyFile, "\(path): \(otherHint)") }
            if first == label, words.count == 2, let raw = Data(base64Encoded: String(words[1])), raw.count == 32 { return raw }
            break
        }
        throw BackupError(.badKeyFile, "\(path) is not a CaseSync backup key; make a key pair with `casesyncd keygen --out FILE`")
    }
}
