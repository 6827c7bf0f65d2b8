import NIOCore
import SyncModel

/// The record rows a push writes, and the access rows of the cases it creates, held until
/// the next statement that reads or changes the record or access tables (`flush`), then
/// stored with one multi-row statement each: one round trip for a batch of records instead
/// of one each.
///
/// Invariant: at most one pending row per record id (a record pushed twice in one batch
/// keeps its last state), so the upsert never touches a row twice; access rows are only of
/// cases new to the node, which have none yet.
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
    private var grantCases: [String] = []
    private var grantUsers: [String] = []
    private var grantSeqs: [Int] = []
    private var restrictedCases: [String] = []
    /// Of `restrictedCases`, those whose rows all took their scope in `restrict`.
    private var restrictedInMemory: Set<String> = []
    /// The cases whose rows an earlier flush of this push wrote.
    private var flushedCases: Set<String> = []

    var isEmpty: Bool { ids.isEmpty && grantCases.isEmpty && restrictedCases.isEmpty }

    /// Marks the new case `caseID` restricted: at the flush, after the rows, it joins
    /// `restricted_case` and its rows are made its mediators' (`scope` at least 1), those
    /// queued before it as after. (SQLite's push does the same at once; no read in between
    /// sees the difference, as every read of scopes or restrictions follows a flush.)
    mutating func restrict(_ caseID: RecordID) {
        let id = caseID.rawValue
        restrictedCases.append(id)
        // Rows only queued so far (the usual case) take the scope here; the table's, after
        // an earlier flush of this push or for a row that keeps its stored columns, at the flush.
        guard !flushedCases.contains(id) else { return }
        var needsTable = false
        for row in caseIDs.indices where caseIDs[row] == id {
            if scopes[row] == Self.keepStored { needsTable = true } else { scopes[row] = max(noteScopes[row], 1) }
        }
        if !needsTable { restrictedInMemory.insert(id) }
    }

    /// Queues `user`'s access to the new case `caseID`, granted at `seq`.
    mutating func grant(_ caseID: RecordID, to user: String, at seq: Int) {
        grantCases.append(caseID.rawValue)
        grantUsers.append(user)
        grantSeqs.append(seq)
    }

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

    /// Stores every queued row and empties the queue. Access rows go first: their trigger
    /// then has fewer records to enter in the delivery order, and the push enters the rest
    /// (`deliverNumbered`) once all are written.
    mutating func flush(in db: PostgresSession) async throws {
        if !grantCases.isEmpty {
            try await db.execute("""
                INSERT INTO case_access (case_id, user_name, granted_seq)
                SELECT * FROM UNNEST(\(grantCases)::text[], \(grantUsers)::text[], \(grantSeqs)::bigint[])
                """)
            (grantCases, grantUsers, grantSeqs) = ([], [], [])
        }
        if !ids.isEmpty { try await flushRecords(in: db) }
        if !restrictedCases.isEmpty {
            try await db.execute("INSERT INTO restricted_case (case_id) SELECT * FROM UNNEST(\(restrictedCases)::text[]) ON CONFLICT DO NOTHING")
            let inTable = restrictedCases.filter { !restrictedInMemory.contains($0) }
            if !inTable.isEmpty {
                try await db.execute("UPDATE record SET scope = GREATEST(note_scope, 1) WHERE case_id = ANY(\(inTable)::text[])")
            }
            (restrictedCases, restrictedInMemory) = ([], [])
        }
    }

    private mutating func flushRecords(in db: PostgresSession) async throws {
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
        index = [:]
        flushedCases.formUnion(caseIDs)
        (ids, types, caseIDs, states, deleted, references, statuses) = ([], [], [], [], [], [], [])
        (seqs, scopes, noteScopes, owners) = ([], [], [], [])
    }
}
