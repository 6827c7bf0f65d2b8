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
            throw CLIError(.usage, "\(stored.type.rawValue) \(id) has no conflict on \(field); `casesync conflicts` lists them")
        }
        let state = try invocation.store.write(recordID, type: stored.type, at: invocation.clock.milliseconds) { state, stamp in
            if let keep {
                try state.resolve(field, keeping: try DeviceID(keep), stamp: stamp)
            } else if let value {
                let typed: FieldValue = field == RecordSchema.deletedField
                    ? try FieldAssignment.typedValue(value, spec: FieldSpec.deletedFlag)
                    : try FieldAssignment.typedValue(value, spec: try RecordSchema.for(state.type).spec(field))
                try state.resolve(field, to: typed, stamp: stamp)
            }
        }
        let view = RecordView(state: state)
        invocation.emit(json: view.json, human: "Resolved \(field) of \(state.type.rawValue) \(view.shortID)\(field == RecordSchema.deletedField ? (state.isDeleted ? ": deleted" : ": kept") : ": \(view.plain(field).cell(60))").")
    }
}
