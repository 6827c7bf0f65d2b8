import ArgumentParser
import SyncModel
import SyncStore

/// `casesync restore ID`: undoes a delete of any record, with every field it had: a write of
/// the tombstone `false` that syncs like any other (PROTOCOL.md §4).
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restore", abstract: "Undo the delete of a record (a case, party, session, note, action or feedback).")

    @OptionGroup var options: GlobalOptions
    @Argument(help: "The record: its id, short id, or a case's reference.") var id: String

    func run() throws {
        let invocation = try Invocation(options)
        let recordID = try invocation.store.resolve(id)
        guard let type = try invocation.store.record(recordID)?.type else { throw CLIError(.notFound, "no record \(id) here") }
        let state = try invocation.store.write(recordID, type: type, at: invocation.clock.milliseconds) { state, stamp in
            guard state.isDeleted else { throw CLIError(.usage, "\(type.rawValue) \(id) is not deleted; nothing to restore") }
            try state.restore(stamp: stamp)
        }
        let view = RecordView(state: state)
        invocation.emit(json: view.json, human: "Restored \(type.rawValue) \(state.text("reference") ?? view.shortID).")
    }
}
