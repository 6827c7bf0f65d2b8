import Testing
@testable import SyncModel

/// The properties every replica relies on, checked over thousands of random histories:
/// convergence to identical bytes, the merge algebra, and that no write is ever lost.
struct MergePropertyTests {
    /// 40 chunks × 60 seeds = 2,400 random histories (3–5 devices, 1–3 records, 80 steps).
    static let chunks = Array(0..<40)
    static let seedsPerChunk: UInt64 = 60

    /// Each chunk's histories are run once and shared by every property below.
    static let cache: [Result<[(seed: UInt64, simulation: Simulation)], any Error>] = chunks.map { chunk in
        Result { try run(chunk: chunk) }
    }

    static func histories(chunk: Int) throws -> [(seed: UInt64, simulation: Simulation)] {
        try cache[chunk].get()
    }

    static func run(chunk: Int) throws -> [(seed: UInt64, simulation: Simulation)] {
        try (0..<seedsPerChunk).map { offset in
            let seed = UInt64(chunk) * seedsPerChunk + offset
            var simulation = Simulation(seed: seed, devices: 3 + Int(seed % 3), records: 1 + Int(seed % 3))
            try simulation.run(steps: 80)
            return (seed, simulation)
        }
    }

    @Test("every replica converges to byte-identical canonical JSON", arguments: chunks)
    func replicasConverge(chunk: Int) throws {
        for (seed, simulation) in try Self.histories(chunk: chunk) {
            let first = simulation.replicas[0].states
            for replica in simulation.replicas.dropFirst() {
                #expect(Set(replica.states.keys) == Set(first.keys), "seed \(seed): replicas know different records")
                for (id, state) in replica.states {
                    #expect(state.canonicalJSON() == first[id]?.canonicalJSON(), "seed \(seed): \(replica.device) differs on \(id)")
                }
            }
        }
    }

    @Test("no write is lost: each is present or overwritten by a write that had seen it", arguments: chunks)
    func noWriteIsLost(chunk: Int) throws {
        for (seed, simulation) in try Self.histories(chunk: chunk) {
            let final = simulation.replicas[0].states
            for write in simulation.writes {
                guard let state = final[write.record] else {
                    Issue.record("seed \(seed): record \(write.record) vanished")
                    continue
                }
                let present = Simulation.dots(in: state, at: write.place).contains(write.dot)
                let overwritten = simulation.writes.contains {
                    $0.record == write.record && $0.place == write.place && $0.dot != write.dot && $0.seen.contains(write.dot)
                }
                // A remove leaves no value to find; it only counts as overwriting others.
                #expect(present || overwritten || write.value == nil, "seed \(seed): write \(write.dot) to \(write.place) was lost")
            }
        }
    }

    @Test("what survives was written, and survivors of one field are exactly the concurrent writes", arguments: chunks)
    func survivorsAreConcurrentWrites(chunk: Int) throws {
        for (seed, simulation) in try Self.histories(chunk: chunk) {
            var byPlaceAndDot: [String: Simulation.Write] = [:]
            for write in simulation.writes { byPlaceAndDot["\(write.record)|\(write.place)|\(write.dot)"] = write }
            for state in simulation.replicas[0].states.values {
                for field in state.fields {
                    if case let .register(register) = field.state {
                        let writes = register.entries.map { byPlaceAndDot["\(state.id)|\(field.name)|\($0.dot)"] }
                        for (entry, write) in zip(register.entries, writes) {
                            #expect(write?.value == entry.value, "seed \(seed): \(field.name) holds \(entry.dot) that nobody wrote")
                        }
                        let known = writes.compactMap { $0 }
                        for left in known {
                            for right in known where left.dot != right.dot {
                                #expect(!left.seen.contains(right.dot), "seed \(seed): \(field.name) keeps \(right.dot) although \(left.dot) had seen it")
                            }
                        }
                    }
                }
            }
        }
    }

    @Test("merge is commutative, associative and idempotent on states from real histories", arguments: chunks)
    func mergeAlgebra(chunk: Int) throws {
        for (seed, simulation) in try Self.histories(chunk: chunk) {
            var generator = SeededGenerator(seed: seed ^ 0xA5A5)
            for states in simulation.snapshots.values where states.count >= 3 {
                for _ in 0..<10 {
                    let a = states.randomElement(using: &generator)!
                    let b = states.randomElement(using: &generator)!
                    let c = states.randomElement(using: &generator)!
                    #expect(try a.merged(with: b) == b.merged(with: a), "seed \(seed): not commutative")
                    #expect(try a.merged(with: b).merged(with: c) == a.merged(with: b.merged(with: c)), "seed \(seed): not associative")
                    #expect(try a.merged(with: a) == a, "seed \(seed): not idempotent")
                    #expect(try a.merged(with: b).merged(with: b) == a.merged(with: b), "seed \(seed): re-delivery changed the result")
                }
            }
        }
    }

    /// `merged(with:)` gives one side back when the merge's plan says it survives whole;
    /// the result must be what building the merge gives, byte for byte, and both paths
    /// must be taken.
    @Test("giving one side back is exactly what the built merge gives", arguments: Array(0..<10))
    func givenSideMatchesBuiltMerge(chunk: Int) throws {
        var given = 0
        var built = 0
        for (seed, simulation) in try Self.histories(chunk: chunk) {
            for states in simulation.snapshots.values {
                for a in states where a.deletion.isEmpty {
                    for b in states where b.deletion.isEmpty {
                        var full = RecordState(type: a.type, id: a.id)
                        full.table = FieldTable.merge(a.table, seenBy: a.version, b.table, seenBy: b.version, alwaysBuild: true).table(left: a.table, right: b.table)
                        full.version = a.version.joined(with: b.version)
                        let result = FieldTable.merge(a.table, seenBy: a.version, b.table, seenBy: b.version)
                        switch result {
                        case .left:
                            given += 1
                            #expect(a.table.holdsSameWrites(as: full.table), "seed \(seed): gave the left side wrongly")
                        case .right:
                            given += 1
                            #expect(b.table.holdsSameWrites(as: full.table), "seed \(seed): gave the right side wrongly")
                        case .built:
                            built += 1
                        }
                        #expect(try a.merged(with: b).canonicalJSON() == full.canonicalJSON(), "seed \(seed): giving a side changed a merge")
                    }
                }
            }
        }
        #expect(given > 100 && built > 100, "both paths should be exercised (\(given) given, \(built) built)")
    }

    @Test("conflicts are reported identically on every replica", arguments: Array(0..<5))
    func conflictsAgree(chunk: Int) throws {
        var sawConflict = false
        for (seed, simulation) in try Self.histories(chunk: chunk) {
            for (id, state) in simulation.replicas[0].states {
                sawConflict = sawConflict || state.hasConflicts
                #expect(state.hasConflicts == !state.conflicts.isEmpty)
                for replica in simulation.replicas.dropFirst() {
                    #expect(replica.states[id]?.conflicts == state.conflicts, "seed \(seed)")
                }
            }
        }
        #expect(sawConflict, "the histories should exercise conflicts")
    }
}
