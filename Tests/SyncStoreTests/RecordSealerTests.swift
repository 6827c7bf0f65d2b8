import Crypto
import Foundation
@testable import SyncStore
import Testing

/// `RecordSealer`'s format is AES-GCM's combined form behind a version byte (PROTOCOL.md
/// §16), whichever library seals: what OpenSSL's context seals, swift-crypto opens, and back.
struct RecordSealerTests {
    @Test func sealedValuesOpenWithSwiftCryptoAndTheOtherWayRoundAndRefuseAnyChange() throws {
        let key = DataKey.random()
        let sealer = RecordSealer(key: key)
        let swiftKey = SymmetricKey(data: key.rawBytes)
        for size in [0, 1, 15, 16, 17, 60, 1000, 70_000] {
            let value = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            let place = "record:\(size)"
            let sealed = try sealer.seal(value, place: place)
            #expect(sealed.count == 1 + 12 + size + 16 && sealed.first == 1)
            let box = try AES.GCM.SealedBox(combined: sealed.dropFirst())
            #expect(Array(try AES.GCM.open(box, using: swiftKey, authenticating: Data(place.utf8))) == value, "swift-crypto opens \(size) bytes")
            let other = try AES.GCM.seal(value, using: swiftKey, authenticating: Data(place.utf8))
            #expect(try sealer.open([1] + [UInt8](try #require(other.combined)), place: place) == value, "and the sealer opens swift-crypto's")
            #expect(try sealer.open(sealed, place: place) == value)
            #expect(throws: StoreError.self) { try sealer.open(sealed, place: "record:other") }
            for index in [1, 13, sealed.count - 1] where index < sealed.count {
                var damaged = sealed
                damaged[index] ^= 0x80
                #expect(throws: StoreError.self, "a flipped bit at \(index) of \(size) bytes") { try sealer.open(damaged, place: place) }
            }
        }
        let first = try sealer.seal([1, 2, 3], place: "p")
        let second = try sealer.seal([1, 2, 3], place: "p")
        #expect(first != second, "a fresh nonce each time")
    }
}
