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
