import Foundation
import GRDB
import SyncModel

/// The columns of one record's row, computed from its state and nothing else. Building the
/// row is most of the work of storing a record (canonical JSON, list columns, argument
/// values), so a writer can build rows before it takes the write transaction and keep that
/// transaction short.
public struct RecordRow: Sendable {
    public let id: RecordID
    /// Every column but `seq`, in the order of `ReplicaStore.save`'s statement.
    let arguments: StatementArguments

    /// `canonicalJSON`, when given, must be the state's canonical bytes (as received: see
    /// `ReceivedState`); it saves encoding the state again.
    public init(_ state: RecordState, canonicalJSON: [UInt8]? = nil) {
        assert(canonicalJSON == nil || canonicalJSON == state.canonicalJSON(), "canonicalJSON must be the state's own bytes")
        id = state.id
        var version = CanonicalJSONWriter(capacity: 64)
        state.version.write(to: &version)
        let isCase = state.type == .case
        func text(_ name: String) -> DatabaseValue { isCase ? state.text(name).databaseValue : .null }
        // Existential values: GRDB's initializer for a sequence of concrete values reads each
        // through a key path, which costs more than the boxing here.
        let values: [(any DatabaseValueConvertible)?] = [
            state.id.rawValue.databaseValue, state.type.rawValue.databaseValue, (state.caseID ?? state.id).rawValue.databaseValue,
            String(decoding: version.bytes, as: UTF8.self).databaseValue, Data(canonicalJSON ?? state.canonicalJSON()).databaseValue,
            state.isDeleted.databaseValue, state.hasConflicts.databaseValue,
            text("reference"), text("title"), text("status"), text("site"),
            state.lastChanged.databaseValue,
        ]
        arguments = StatementArguments(values)
    }
}
