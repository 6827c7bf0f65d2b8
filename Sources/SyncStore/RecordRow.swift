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

    public init(_ state: RecordState) {
        id = state.id
        var version = CanonicalJSONWriter(capacity: 64)
        state.version.write(to: &version)
        let isCase = state.type == .case
        func text(_ name: String) -> DatabaseValue { isCase ? state.text(name).databaseValue : .null }
        // Plain `DatabaseValue`s: cheaper than boxing each column as `DatabaseValueConvertible`.
        arguments = StatementArguments([
            state.id.rawValue.databaseValue, state.type.rawValue.databaseValue, (state.caseID ?? state.id).rawValue.databaseValue,
            String(decoding: version.bytes, as: UTF8.self).databaseValue, Data(state.canonicalJSON()).databaseValue,
            state.isDeleted.databaseValue, state.hasConflicts.databaseValue,
            text("reference"), text("title"), text("status"), text("site"),
            state.lastChanged.databaseValue,
        ])
    }
}
