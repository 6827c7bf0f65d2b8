import CRecordCipher
import Foundation

/// AES-256-GCM under one key with a context kept for the key's lifetime (`CRecordCipher`,
/// OpenSSL's libcrypto): a value costs a fraction of a microsecond instead of the 2.9 µs of
/// a fresh swift-crypto `AES.GCM` call (measured: `casesync-bench seal`). The output is
/// AES.GCM's combined form, so either opens what the other sealed.
///
/// One OpenSSL context serves one call at a time: calls take the lock, which is uncontended
/// in the CLI (a command is one thread of work); `@unchecked Sendable` because the context
/// pointer is only used under it.
final class RecordCipher: @unchecked Sendable {
    private let context: OpaquePointer
    private let lock = NSLock()
    /// Random nonces, drawn 256 at a time (one DRBG call instead of one per value), used once each.
    private var nonces: [UInt8] = []
    private var nextNonce = 0
    private static let noncesPerDraw = 256

    /// nil when OpenSSL cannot make a context (out of memory).
    init?(key: [UInt8]) {
        guard key.count == 32, let context = key.withUnsafeBufferPointer({ crecordcipher_new($0.baseAddress) }) else { return nil }
        self.context = context
    }

    deinit { crecordcipher_free(context) }

    /// `prefix` ‖ nonce (12) ‖ ciphertext ‖ tag (16) of `plaintext`, `aad` authenticated;
    /// nil if OpenSSL failed.
    func seal(_ plaintext: [UInt8], aad: [UInt8], prefix: UInt8) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: 1 + plaintext.count + 28)
        out[0] = prefix
        let sealed: Int32 = lock.withLock {
            if nextNonce == nonces.count {
                var fresh = [UInt8](repeating: 0, count: 12 * Self.noncesPerDraw)
                guard fresh.withUnsafeMutableBufferPointer({ crecordcipher_random($0.baseAddress, $0.count) }) == 1 else { return 0 }
                nonces = fresh
                nextNonce = 0
            }
            // Each nonce is taken once: copied out, then the pool moves past it.
            for index in 0..<12 { out[1 + index] = nonces[nextNonce + index] }
            nextNonce += 12
            return out.withUnsafeMutableBufferPointer { output in
                plaintext.withUnsafeBufferPointer { input in
                    aad.withUnsafeBufferPointer { associated in
                        crecordcipher_seal(context, associated.baseAddress, associated.count, input.baseAddress, input.count, output.baseAddress.map { $0 + 1 })
                    }
                }
            }
        }
        return sealed == 1 ? out : nil
    }

    /// The plaintext of `sealed` (nonce ‖ ciphertext ‖ tag) with `aad`; nil unless the tag verifies.
    func open(_ sealed: ArraySlice<UInt8>, aad: [UInt8]) -> [UInt8]? {
        guard sealed.count >= 28 else { return nil }
        var out = [UInt8](repeating: 0, count: sealed.count - 28)
        let opened: Int32 = lock.withLock {
            out.withUnsafeMutableBufferPointer { output in
                sealed.withUnsafeBufferPointer { input in
                    aad.withUnsafeBufferPointer { associated in
                        crecordcipher_open(context, associated.baseAddress, associated.count, input.baseAddress, input.count, output.baseAddress)
                    }
                }
            }
        }
        return opened == 1 ? out : nil
    }
}
