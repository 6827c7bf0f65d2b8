import ArgumentParser
import SyncModel
import SyncStore

/// `casesync resolve ID FIELD (--value V | --keep DEVICE)`: ends a conflict with a write
/// that has seen every side.
struct ResolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "End a conflict: keep one device's value, or write a new one.",
        discussion: "For a deleted-versus-edited record the field is `deleted`: --value true keeps the delete, --value false keeps the record; --keep DEVICE keeps that device's side."
    )

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The record: its id, reference or short id.") var id: String
    @Argument(help: "The field in conflict (or `deleted`).") var field: String
    @Option(help: "The value to keep.") var value: String?
    @Option(help: "Keep the value written on this device.") var keep: String?

    func validate() throws {
        guard (value == nil) != (keep == nil) else { throw ValidationError("give exactly one of --value VALUE or --keep DEVICE") }
    }

    func run() throws {
        let invocation = try Invocation(options)
        let recordID = try invocation.store.resolve(id)
        guard let stored = try invocation.store.record(recordID) else { throw CLIError(.notFound, "no record \(id)") }
        guard stored.conflicts.contains(where: { $0.field == field }) else {
            if field == RecordSchema.deletedField, stored.isDeleted {
                throw CLIError(.usage, "\(stored.type.rawValue) \(id) is deleted with no conflict to resolve; `casesync restore \(id)` brings it back")
            }
            throw CLIError(.usage, "\(stored.type.rawValue) \(id) has no conflict on \(field); `casesync conflicts` lists them")
        }
        let keptDevice = try keep.map { try Self.device(named: $0, in: stored, field: field, names: invocation.deviceNames) }
        let state = try invocation.store.write(recordID, type: stored.type, at: invocation.clock.milliseconds) { state, stamp in
            if let keptDevice {
                try state.resolve(field, keeping: keptDevice, stamp: stamp)
            } else if let value {
                let typed: FieldValue = field == RecordSchema.deletedField
                    ? try FieldAssignment.typedValue(value, spec: FieldSpec.deletedFlag)
                    : try FieldAssignment.typedValue(value, spec: try RecordSchema.for(state.type).spec(field))
                try state.resolve(field, to: typed, stamp: stamp)
            }
        }
        let view = RecordView(state: state)
        invocation.emit(json: view.json, human: "Resolved \(field) of \(state.type.rawValue) \(view.shortID)\(field == RecordSchema.deletedField ? (state.isDeleted ? ": the delete stands" : ": the record is kept, with every field it had") : ": \(view.plain(field).cell(60))").")
    }

    /// The device `--keep` names: a side's device id, or the name of exactly one side's
    /// device (this device's own, or from the node's directory). A word that is neither is
    /// refused (exit 1) listing the conflict's sides; a name two sides' devices share is
    /// refused asking for the id.
    static func device(named word: String, in state: RecordState, field: String, names: [DeviceID: String]) throws -> DeviceID {
        let devices = Array(Swift.Set(state.conflicts.first { $0.field == field }?.sides.map(\.stamp.dot.device) ?? []))
        if let id = try? DeviceID(word), devices.contains(id) { return id }
        let named = devices.filter { names[$0] == word }
        let label = { (device: DeviceID) in RecordView.deviceLabel(device, names: names) }
        guard named.count <= 1 else {
            throw CLIError(.usage, "--keep \(word.prefix(60)) names several devices of this conflict: \(named.map(label).sorted().joined(separator: ", ")); give the device id instead")
        }
        if let device = named.first { return device }
        throw CLIError(.usage, "--keep \(word.prefix(60)) is not a device of this conflict; its sides were written on \(devices.map(label).sorted().joined(separator: ", "))")
    }
}
