import Crypto
import Foundation

/// How a replica keeps at rest what can hold case content: record states, settings, the
/// metadata of restricted cases and break-glass reasons (PROTOCOL.md §16).
///
/// A plain sealer stores bytes as they are (the sync node, and replicas made with
/// `casesync init --no-encryption`). A sealing one encrypts each value with AES-GCM under
/// the replica's data key: `0x01 ‖ nonce (12) ‖ ciphertext ‖ tag (16)`, a fresh random nonce
/// per value, and the value's place (record id, setting name, …) as authenticated data, so a
/// ciphertext moved to another row does not open there.
package struct RecordSealer: Sendable {
    private let dataKey: DataKey?
    /// The key's cipher context (`RecordCipher`); nil when plain, or when OpenSSL could not
    /// make one, and then swift-crypto's `AES.GCM` seals (the same format, slower).
    private let cipher: RecordCipher?

    /// Stores values as they are.
    package static let plain = RecordSealer(dataKey: nil)

    /// Seals every value under `key`.
    package init(key: DataKey) {
        dataKey = key
        cipher = RecordCipher(key: key.rawBytes)
    }

    private init(dataKey: DataKey?) {
        self.dataKey = dataKey
        cipher = nil
    }

    private var key: SymmetricKey? { dataKey?.symmetricKey }

    /// The data key values are sealed under; nil when plain.
    package var sealingKey: DataKey? { dataKey }

    /// Whether values are encrypted.
    package var isSealing: Bool { dataKey != nil }

    /// The first byte of a sealed value; a plain record state starts with `{`.
    static let formatVersion: UInt8 = 1

    /// `plaintext` as stored: sealed under the data key with `place` authenticated, or as it is.
    package func seal(_ plaintext: some DataProtocol, place: String) throws -> [UInt8] {
        guard let key else { return Array(plaintext) }
        if let cipher {
            guard let sealed = cipher.seal(Array(plaintext), aad: Array(place.utf8), prefix: Self.formatVersion) else {
                throw StoreError(.corrupt, "cannot encrypt \(place): the cipher failed")
            }
            return sealed
        }
        do {
            let box = try AES.GCM.seal(plaintext, using: key, authenticating: Data(place.utf8))
            guard let combined = box.combined else { throw StoreError(.corrupt, "AES-GCM gave no combined form") }
            var stored = [UInt8]()
            stored.reserveCapacity(combined.count + 1)
            stored.append(Self.formatVersion)
            stored.append(contentsOf: combined)
            return stored
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.corrupt, "cannot encrypt \(place): \(type(of: error))")
        }
    }

    /// A stored value as its plaintext. A sealing sealer refuses a value that is not sealed,
    /// or whose tag does not verify (damaged, or moved from another place), naming `place`.
    package func open(_ stored: [UInt8], place: @autoclosure () -> String) throws -> [UInt8] {
        guard let key else { return stored }
        guard stored.first == Self.formatVersion, stored.count >= 1 + 12 + 16 else {
            throw StoreError(.corrupt, "\(place()) is stored unencrypted in an encrypted replica")
        }
        if let cipher {
            guard let opened = cipher.open(stored.dropFirst(), aad: Array(place().utf8)) else {
                throw StoreError(.corrupt, "\(place()) does not decrypt (damaged, or not this replica's)")
            }
            return opened
        }
        do {
            let box = try AES.GCM.SealedBox(combined: stored.dropFirst())
            return Array(try AES.GCM.open(box, using: key, authenticating: Data(place().utf8)))
        } catch {
            throw StoreError(.corrupt, "\(place()) does not decrypt (damaged, or not this replica's)")
        }
    }

    /// A text value as stored (nil stays nil).
    package func seal(text: String?, place: String) throws -> DatabaseBytes? {
        guard let text else { return nil }
        return isSealing ? .blob(try seal(Array(text.utf8), place: place)) : .text(text)
    }

    /// A stored text value (a blob when sealed) as its text.
    package func openText(_ stored: DatabaseBytes?, place: @autoclosure () -> String) throws -> String? {
        switch stored {
        case nil: return nil
        case .text(let text):
            guard !isSealing else { throw StoreError(.corrupt, "\(place()) is stored unencrypted in an encrypted replica") }
            return text
        case .blob(let bytes):
            return String(decoding: try open(bytes, place: place()), as: UTF8.self)
        }
    }

    /// Places, as the authenticated data names them.
    package enum Place {
        package static func record(_ id: String) -> String { "record:" + id }
        package static func listEntry(_ id: String) -> String { "list:" + id }
        package static func setting(_ key: String) -> String { "setting:" + key }
        package static func metadata(_ caseID: String, _ field: String) -> String { "metadata:\(caseID):\(field)" }
        package static func grant(_ caseID: String, _ user: String, _ seq: Int) -> String { "grant:\(caseID):\(user):\(seq)" }
    }
}

/// A column value as SQLite holds it: text in a plain replica, a blob when sealed.
package enum DatabaseBytes: Sendable, Hashable {
    case text(String)
    case blob([UInt8])
}

import GRDB

extension DatabaseBytes: DatabaseValueConvertible {
    package var databaseValue: DatabaseValue {
        switch self {
        case .text(let text): text.databaseValue
        case .blob(let bytes): Data(bytes).databaseValue
        }
    }

    package static func fromDatabaseValue(_ value: DatabaseValue) -> DatabaseBytes? {
        switch value.storage {
        case .string(let text): .text(text)
        case .blob(let data): .blob([UInt8](data))
        default: nil
        }
    }
}
