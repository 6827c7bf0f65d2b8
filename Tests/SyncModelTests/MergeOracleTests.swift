import Testing
@testable import SyncModel

/// The flat merge against the merge rule restated over the public values (PROTOCOL.md §3),
/// on arbitrary states rather than states from real histories: one dot holding different
/// contents on the two sides, a field that is a register on one side and a set on the other,
/// fields with no writes, names the schema does not know, dots above the version vector and
/// devices only one side has met. Validation refuses such states, but the merge must still
/// follow its rule on them, in either argument order.
struct MergeOracleTests {
    static let deviceNames = ["ann-laptop", "bob-laptop", "cy-phone"]
    static let fieldNames = ["aa-unknown", "attendees", "mediators", "site", "title", "zz-unknown"]

    /// A state with random fields, writes and version vector, drawn from small pools so that
    /// two states often share dots, values and field names.
    static func randomState(using generator: inout SeededGenerator) -> RecordState {
        var builder = FieldTableBuilder()
        func stamps(_ range: ClosedRange<Int>) -> [Stamp] {
            var dots: [(String, Int)] = []
            for _ in 0..<Int.random(in: range, using: &generator) {
                let dot = (deviceNames.randomElement(using: &generator)!, Int.random(in: 1...3, using: &generator))
                if !dots.contains(where: { $0 == dot }) { dots.append(dot) }
            }
            return dots.map { Stamp(device: Fixtures.device($0.0), counter: $0.1, time: Int64.random(in: 100...101, using: &generator)) }
        }
        for name in fieldNames where generator.chance(0.7) {
            let isSet = generator.chance(0.4)
            builder.beginField(named: name, isSet: isSet)
            if generator.chance(0.05) {
                // A field with no writes, as only a decoded state can hold.
            } else if isSet {
                for element in ["x", "y", "zz"] where generator.chance(0.6) {
                    for stamp in stamps(1...2) { builder.append(stamp, value: .text(element)) }
                }
            } else {
                let values: [FieldValue] = [.text("p"), .text("q"), .integer(1), .integer(2), .boolean(true)]
                for stamp in stamps(1...3) { builder.append(stamp, value: values.randomElement(using: &generator)!) }
            }
            builder.endField()
        }
        var state = RecordState(type: .case, id: Fixtures.recordID(1))
        state.table = builder.finish()
        state.version = VersionVector(deviceNames.compactMap { name in
            let counter = Int.random(in: 0...3, using: &generator)
            return counter == 0 ? nil : Dot(device: Fixtures.device(name), counter: counter)
        })
        return state
    }

    /// The rule over items identified by dots: each item both sides hold (the preferred one
    /// when their contents differ), and each item one side holds that the other has not seen.
    static func mergeByDot<Item>(_ left: [Item], seenByLeft: VersionVector, _ right: [Item], seenByRight: VersionVector,
                                 dot: (Item) -> Dot, precedes: (Item, Item) -> Bool) -> [Item] {
        var result: [Item] = []
        for item in left {
            if let other = right.first(where: { dot($0) == dot(item) }) {
                result.append(precedes(other, item) ? other : item)
            } else if !seenByRight.contains(dot(item)) {
                result.append(item)
            }
        }
        for item in right where !left.contains(where: { dot($0) == dot(item) }) && !seenByLeft.contains(dot(item)) {
            result.append(item)
        }
        return result.sorted { dot($0) < dot($1) }
    }

    /// The merged fields as the rule states them, field by field over the public values.
    static func oracle(_ a: RecordState, _ b: RecordState) -> [RecordField] {
        let left = Dictionary(uniqueKeysWithValues: a.table.fields.map { ($0.name, $0.state) })
        let right = Dictionary(uniqueKeysWithValues: b.table.fields.map { ($0.name, $0.state) })
        func entries(_ state: FieldState?) -> [RegisterEntry] {
            if case let .register(register)? = state { return Array(register.entries) }
            return []
        }
        func elements(_ state: FieldState?) -> [AddWinsSet.Element] {
            if case let .set(set)? = state { return set.elements }
            return []
        }
        func mergedRegister(_ left: [RegisterEntry], _ right: [RegisterEntry]) -> FieldState? {
            let merged = mergeByDot(left, seenByLeft: a.version, right, seenByRight: b.version, dot: \.dot) {
                $0.value != $1.value ? $0.value < $1.value : $0.stamp.time < $1.stamp.time
            }
            return merged.isEmpty ? nil : .register(Register(entries: merged))
        }
        var fields: [RecordField] = []
        for name in Set(left.keys).union(right.keys).sorted(by: utf8Precedes) {
            let merged: FieldState?
            switch (left[name], right[name]) {
            case (.set?, .set?), (.set?, nil), (nil, .set?):
                var members: [AddWinsSet.Element] = []
                let leftElements = elements(left[name])
                let rightElements = elements(right[name])
                for value in Set((leftElements + rightElements).map(\.value)).sorted(by: utf8Precedes) {
                    let stamps = mergeByDot(Array(leftElements.first { $0.value == value }?.stamps ?? []), seenByLeft: a.version,
                                            Array(rightElements.first { $0.value == value }?.stamps ?? []), seenByRight: b.version,
                                            dot: \.dot) { $0.time < $1.time }
                    if !stamps.isEmpty { members.append(AddWinsSet.Element(value: value, stamps: stamps)) }
                }
                merged = members.isEmpty ? nil : .set(AddWinsSet(elements: members))
            case (.register?, .set?):
                // A kind mismatch: the register side's writes the other has not seen.
                merged = mergedRegister(entries(left[name]), [])
            case (.set?, .register?):
                merged = mergedRegister([], entries(right[name]))
            default:
                merged = mergedRegister(entries(left[name]), entries(right[name]))
            }
            if let merged { fields.append(RecordField(name: name, state: merged)) }
        }
        return fields
    }

    /// States without fields: a record nobody has written, and one whose only write deleted it.
    @Test func statesWithoutFieldsMerge() throws {
        let empty = RecordState(type: .case, id: Fixtures.recordID(1))
        var deleted = empty
        try deleted.delete(stamp: Fixtures.stamp("ann-laptop", 1))
        #expect(try empty.merged(with: empty) == empty)
        #expect(try empty.merged(with: deleted) == deleted)
        #expect(try deleted.merged(with: empty) == deleted)
        #expect(try deleted.merged(with: deleted) == deleted)
        #expect(try deleted.merged(with: empty).isDeleted)
    }

    @Test("the merge follows its rule on arbitrary states, in either order", arguments: 0..<8)
    func mergeFollowsTheRule(chunk: Int) throws {
        var given = 0
        var built = 0
        var kindMismatches = 0
        for seed in UInt64(chunk * 250)..<UInt64(chunk * 250 + 250) {
            var generator = SeededGenerator(seed: seed)
            let states = (0..<4).map { _ in Self.randomState(using: &generator) }
            for a in states {
                for b in states {
                    let expected = Self.oracle(a, b)
                    let merged = try a.merged(with: b)
                    #expect(merged.table.fields == expected, "seed \(seed): \(a.canonicalText) + \(b.canonicalText)")
                    #expect(try b.merged(with: a) == merged, "seed \(seed): not commutative")
                    let full = FieldTable.merge(a.table, seenBy: a.version, b.table, seenBy: b.version, alwaysBuild: true)
                    #expect(full.table(left: a.table, right: b.table).fields == expected, "seed \(seed): the built merge differs")
                    switch FieldTable.merge(a.table, seenBy: a.version, b.table, seenBy: b.version) {
                    case .left:
                        given += 1
                        #expect(a.table.fields == expected, "seed \(seed): gave the left side wrongly")
                    case .right:
                        given += 1
                        #expect(b.table.fields == expected, "seed \(seed): gave the right side wrongly")
                    case .built:
                        built += 1
                    }
                    let names = a.table.fields.filter { field in b.table.fields.contains { $0.name == field.name && $0.state.kind != field.state.kind } }
                    if !names.isEmpty { kindMismatches += 1 }
                }
            }
        }
        #expect(given > 100 && built > 100 && kindMismatches > 100, "\(given) given, \(built) built, \(kindMismatches) with a kind mismatch")
    }
}
