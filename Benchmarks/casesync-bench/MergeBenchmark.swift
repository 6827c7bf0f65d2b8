import ArgumentParser
import SyncModel

/// `casesync-bench merge`: the first sync and a delta sync between two replicas, in memory.
///
/// Replica A creates N case records of 10 fields; replica B, empty, receives A's canonical
/// JSON and decodes and merges every state (timed: `full_merge_s`). Then A and B each edit
/// 10 % of the records, half of them the same records and the same field (conflicts), and
/// each decodes and merges the other's changed states (timed: `delta_merge_s`). Encoding on
/// the sending side is timed apart (`encode_s`). One thread throughout.
///
/// This machine's timings vary by ±50 % between identical runs, so each timed phase runs
/// `--rounds` times from the same inputs; the JSON reports the median and the first (cold)
/// round of the full merge.
struct MergeBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "merge", abstract: "Merge N two-replica case records (first sync, then 10 % concurrent edits).")

    @Option(help: "Number of case records.")
    var records = 100_000

    @Option(help: "Times each timed phase is repeated; the median is reported.")
    var rounds = 5

    @Option(help: "Seed for ids and values.")
    var seed: UInt64 = 42

    func validate() throws {
        guard records >= 20 else { throw ValidationError("--records must be at least 20") }
        guard rounds >= 1 else { throw ValidationError("--rounds must be at least 1") }
    }

    func run() throws {
        var random = BenchRandom(seed: seed)
        let deviceA = try DeviceID("replica-a")
        let deviceB = try DeviceID("replica-b")
        var counterA = 0
        var counterB = 0
        let baseTime: Int64 = 1_763_800_000_000

        var replicaA: [RecordState] = []
        replicaA.reserveCapacity(records)
        for index in 0..<records {
            counterA += 1
            var state = RecordState(type: .case, id: RecordID.make(milliseconds: baseTime + Int64(index), using: &random))
            try state.apply(CaseFixture.fields(index: index), stamp: Stamp(device: deviceA, counter: counterA, time: baseTime + Int64(index)))
            replicaA.append(state)
        }

        let encodeStart = ContinuousClock.now
        let wire = replicaA.map { $0.canonicalJSON() }
        let encodeSeconds = (ContinuousClock.now - encodeStart).seconds
        let wireBytes = wire.reduce(0) { $0 + $1.count }

        // First sync: B knows nothing and receives every state.
        var replicaB: [RecordID: RecordState] = [:]
        var fullTimes: [Double] = []
        for _ in 0..<rounds {
            replicaB = [:]
            let start = ContinuousClock.now
            replicaB.reserveCapacity(records)
            for bytes in wire { try Self.receive(bytes, into: &replicaB) }
            fullTimes.append((ContinuousClock.now - start).seconds)
        }

        // Both sides edit 10 %: A the first 10 %, B the last 5 % of those plus another 5 %.
        let editCount = records / 10
        let overlap = editCount / 2
        let editedByA = Array(0..<editCount)
        let editedByB = Array((editCount - overlap)..<(2 * editCount - overlap))
        for index in editedByA {
            counterA += 1
            try replicaA[index].apply([.set("title", .text("Title revised on A \(index)")), .set("status", .text("negotiation"))],
                                      stamp: Stamp(device: deviceA, counter: counterA, time: baseTime + 10_000_000))
        }
        var changedOnB: [RecordState] = []
        for index in editedByB {
            counterB += 1
            let id = replicaA[index].id
            guard var state = replicaB[id] else { throw ValidationError("replica B lacks record \(id)") }
            try state.apply([.set("title", .text("Title revised on B \(index)")), .set("site", .text("Site B"))],
                            stamp: Stamp(device: deviceB, counter: counterB, time: baseTime + 10_000_001))
            replicaB[id] = state
            changedOnB.append(state)
        }
        let wireFromA = editedByA.map { replicaA[$0].canonicalJSON() }
        let wireFromB = changedOnB.map { $0.canonicalJSON() }

        var deltaTimes: [Double] = []
        var mergedA = replicaA
        var mergedB = replicaB
        var byID: [RecordID: RecordState] = [:]
        for _ in 0..<rounds {
            var roundA = Dictionary(uniqueKeysWithValues: replicaA.map { ($0.id, $0) })
            var roundB = replicaB
            // Make each copy unique before the clock starts, so the timed loop measures merging only.
            roundA.reserveCapacity(roundA.count + 1)
            roundB.reserveCapacity(roundB.count + 1)
            let start = ContinuousClock.now
            for bytes in wireFromA { try Self.receive(bytes, into: &roundB) }
            for bytes in wireFromB { try Self.receive(bytes, into: &roundA) }
            deltaTimes.append((ContinuousClock.now - start).seconds)
            byID = roundA
            mergedB = roundB
        }
        mergedA = replicaA.map { byID[$0.id] ?? $0 }

        // Check the outcome: both replicas agree byte for byte, and conflicts are exactly the overlap.
        var conflicts = 0
        for state in mergedA {
            guard mergedB[state.id]?.canonicalJSON() == state.canonicalJSON() else {
                throw ValidationError("replicas disagree on \(state.id)")
            }
            if state.hasConflicts { conflicts += 1 }
        }
        guard conflicts == overlap else { throw ValidationError("expected \(overlap) conflicts, found \(conflicts)") }

        let full = median(fullTimes)
        let delta = median(deltaTimes)
        print("records: \(records), wire: \(wireBytes / 1_000_000) MB canonical JSON (\(wireBytes / records) bytes/record), rounds: \(rounds)")
        print("encode on A: \(format(encodeSeconds)) s")
        print("first sync, decode+merge on B: median \(format(full)) s (target < 1.0); rounds: \(fullTimes.map(format).joined(separator: ", "))")
        print("delta, \(wireFromA.count) + \(wireFromB.count) states decode+merge: median \(format(delta)) s (target < 0.1); rounds: \(deltaTimes.map(format).joined(separator: ", "))")
        print("conflicts: \(conflicts); replicas identical")
        print(#"{"bench":"merge","records":\#(records),"full_merge_s":\#(format(full)),"delta_merge_s":\#(format(delta)),"conflicts":\#(conflicts),"full_merge_cold_s":\#(format(fullTimes[0])),"encode_s":\#(format(encodeSeconds)),"wire_bytes":\#(wireBytes),"rounds":\#(rounds)}"#)
    }

    /// What a replica does with a state it receives: decode (validating) and merge.
    static func receive(_ bytes: [UInt8], into replica: inout [RecordID: RecordState]) throws {
        let received = try RecordState(json: bytes)
        if let index = replica.index(forKey: received.id) {
            try replica.values[index].merge(received)
        } else {
            replica[received.id] = received
        }
    }
}

/// Ten fields of a realistic case, varied by index.
enum CaseFixture {
    static let kinds = ["clinical-dispute", "malpractice", "workplace-conduct", "family-clinician", "other"]
    static let sites = ["North Hospital", "South Clinic", "East Wing", "Children's Ward", "Outpatients"]

    static func fields(index: Int) -> [FieldChange] {
        [
            .set("reference", .text("MED-2026-\(String(index, radix: 16).uppercased())")),
            .set("title", .text("Dispute about discharge planning, case \(index)")),
            .set("kind", .text(kinds[index % kinds.count])),
            .set("site", .text(sites[index % sites.count])),
            .set("status", .text("intake")),
            .set("confidentiality", .text(isRestricted(index: index) ? "restricted" : "standard")),
            .add("mediators", "mediator\(index % 40)"),
            .set("opened", .text("2026-\(twoDigits(1 + index % 12))-\(twoDigits(1 + index % 28))")),
            .set("objectives", .text("Agree a written apology and a review of the discharge checklist.")),
            .set("successCriteria", .text("Checklist reviewed within 30 days; family confirms receipt of apology.")),
        ]
    }

    /// Whether case `index` is restricted (one in seven).
    static func isRestricted(index: Int) -> Bool { index % 7 == 0 }

    static func twoDigits(_ value: Int) -> String {
        value < 10 ? "0\(value)" : String(value)
    }
}
