@testable import SyncModel

/// A random distributed history: several devices write to a few shared records while
/// full states travel between them with random delay, reordering and duplication.
/// Every write is logged with what its writer had seen, so tests can check that nothing
/// was lost and that conflicts are exactly the concurrent writes.
struct Simulation {
    struct Replica {
        let device: DeviceID
        var counter = 0
        var states: [RecordID: RecordState] = [:]
    }

    /// One logged write: where it went, its dot and value, and the writer's version vector
    /// right after it (what it had seen, itself included).
    struct Write {
        let record: RecordID
        /// The field, `field/element` for set elements, or `deleted`.
        let place: String
        let dot: Dot
        let value: FieldValue?
        let seen: VersionVector
    }

    private(set) var replicas: [Replica]
    private(set) var writes: [Write] = []
    private(set) var inFlight: [(to: Int, state: RecordState)] = []
    /// States of each record captured at random moments, for the merge-algebra tests.
    private(set) var snapshots: [RecordID: [RecordState]] = [:]
    private var generator: SeededGenerator
    private let records: [RecordID]

    static let titles = ["Billing dispute", "Billing dispute (revised)", "Consent question", "Müller family — follow-up", "Quote \"this\" back\\slash"]
    static let sites = ["North", "South", "East"]
    static let stages = ["intake", "preparation", "negotiation", "agreement", "closed"]
    static let mediators = ["ann", "bob", "cat"]

    init(seed: UInt64, devices: Int, records: Int) {
        generator = SeededGenerator(seed: seed)
        replicas = (0..<devices).map { Replica(device: DeviceID(unchecked: "dev-\($0)")) }
        self.records = (0..<records).map { Fixtures.recordID($0 + 1) }
    }

    /// Runs `steps` random steps, then delivers everything and lets every replica exchange
    /// every record with every other (anti-entropy), as repeated syncs would.
    mutating func run(steps: Int) throws {
        for _ in 0..<steps {
            let roll = Int.random(in: 0..<10, using: &generator)
            if roll < 4 {
                try localWrite(on: Int.random(in: 0..<replicas.count, using: &generator))
            } else if roll < 7 {
                send()
            } else {
                try deliverOne()
            }
        }
        while !inFlight.isEmpty { try deliverOne(allowRedelivery: false) }
        for record in records {
            for receiver in replicas.indices {
                for sender in replicas.indices where sender != receiver {
                    if let state = replicas[sender].states[record] { try receive(state, at: receiver) }
                }
            }
            for receiver in replicas.indices {
                if let state = replicas[0].states[record] { try receive(state, at: receiver) }
            }
        }
    }

    private mutating func localWrite(on index: Int) throws {
        let record = records[Int.random(in: 0..<records.count, using: &generator)]
        var state = replicas[index].states[record] ?? RecordState(type: .case, id: record)
        replicas[index].counter += 1
        let stamp = Stamp(device: replicas[index].device, counter: replicas[index].counter, time: Int64(replicas[index].counter))
        var logged: [(place: String, value: FieldValue?)] = []

        if let conflict = state.conflicts.first, generator.chance(0.5) {
            let side = conflict.sides[Int.random(in: 0..<conflict.sides.count, using: &generator)]
            if conflict.field == RecordSchema.deletedField {
                let keepDelete = side.field == RecordSchema.deletedField ? side.value == .boolean(true) : false
                try state.resolve(conflict.field, to: .boolean(keepDelete), stamp: stamp)
                logged = [(RecordSchema.deletedField, .boolean(keepDelete))]
            } else {
                try state.resolve(conflict.field, keeping: side.stamp.dot.device, stamp: stamp)
                logged = [(conflict.field, side.value)]
            }
        } else if state.isEmpty {
            let title = FieldValue.text(Simulation.titles.randomElement(using: &generator)!)
            try state.apply([.set("title", title), .set("status", .text("intake")), .add("mediators", "ann")], stamp: stamp)
            logged = [("title", title), ("status", .text("intake")), ("mediators/ann", .text("ann"))]
        } else if state.isDeleted {
            try state.restore(stamp: stamp)
            logged = [(RecordSchema.deletedField, .boolean(false))]
        } else {
            switch Int.random(in: 0..<10, using: &generator) {
            case 0:
                try state.delete(stamp: stamp)
                logged = [(RecordSchema.deletedField, .boolean(true))]
            case 1...2:
                let title = FieldValue.text(Simulation.titles.randomElement(using: &generator)!)
                try state.set("title", title, stamp: stamp)
                logged = [("title", title)]
            case 3...4:
                let site = FieldValue.text(Simulation.sites.randomElement(using: &generator)!)
                let stage = FieldValue.text(Simulation.stages.randomElement(using: &generator)!)
                try state.apply([.set("site", site), .set("status", stage)], stamp: stamp)
                logged = [("site", site), ("status", stage)]
            case 5...7:
                let member = Simulation.mediators.randomElement(using: &generator)!
                try state.apply([.add("mediators", member)], stamp: stamp)
                logged = [("mediators/" + member, .text(member))]
            default:
                let member = Simulation.mediators.randomElement(using: &generator)!
                try state.apply([.remove("mediators", member)], stamp: stamp)
                logged = [("mediators/" + member, nil)]
            }
        }
        for entry in logged {
            writes.append(Write(record: record, place: entry.place, dot: stamp.dot, value: entry.value, seen: state.version))
        }
        replicas[index].states[record] = state
        snapshot(state)
    }

    private mutating func send() {
        let sender = Int.random(in: 0..<replicas.count, using: &generator)
        let receiver = Int.random(in: 0..<replicas.count, using: &generator)
        guard sender != receiver, let state = replicas[sender].states.values.randomElement(using: &generator) else { return }
        inFlight.append((receiver, state))
        if generator.chance(0.2) { inFlight.append((receiver, state)) }
    }

    private mutating func deliverOne(allowRedelivery: Bool = true) throws {
        guard !inFlight.isEmpty else { return }
        let index = Int.random(in: 0..<inFlight.count, using: &generator)
        let message = inFlight[index]
        if !(allowRedelivery && generator.chance(0.1)) { inFlight.remove(at: index) }
        try receive(message.state, at: message.to)
    }

    private mutating func receive(_ state: RecordState, at index: Int) throws {
        // States travel as canonical JSON, as they do between real replicas.
        let received = try RecordState(json: state.canonicalJSON())
        let merged = try replicas[index].states[state.id].map { try $0.merged(with: received) } ?? received
        replicas[index].states[state.id] = merged
        snapshot(merged)
    }

    private mutating func snapshot(_ state: RecordState) {
        if generator.chance(0.3) { snapshots[state.id, default: []].append(state) }
    }

    // MARK: - What the final states hold

    /// The dots a final state holds at `place` (a field, `field/element`, or `deleted`).
    static func dots(in state: RecordState, at place: String) -> [Dot] {
        if place == RecordSchema.deletedField { return state.deletion.map(\.dot) }
        if let slash = place.firstIndex(of: "/") {
            let field = String(place[..<slash])
            let element = String(place[place.index(after: slash)...])
            return state.set(field).elements.first { $0.value == element }?.stamps.map(\.dot) ?? []
        }
        return state.register(place)?.entries.map(\.dot) ?? []
    }
}
