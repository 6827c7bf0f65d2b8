@testable import SyncModel

/// Small helpers that keep tests readable: device ids, record ids and stamps by name.
enum Fixtures {
    static func device(_ name: String) -> DeviceID {
        DeviceID(unchecked: name)
    }

    static func recordID(_ number: Int) -> RecordID {
        RecordID(high: 0x0192_f0c4_7d3e_7a41, low: 0x9b2c_0000_0000_0000 | UInt64(number))
    }

    static func stamp(_ device: String, _ counter: Int, at time: Int64 = 1_763_800_000_000) -> Stamp {
        Stamp(device: DeviceID(unchecked: device), counter: counter, time: time + Int64(counter) * 1000)
    }

    /// A case with its required fields, written as one write by `device` with `counter`.
    static func newCase(_ number: Int = 1, by device: String = "ann-laptop", counter: Int = 1, title: String = "Billing dispute") throws -> RecordState {
        var state = RecordState(type: .case, id: recordID(number))
        try state.apply([
            .set("reference", .text("MED-2026-0000-000\(number % 10)")),
            .set("title", .text(title)),
            .set("status", .text("intake")),
        ], stamp: stamp(device, counter))
        return state
    }
}

extension RecordState {
    var canonicalText: String { String(decoding: canonicalJSON(), as: UTF8.self) }
}
