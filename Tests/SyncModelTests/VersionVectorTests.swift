import Testing
@testable import SyncModel

struct VersionVectorTests {
    func vector(_ pairs: [(String, Int)]) -> VersionVector {
        VersionVector(pairs.map { Dot(device: Fixtures.device($0.0), counter: $0.1) })
    }

    @Test("compare tells equal, before, after and concurrent", arguments: [
        ([("a", 1)], [("a", 1)], CausalOrder.equal),
        ([], [], .equal),
        ([("a", 1)], [("a", 2)], .before),
        ([("a", 1)], [("a", 1), ("b", 1)], .before),
        ([("a", 3), ("b", 1)], [("a", 2)], .after),
        ([("a", 2)], [("b", 1)], .concurrent),
        ([("a", 2), ("b", 1)], [("a", 1), ("b", 2)], .concurrent),
    ])
    func compare(left: [(String, Int)], right: [(String, Int)], expected: CausalOrder) {
        #expect(vector(left).compare(vector(right)) == expected)
    }

    @Test func joinTakesTheHigherCounterPerDevice() {
        let joined = vector([("a", 3), ("c", 1)]).joined(with: vector([("a", 2), ("b", 5)]))
        #expect(joined == vector([("a", 3), ("b", 5), ("c", 1)]))
        #expect(joined.dots.map(\.device.rawValue) == ["a", "b", "c"])
    }

    @Test func containsCoversEveryEarlierCounterOfADevice() {
        let seen = vector([("a", 3)])
        #expect(seen.contains(Dot(device: Fixtures.device("a"), counter: 1)))
        #expect(seen.contains(Dot(device: Fixtures.device("a"), counter: 3)))
        #expect(!seen.contains(Dot(device: Fixtures.device("a"), counter: 4)))
        #expect(!seen.contains(Dot(device: Fixtures.device("b"), counter: 1)))
    }
}
