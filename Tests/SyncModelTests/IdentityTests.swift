import Testing
@testable import SyncModel

struct IdentityTests {
    @Test func recordIDsAreVersion7AndOrderedByCreationTime() throws {
        var generator = SeededGenerator(seed: 1)
        let earlier = RecordID.make(milliseconds: 1_763_800_000_000, using: &generator)
        let later = RecordID.make(milliseconds: 1_763_800_000_001, using: &generator)
        #expect(earlier < later)
        #expect(RecordID.isValid(earlier.rawValue))
        #expect(Array(earlier.rawValue)[14] == "7")
        #expect("89ab".contains(Array(earlier.rawValue)[19]))
        #expect(earlier.milliseconds == 1_763_800_000_000)
        #expect(throws: ModelError.self) { try RecordID("0192F0C4-7D3E-7A41-9B2C-000000000001") }
    }

    /// The word-at-a-time parser against a byte-by-byte one, on ids with every position
    /// changed to every byte value: it must accept exactly lowercase UUIDs and read them right.
    @Test func recordIDTextParsesExactlyLowercaseUUIDs() {
        func reference(_ bytes: [UInt8]) -> RecordID? {
            guard bytes.count == 36 else { return nil }
            var high: UInt64 = 0
            var low: UInt64 = 0
            var nibbles = 0
            for (index, byte) in bytes.enumerated() {
                if [8, 13, 18, 23].contains(index) {
                    guard byte == UInt8(ascii: "-") else { return nil }
                    continue
                }
                guard let value = "0123456789abcdef".utf8.firstIndex(of: byte).map({ "0123456789abcdef".utf8.distance(from: "0123456789abcdef".utf8.startIndex, to: $0) }) else { return nil }
                if nibbles < 16 { high = high << 4 | UInt64(value) } else { low = low << 4 | UInt64(value) }
                nibbles += 1
            }
            return RecordID(high: high, low: low)
        }
        var generator = SeededGenerator(seed: 7)
        var accepted = 0
        for _ in 0..<8 {
            let id = RecordID(high: generator.next(), low: generator.next())
            let text = Array(id.rawValue.utf8)
            #expect(text.withUnsafeBufferPointer { RecordID.parse(bytes: $0) } == id)
            for position in 0..<36 {
                for value in 0...255 {
                    var mutant = text
                    mutant[position] = UInt8(value)
                    let parsed = mutant.withUnsafeBufferPointer { RecordID.parse(bytes: $0) }
                    #expect(parsed == reference(mutant), "byte \(value) at \(position) of \(id)")
                    if parsed != nil { accepted += 1 }
                }
            }
        }
        // Each position takes 16 digits (or only the hyphen): the test reached both outcomes.
        #expect(accepted == 8 * (32 * 16 + 4))
        #expect(RecordID.parse("0192f0c4-7d3e-7a41-9b2c-5e8f00a1b2c") == nil)
    }

    @Test func randomIDsDoNotCollide() {
        var generator = SeededGenerator(seed: 2)
        let ids = (0..<10_000).map { _ in RecordID.make(milliseconds: 1_763_800_000_000, using: &generator) }
        #expect(Set(ids).count == ids.count)
        let devices = (0..<10_000).map { _ in DeviceID.random(using: &generator) }
        #expect(Set(devices).count == devices.count)
        #expect(devices.allSatisfy { DeviceID.isValid($0.rawValue) && $0.rawValue.count == 12 })
    }

    @Test("device ids accept only the documented alphabet", arguments: [
        ("ann-laptop", true), ("server", true), ("a.b_c-9", true), ("Ann", false), ("-ann", false), ("", false), ("ann laptop", false),
        (String(repeating: "a", count: 64), true), (String(repeating: "a", count: 65), false),
    ])
    func deviceIDs(text: String, valid: Bool) {
        #expect(DeviceID.isValid(text) == valid)
        #expect(((try? DeviceID(text)) != nil) == valid)
    }
}
