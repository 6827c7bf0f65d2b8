import Testing
@testable import SyncModel

/// A table's slots, writes and text live in one buffer. The builder (the general reader, local
/// writes) sizes it by estimate and grows it when a part outgrows it; the fast reader's
/// scratch has room for 32 writes on the stack and moves to the heap beyond. These states
/// outgrow every part of the builder's first estimate and the scratch's stack room.
struct FieldStorageTests {
    /// Forty set elements (writes), every text field of a case (slots) and a long outcome
    /// (text), written by two devices concurrently.
    static func largeStates() throws -> (RecordState, RecordState) {
        let schema = RecordSchema.for(.case)
        let base = RecordState(type: .case, id: Fixtures.recordID(7))
        var ann = base
        var changes: [FieldChange] = (0..<40).map { .add("mediators", "mediator-\($0)") }
        for spec in schema.fields where spec.kind == .register {
            if case .text = spec.valueType, spec.name != "outcome" { changes.append(.set(spec.name, .text("text of \(spec.name)"))) }
        }
        changes.append(.set("outcome", .text(String(repeating: "A long outcome, agreed line by line. ", count: 200))))
        try ann.apply(changes, stamp: Fixtures.stamp("ann-laptop", 1))
        var bob = base
        try bob.apply((0..<30).map { .add("mediators", "bob-\($0)") } + [.set("outcome", .text(String(repeating: "Bob's outcome. ", count: 300)))],
                      stamp: Fixtures.stamp("bob-laptop", 1))
        return (ann, bob)
    }

    @Test func aStateThatOutgrowsTheFirstRoomReadsAsTheGeneralReaderReadsIt() throws {
        let (ann, bob) = try Self.largeStates()
        for state in [ann, bob, try ann.merged(with: bob)] {
            let bytes = state.canonicalJSON()
            let fast = try JSONReader.read(bytes) { reader throws(ModelError) in reader.readCanonicalState() }
            let general = try JSONReader.read(bytes) { reader throws(ModelError) in try RecordState.readAnySpelling(from: &reader, validate: true) }
            #expect(fast == state)
            #expect(general == state)
            #expect(fast?.canonicalJSON() == bytes)
        }
    }

    @Test func aMergeThatOutgrowsTheFirstRoomKeepsEveryWrite() throws {
        let (ann, bob) = try Self.largeStates()
        let merged = try ann.merged(with: bob)
        #expect(merged == (try bob.merged(with: ann)))
        #expect(merged.members("mediators").count == 70)
        #expect(merged.table.writes.count == ann.table.writes.count + bob.table.writes.count)
        let conflict = try #require(merged.conflicts.first { $0.field == "outcome" })
        #expect(conflict.sides.count == 2)
        try merged.validate(requireComplete: false)
    }

    /// A state read from a pushed or pulled batch holds a buffer of exactly its own size,
    /// though the reader cannot tell from the input where the state ends.
    @Test func aStateReadFromABatchHoldsABufferOfItsOwnSize() throws {
        let states = try (0..<50).map { try Fixtures.newCase($0, title: "Case number \($0)") }
        let batch = Array("[".utf8) + states.map { $0.canonicalJSON() }.joined(separator: Array(",".utf8)) + Array("]".utf8)
        var read: [RecordState] = []
        try JSONReader.read(batch) { reader throws(ModelError) in
            try reader.readArray { reader throws(ModelError) in read.append(try RecordState.read(from: &reader)) }
        }
        #expect(read == states)
        for state in read {
            let counts = try #require(state.table.storage).counts
            let used = counts.slotCount * MemoryLayout<FieldSlot>.stride + counts.writeCount * MemoryLayout<FlatWrite>.stride + counts.textCount
            #expect(counts.textOffset + counts.textCapacity == used)
        }
    }

    /// The builder hands over its own buffer only when at most an eighth of it is unused;
    /// otherwise a copy of exactly the filled size, so a replica holding many states does
    /// not hold the builders' estimates.
    @Test func aFinishedTableWastesAtMostAnEighthOfItsBuffer() throws {
        let (ann, bob) = try Self.largeStates()
        var small = try Fixtures.newCase()
        try small.apply([.set("title", .text("x"))], stamp: Fixtures.stamp("bob-laptop", 1))
        for state in [ann, bob, try ann.merged(with: bob), small, try RecordState(json: small.canonicalJSON()), try RecordState(json: ann.canonicalJSON())] {
            let counts = try #require(state.table.storage).counts
            let size = counts.textOffset + counts.textCapacity
            let used = counts.slotCount * MemoryLayout<FieldSlot>.stride + counts.writeCount * MemoryLayout<FlatWrite>.stride + counts.textCount
            #expect(used <= size && (size - used) * 8 <= size, "\(size - used) of \(size) bytes unused")
        }
    }

    /// Tables share their buffer when a state is copied; writing to the copy leaves the
    /// original as it was.
    @Test func aCopiedStateIsIndependentOfItsOriginal() throws {
        let original = try Fixtures.newCase()
        let bytes = original.canonicalJSON()
        var copy = original
        try copy.apply([.set("title", .text("changed")), .add("mediators", "ann")], stamp: Fixtures.stamp("ann-laptop", 2))
        #expect(original.canonicalJSON() == bytes)
        #expect(copy.text("title") == "changed")
        #expect(original.text("title") == "Billing dispute")
    }
}
