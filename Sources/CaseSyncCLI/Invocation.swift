import Foundation
import SyncModel
import SyncStore

/// What a command works with: the open store, this replica, the clock, and output.
struct Invocation {
    let options: GlobalOptions
    let store: ReplicaStore
    let replica: ReplicaInfo
    let clock = WallClock()

    /// Opens the replica for a command. Unless `leaseFree` (commands that reach the node,
    /// `status`, `wipe`), a command refuses once the device's offline lease is over
    /// (`OfflineLease`, exit 4).
    init(_ options: GlobalOptions, leaseFree: Bool = false) throws {
        self.options = options
        store = try options.openStore()
        replica = try store.replica()
        if !leaseFree { try OfflineLease.enforce(store, now: clock.milliseconds) }
    }

    /// How devices appear in conflict listings: this device's own name, and every other
    /// device's from the node's directory (PROTOCOL.md §15). Display only: a directory that
    /// cannot be read shows ids, as before a first sync.
    var deviceNames: [DeviceID: String] {
        var names = ((try? KnownValues(store)) ?? KnownValues(directory: nil)).deviceNames
        names[replica.device] = KnownValues.printable(replica.name)
        return names
    }

    /// The sites, users and devices the node's directory lists, as last synced.
    func knownValues() throws -> KnownValues {
        try KnownValues(store)
    }

    /// Prints each warning on stderr, after the write it is about has been made.
    func warn(_ warnings: [String]) {
        for warning in warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
    }

    /// Prints the JSON value with `--json`, the human text otherwise.
    func emit(json: @autoclosure () -> JSONOutput, human: @autoclosure () -> String) {
        print(options.json ? json().text : human())
    }

    /// A live case named by `text` (id, reference or short id).
    func liveCase(_ text: String) throws -> RecordState {
        let id = try store.resolve(text, type: .case)
        guard let state = try store.record(id), !state.isDeleted else {
            throw CLIError(.notFound, "case \(text) is deleted; `casesync conflicts` shows it if someone edited it meanwhile")
        }
        return state
    }

    /// Creates a record of `type` in case `caseText` with `changes`, and prints it.
    func add(_ type: RecordType, toCase caseText: String, _ changes: [FieldChange], noun: String) throws {
        let parent = try liveCase(caseText)
        var generator = SystemRandomNumberGenerator()
        let id = RecordID.make(milliseconds: clock.milliseconds, using: &generator)
        let state = try store.write(id, type: type, creating: true, at: clock.milliseconds) { state, stamp in
            try state.apply([.set("case", .text(parent.id.rawValue))] + changes, stamp: stamp)
        }
        let view = RecordView(state: state)
        emit(json: view.json, human: "Added \(noun) \(view.shortID) to case \(parent.text("reference") ?? parent.id.rawValue).")
    }

    /// Applies `changes` to an existing record of `type`.
    func update(_ text: String, type: RecordType, _ changes: [FieldChange]) throws -> RecordState {
        try update(text, type: type) { _ in changes }
    }

    /// Applies the changes `make` works out from the record as stored at the moment of the
    /// write (rules that depend on the current value: completion dates, stage dates).
    func update(_ text: String, type: RecordType, _ make: (RecordState) throws -> [FieldChange]) throws -> RecordState {
        let id = try store.resolve(text, type: type)
        return try store.write(id, type: type, at: clock.milliseconds) { state, stamp in
            try state.apply(try make(state), stamp: stamp)
        }
    }

    /// `casesync party|session|note|action|feedback delete ID`: a delete is a write (a
    /// tombstone) that syncs; `casesync restore ID` undoes it.
    func delete(_ text: String, type: RecordType) throws {
        let id = try store.resolve(text, type: type)
        let state = try store.write(id, type: type, at: clock.milliseconds) { state, stamp in
            guard !state.isDeleted else { throw CLIError(.notFound, "\(type.rawValue) \(text) is already deleted (`casesync restore \(text)` brings it back)") }
            try state.delete(stamp: stamp)
        }
        let view = RecordView(state: state)
        emit(json: view.json, human: "Deleted \(type.rawValue) \(view.shortID) (`casesync restore \(view.shortID)` undoes it).")
    }

    /// `casesync party|session|note set ID FIELD=VALUE…`: applies the assignments to the
    /// record and prints it.
    func set(_ text: String, type: RecordType, _ assignments: [String]) throws {
        let state = try update(text, type: type, try FieldAssignment.parse(assignments, type: type))
        let view = RecordView(state: state)
        emit(json: view.json, human: "Updated \(type.rawValue) \(view.shortID).")
    }
}
