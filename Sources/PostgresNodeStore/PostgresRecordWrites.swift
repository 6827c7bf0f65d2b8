import NIOCore
import SyncModel

/// The record rows a push writes, held until the next statement that reads or changes the
/// record table (`flush`), then stored with one multi-row upsert: one round trip for a
/// batch of records instead of one each.
///
/// Invariant: at most one pending row per record id (a record pushed twice in one batch
/// keeps its last state), so the upsert never touches a row twice.
struct PostgresRecordWrites {
    /// Holding columns left as stored: an update that does not change who may hold the record.
    static let keepStored = -1

    private var index: [RecordID: Int] = [:]
    private var ids: [String] = []
    private var types: [String] = []
    private var caseIDs: [String] = []
    private var states: [ByteBuffer] = []
    private var deleted: [Bool] = []
    private var references: [String] = []
    private var statuses: [String] = []
    private var seqs: [Int] = []
    private var scopes: [Int] = []
    private var noteScopes: [Int] = []
    private var owners: [String] = []

    var isEmpty: Bool { ids.isEmpty }

    /// Queues `state` (its canonical bytes `json`) at change sequence `seq`, with its holding
    /// columns (`keepStored` to leave a stored row's as they are).
    mutating func queue(_ state: RecordState, json: [UInt8], seq: Int, scope: Int, noteScope: Int, owner: String?) {
        let isCase = state.type == .case
        let values = (state.id.rawValue, state.type.rawValue, (state.caseID ?? state.id).rawValue, ByteBuffer(bytes: json), state.isDeleted,
                      isCase ? state.text("reference") ?? "" : "", isCase ? state.text("status") ?? "" : "")
        if let at = index[state.id] {
            (ids[at], types[at], caseIDs[at], states[at], deleted[at], references[at], statuses[at]) = values
            seqs[at] = seq
            // A row queued new keeps the holding columns it was queued with.
            if scope != Self.keepStored {
                (scopes[at], noteScopes[at], owners[at]) = (scope, noteScope, owner ?? "")
            }
            return
        }
        index[state.id] = ids.count
        ids.append(values.0)
        types.append(values.1)
        caseIDs.append(values.2)
        states.append(values.3)
        deleted.append(values.4)
        references.append(values.5)
        statuses.append(values.6)
        seqs.append(seq)
        scopes.append(scope)
        noteScopes.append(noteScope)
        owners.append(owner ?? "")
    }

    /// Stores every queued row and empties the queue.
    mutating func flush(in db: PostgresSession) async throws {
        guard !ids.isEmpty else { return }
        // `keepStored` reaches the table only for rows that exist (an update), where the
        // conflict branch keeps the stored columns instead.
        try await db.execute("""
            INSERT INTO record (id, type, case_id, state, deleted, reference, status, seq, scope, note_scope, owner)
            SELECT id, type, case_id, state, deleted, NULLIF(reference, ''), NULLIF(status, ''), seq, scope, note_scope, NULLIF(owner, '')
            FROM UNNEST(\(ids)::text[], \(types)::text[], \(caseIDs)::text[], \(states)::bytea[], \(deleted)::boolean[],
                        \(references)::text[], \(statuses)::text[], \(seqs)::bigint[], \(scopes)::smallint[], \(noteScopes)::smallint[], \(owners)::text[])
                AS x (id, type, case_id, state, deleted, reference, status, seq, scope, note_scope, owner)
            ON CONFLICT (id) DO UPDATE SET
                case_id = excluded.case_id, state = excluded.state, deleted = excluded.deleted, reference = excluded.reference,
                status = excluded.status, seq = excluded.seq,
                scope = CASE WHEN excluded.scope < 0 THEN record.scope ELSE excluded.scope END,
                note_scope = CASE WHEN excluded.scope < 0 THEN record.note_scope ELSE excluded.note_scope END,
                owner = CASE WHEN excluded.scope < 0 THEN record.owner ELSE excluded.owner END
            """)
        self = PostgresRecordWrites()
    }
}
