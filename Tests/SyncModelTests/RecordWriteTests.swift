import Testing
@testable import SyncModel

struct RecordWriteTests {
    @Test func aWriteStampsEveryChangedFieldWithOneDotAndAdvancesTheVersion() throws {
        let state = try Fixtures.newCase(by: "ann-laptop", counter: 4)
        #expect(state.version[Fixtures.device("ann-laptop")] == 4)
        for name in ["reference", "title", "status"] {
            #expect(state.register(name)?.entries.map(\.dot) == [Dot(device: Fixtures.device("ann-laptop"), counter: 4)])
        }
        try state.validate()
    }

    @Test func concurrentEditsToDifferentFieldsMerge() throws {
        let base = try Fixtures.newCase()
        var ann = base
        var bob = base
        try ann.set("title", .text("Billing dispute — revised"), stamp: Fixtures.stamp("ann-laptop", 2))
        try bob.set("site", .text("North wing"), stamp: Fixtures.stamp("bob-laptop", 1))
        let merged = try ann.merged(with: bob)
        #expect(merged.text("title") == "Billing dispute — revised")
        #expect(merged.text("site") == "North wing")
        #expect(merged.conflicts.isEmpty)
    }

    @Test func aNewerStateMergesToItselfWhicheverSideItIsOn() throws {
        let base = try Fixtures.newCase()
        var newer = base
        try newer.set("title", .text("Billing dispute — revised"), stamp: Fixtures.stamp("bob-laptop", 1))
        for merged in [try base.merged(with: newer), try newer.merged(with: base)] {
            #expect(merged == newer)
            #expect(merged.canonicalJSON() == newer.canonicalJSON())
        }
    }

    /// A decoded state may hold a set field with no elements; merging drops such a field,
    /// so the merge must not hand that state back unchanged.
    @Test func aFieldWithNoWritesIsDroppedByEveryMerge() throws {
        let base = try Fixtures.newCase()
        var json = base.canonicalJSON()
        let fields = Array(#""fields":{"#.utf8)
        let at = try #require(json.indices.first { json[$0...].starts(with: fields) }) + fields.count
        json.insert(contentsOf: Array(#""mediators":{},"#.utf8), at: at)
        let withEmptySet = try RecordState(json: json)
        #expect(withEmptySet.table.slots.count == base.table.slots.count + 1)
        #expect(withEmptySet.canonicalJSON() != base.canonicalJSON())
        for merged in [try withEmptySet.merged(with: base), try base.merged(with: withEmptySet)] {
            #expect(merged.canonicalJSON() == base.canonicalJSON())
        }
    }

    @Test func concurrentEditsToOneFieldBecomeAConflictWithBothSides() throws {
        let base = try Fixtures.newCase()
        var ann = base
        var bob = base
        try ann.set("title", .text("Ann's title"), stamp: Fixtures.stamp("ann-laptop", 2))
        try bob.set("title", .text("Bob's title"), stamp: Fixtures.stamp("bob-laptop", 1))
        let merged = try ann.merged(with: bob)
        let conflict = try #require(merged.conflicts.first)
        #expect(conflict.field == "title")
        #expect(conflict.kind == .concurrentValues)
        #expect(conflict.sides.map(\.value) == [.text("Ann's title"), .text("Bob's title")])
        #expect(conflict.sides.map(\.stamp.dot.device.rawValue) == ["ann-laptop", "bob-laptop"])
    }

    @Test func theSameValueWrittenConcurrentlyIsNoConflict() throws {
        let base = try Fixtures.newCase()
        var ann = base
        var bob = base
        try ann.set("status", .text("closed"), stamp: Fixtures.stamp("ann-laptop", 2))
        try bob.set("status", .text("closed"), stamp: Fixtures.stamp("bob-laptop", 1))
        let merged = try ann.merged(with: bob)
        #expect(merged.conflicts.isEmpty)
        #expect(merged.register("status")?.entries.count == 2)
    }

    @Test func resolvingWritesAValueThatHasSeenEverySibling() throws {
        let base = try Fixtures.newCase()
        var ann = base
        var bob = base
        try ann.set("title", .text("A"), stamp: Fixtures.stamp("ann-laptop", 2))
        try bob.set("title", .text("B"), stamp: Fixtures.stamp("bob-laptop", 1))
        var merged = try ann.merged(with: bob)
        try merged.resolve("title", keeping: Fixtures.device("bob-laptop"), stamp: Fixtures.stamp("ann-laptop", 3))
        #expect(merged.conflicts.isEmpty)
        #expect(merged.text("title") == "B")
        // A replica still holding the conflict takes the resolution: it has seen both sides.
        #expect(try bob.merged(with: ann).merged(with: merged).conflicts.isEmpty)
    }

    @Test func deleteConcurrentWithAnEditIsAConflictNotALoss() throws {
        let base = try Fixtures.newCase()
        var ann = base
        var bob = base
        try ann.delete(stamp: Fixtures.stamp("ann-laptop", 2))
        try bob.set("outcome", .text("Apology agreed"), stamp: Fixtures.stamp("bob-laptop", 1))
        var merged = try ann.merged(with: bob)
        #expect(merged.isDeleted)
        #expect(merged.text("outcome") == "Apology agreed")
        let conflict = try #require(merged.conflicts.first)
        #expect(conflict.field == "deleted")
        #expect(conflict.kind == .deleteVersusEdit)
        #expect(conflict.sides.map(\.field) == ["deleted", "outcome"])

        try merged.resolve("deleted", keeping: Fixtures.device("bob-laptop"), stamp: Fixtures.stamp("ann-laptop", 3))
        #expect(!merged.isDeleted)
        #expect(merged.conflicts.isEmpty)
        #expect(merged.text("outcome") == "Apology agreed")
        #expect(merged.text("title") == "Billing dispute")
    }

    @Test func aDeleteThatHadSeenTheEditIsNoConflict() throws {
        var state = try Fixtures.newCase()
        try state.set("outcome", .text("Apology agreed"), stamp: Fixtures.stamp("bob-laptop", 1))
        try state.delete(stamp: Fixtures.stamp("ann-laptop", 2))
        #expect(state.isDeleted)
        #expect(state.conflicts.isEmpty)
    }

    @Test func setAddConcurrentWithRemoveKeepsTheElement() throws {
        var base = try Fixtures.newCase()
        try base.apply([.add("mediators", "ann")], stamp: Fixtures.stamp("ann-laptop", 2))
        var ann = base
        var bob = base
        try ann.apply([.remove("mediators", "ann")], stamp: Fixtures.stamp("ann-laptop", 3))
        try bob.apply([.add("mediators", "ann"), .add("mediators", "bob")], stamp: Fixtures.stamp("bob-laptop", 1))
        let merged = try ann.merged(with: bob)
        #expect(merged.set("mediators").members == ["ann", "bob"])
        #expect(merged.members("mediators") == ["ann", "bob"])
        #expect(merged.set("mediators").elements.first { $0.value == "ann" }?.stamps.count == 1)
        #expect(merged.conflicts.isEmpty)
        // A remove that had seen the add does remove.
        #expect(try base.merged(with: ann).set("mediators").members == [])
        #expect(try base.merged(with: ann).members("mediators") == [])
        #expect(merged.members("title") == [])
    }

    /// `FIELD=`: a clear drops the register and records only the write in `vv`, so a merge
    /// with a state it has seen drops the value there too, while a value written
    /// concurrently survives (as an add survives a concurrent remove).
    @Test func aClearDropsWhatItSawAndLosesToAConcurrentWrite() throws {
        var base = try Fixtures.newCase()
        try base.set("outcome", .text("Apology given"), stamp: Fixtures.stamp("ann-laptop", 2))
        var ann = base, bob = base
        try ann.apply([.clear("outcome")], stamp: Fixtures.stamp("ann-laptop", 3))
        #expect(ann.field("outcome") == nil)
        #expect(ann.version[Fixtures.device("ann-laptop")] == 3)
        try ann.validate()
        #expect(try base.merged(with: ann).field("outcome") == nil, "the cleared value does not come back")
        try bob.set("outcome", .text("Apology and checklist"), stamp: Fixtures.stamp("bob-laptop", 1))
        for merged in [try ann.merged(with: bob), try bob.merged(with: ann)] {
            #expect(merged.text("outcome") == "Apology and checklist")
            #expect(merged.conflicts.isEmpty)
        }
        var copy = base
        #expect(throws: ModelError.self) { try copy.apply([.clear("title")], stamp: Fixtures.stamp("ann-laptop", 3)) }
        #expect(throws: ModelError.self) { try copy.apply([.clear("mediators")], stamp: Fixtures.stamp("ann-laptop", 3)) }
        #expect(copy == base, "a refused clear changes nothing")
    }

    @Test func writesAreRefusedWithTypedErrorsAndChangeNothing() throws {
        let state = try Fixtures.newCase(counter: 5)
        func refused(_ expected: ModelError.Code, _ write: (inout RecordState) throws(ModelError) -> Void) {
            var copy = state
            do {
                try write(&copy)
                Issue.record("expected \(expected)")
            } catch {
                #expect(error.code == expected)
            }
            #expect(copy == state, "a refused write must change nothing")
        }
        refused(.staleStamp) { (state: inout RecordState) throws(ModelError) in try state.set("title", .text("x"), stamp: Fixtures.stamp("ann-laptop", 5)) }
        refused(.unknownField) { (state: inout RecordState) throws(ModelError) in try state.set("colour", .text("x"), stamp: Fixtures.stamp("ann-laptop", 6)) }
        refused(.invalidValue) { (state: inout RecordState) throws(ModelError) in try state.set("status", .text("paused"), stamp: Fixtures.stamp("ann-laptop", 6)) }
        refused(.invalidValue) { (state: inout RecordState) throws(ModelError) in try state.set("opened", .text("2026-02-30"), stamp: Fixtures.stamp("ann-laptop", 6)) }
        refused(.wrongValueType) { (state: inout RecordState) throws(ModelError) in try state.set("title", .integer(3), stamp: Fixtures.stamp("ann-laptop", 6)) }
        refused(.wrongFieldKind) { (state: inout RecordState) throws(ModelError) in try state.set("mediators", .text("ann"), stamp: Fixtures.stamp("ann-laptop", 6)) }
        refused(.wrongFieldKind) { (state: inout RecordState) throws(ModelError) in try state.apply([.add("title", "x")], stamp: Fixtures.stamp("ann-laptop", 6)) }
        refused(.invalidValue) { (state: inout RecordState) throws(ModelError) in try state.apply([.add("mediators", "Not A User")], stamp: Fixtures.stamp("ann-laptop", 6)) }
        // The second change is bad, so the first must not land either.
        refused(.invalidValue) { (state: inout RecordState) throws(ModelError) in
            try state.apply([.set("title", .text("fine")), .set("kind", .text("nonsense"))], stamp: Fixtures.stamp("ann-laptop", 6))
        }
        var deleted = state
        try deleted.delete(stamp: Fixtures.stamp("ann-laptop", 6))
        #expect(throws: ModelError.self) { try deleted.set("title", .text("x"), stamp: Fixtures.stamp("ann-laptop", 7)) }
    }

    @Test func workflowStagesNameTheDateTheyFill() {
        #expect(WorkflowStage.agreement.dateField == "agreed")
        #expect(WorkflowStage.closed.dateField == "closed")
        #expect(WorkflowStage.followUp.rawValue == "follow-up")
        #expect(WorkflowStage.allCases.count == 9)
    }
}
