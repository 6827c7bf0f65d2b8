import SyncModel

/// The columns of one record's row, computed from its state and nothing else. Building the
/// row is most of the work of storing a record (canonical JSON, list columns), so a writer
/// can build rows before it takes the write transaction and keep that transaction short.
public struct RecordRow: Sendable {
    /// The record's id, the row's key.
    public let id: RecordID
    let type: RecordType
    /// The record's case (a case is its own).
    let caseID: RecordID
    /// The version vector's canonical JSON.
    let version: [UInt8]
    /// The state's canonical JSON, sealed in an encrypted replica (`RecordSealer`).
    public let state: [UInt8]
    let deleted: Bool
    let conflicted: Bool
    /// The columns `case list` shows and filters by; nil for every other record type, and
    /// in an encrypted replica, where `sealedListEntry` holds all four.
    let reference, title, status, site: String?
    /// In an encrypted replica, a case's `SealedListEntry`, sealed, stored in the `title` column.
    let sealedListEntry: [UInt8]?
    let changed: Int64

    /// `canonicalJSON`, when given, must be the state's canonical bytes (as received: see
    /// `ReceivedState`); it saves encoding the state again. `sealer` seals the state (the
    /// node's is plain).
    package init(_ state: RecordState, canonicalJSON: [UInt8]? = nil, sealer: RecordSealer) throws {
        assert(canonicalJSON == nil || canonicalJSON == state.canonicalJSON(), "canonicalJSON must be the state's own bytes")
        id = state.id
        type = state.type
        caseID = state.caseID ?? state.id
        var version = CanonicalJSONWriter(capacity: 64)
        state.version.write(to: &version)
        self.version = version.bytes
        let plain = canonicalJSON ?? state.canonicalJSON()
        self.state = sealer.isSealing ? try sealer.seal(plain, place: RecordSealer.Place.record(state.id.rawValue)) : plain
        deleted = state.isDeleted
        conflicted = state.hasConflicts
        let isCase = state.type == .case && !sealer.isSealing
        sealedListEntry = state.type == .case && sealer.isSealing
            ? try sealer.seal(SealedListEntry.encode(SealedListEntry.fields(of: state)), place: RecordSealer.Place.listEntry(state.id.rawValue)) : nil
        reference = isCase ? state.text("reference") : nil
        title = isCase ? state.text("title") : nil
        status = isCase ? state.text("status") : nil
        site = isCase ? state.text("site") : nil
        changed = state.lastChanged
    }

    /// Binds every column but `seq`, in the order of `ReplicaStore.save`'s statement.
    func bind(to bindings: inout StatementBindings) {
        bindings.bind(id)
        bindings.bind(type.rawValue)
        bindings.bind(caseID)
        bindings.bind(text: version)
        bindings.bind(blob: state)
        bindings.bind(deleted)
        bindings.bind(conflicted)
        bindings.bind(reference)
        if let sealedListEntry { bindings.bind(blob: sealedListEntry) } else { bindings.bind(title) }
        bindings.bind(status)
        bindings.bind(site)
        bindings.bind(changed)
    }
}
