import GRDB
import NodeStorage
import SyncModel
import SyncProtocol

/// One push as the group commit applies it.
struct SQLitePushJob: Sendable {
    let push: NodePush
    let states: [RecordState]
    /// The rows a state is stored as when it wins whole, built before the transaction.
    let rows: [RecordRow]
    /// Change sequence numbers start above it (see `SQLiteNodeStore.sequenceFloor`).
    let sequenceFloor: Int
}

extension SQLiteNodeStore {
    /// Pushes arriving together are merged in one transaction, each in a savepoint of its
    /// own: one disk sync for the group, and a refused push still leaves the others alone.
    public func applyPush(_ push: NodePush) async throws -> PushOutcome {
        // The rows of states that arrived canonical are built here, before the write
        // transaction, so the work runs while the node commits another device's batch.
        let rows = try push.states.map { try RecordRow($0.state, canonicalJSON: $0.canonicalJSON, sealer: .plain) }
        let outcome = try await pushes.submit(SQLitePushJob(push: push, states: push.states.map(\.state), rows: rows, sequenceFloor: sequenceFloor))
        checkpointer?.request()
        return outcome
    }

    /// Applies one push inside the group commit's transaction: reads what `PushRules` need,
    /// calls them, and stores what they allow. Any refusal throws, and the push's savepoint
    /// (or the transaction, for a push alone) rolls back whole.
    static func apply(_ job: SQLitePushJob, in db: Database) throws -> PushOutcome {
        let (account, states, rows, time) = (job.push.account, job.states, job.rows, job.push.time)
        let window = job.push.restoreWindow
        // A restored node numbers above everything the replaced database had numbered.
        var seq = try highestSequence(floor: job.sequenceFloor, in: db)
        let firstNumber = seq
        // A supervisor's break-glass grants that ran out end before their writes are judged:
        // a write made before the device knew is then a late write, kept (PROTOCOL.md §13.2).
        if account.user.role == .supervisor, try hasExpiredGrants(of: account.user.name, at: time, in: db) {
            try endExpiredGrants(of: account.user.name, at: time, above: &seq, in: db)
        }
        // Purged cases stay purged: a record of one is refused (looked up only once a case
        // has been purged; most nodes have none).
        let anyPurged = try Bool.fetchOne(db.cachedStatement(sql: "SELECT EXISTS (SELECT 1 FROM purge)")) == true
        let purgedCase = try db.cachedStatement(sql: "SELECT at FROM purge WHERE caseID = ?")
        let node = try ReplicaStore.replica(in: db)
        var nodeCounter = node.counter
        var stored = try ReplicaStore.loadAll(states.lazy.map(\.id), in: db, sealer: .plain)
        // Cases the node does not hold but has access rows for: a restore kept today's access
        // to cases the backup lacks. Such a case is not new: who may write it is settled.
        let hasAccessRows = try db.cachedStatement(sql: "SELECT 1 FROM caseAccess WHERE caseID = ? LIMIT 1")
        var restoredAccess: Set<RecordID> = []
        for state in states where state.type == .case && stored[state.id] == nil {
            if try Bool.fetchOne(hasAccessRows, arguments: [state.id.rawValue]) == true { restoredAccess.insert(state.id) }
        }
        // The cases this batch creates: a mediator may write their records (only mediators are scoped).
        let newCases = account.user.role == .mediator
            ? Set(states.lazy.filter { $0.type == .case && stored[$0.id] == nil && !restoredAccess.contains($0.id) }.map(\.id)) : []
        let (insertRecord, updateRecord) = (try insertStatement(in: db), try updateStatement(in: db))
        let writers = try window.map { try caseWriters(among: PushRules.otherWriters(in: states, by: account.id, window: $0), in: db) } ?? []
        let granted = try db.cachedStatement(sql: "SELECT 1 FROM caseAccess WHERE user = ? AND caseID = ?")

        // Users' roles as `updateAccess` looks them up, once a push (nil: no such user).
        var roles: [String: String?] = [:]
        var results: [PushResult] = []
        var relayed: [RecordID] = []
        var resolved: [(id: RecordID, fields: [String])] = []
        // Writes to records the device's user lost the right to hold after the device last
        // heard from the node: made before it knew, so they are kept (and audited).
        var lateWrites: [RecordID] = []
        // Cases whose records supervisors may now hold though they are behind their cursors.
        var restamp: Set<RecordID> = []
        var changed = 0
        var conflicts = 0
        for (index, state) in states.enumerated() {
            if anyPurged, let at = try Int64.fetchOne(purgedCase, arguments: [(state.caseID ?? state.id).rawValue]) {
                throw PushRules.purged(state, at: at, index: index)
            }
            let before = stored[state.id]
            let relays = try PushRules.checkIntroduction(state, by: account.id, over: before, window: window, writers: writers, index: index)
            try PushRules.checkCaseLink(state, before: before, index: index)
            for caseID in PushRules.casesToCheck(state, before: before, account: account) where !newCases.contains(caseID) {
                guard try Bool.fetchOne(granted, arguments: [account.user.name, caseID.rawValue]) == true else {
                    let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM record WHERE id = ? AND type = 'case'", arguments: [caseID.rawValue]) == true
                    // A late write edits what the node holds, or adds to a case it holds; it
                    // never brings back a case the node lacks (after a restore).
                    if exists, before != nil || state.type != .case, try isLateWrite(state.id, of: caseID, by: account, in: db) {
                        lateWrites.append(state.id)
                        continue
                    }
                    throw PushRules.outOfScope(state, caseExists: exists, index: index)
                }
            }
            var merged = try PushRules.merge(state, into: before, index: index)
            try PushRules.checkOwnWrite(state, merged: merged, before: before, by: account.id, relays: relays, index: index)
            // A device may write only what its user may hold as the node has it: no edit of
            // another's caucus note, of a mediator note or restricted case by a supervisor who
            // is not one of its mediators. (A new record, or a write that narrows who may hold
            // it, is accepted: its writer may then stop receiving it.)
            let caseID = merged.caseID ?? merged.id
            // A note's owner is the user who first pushed it; a record's case is restricted or
            // not whatever the record's own state (a case's own state says it of itself).
            let owner = merged.type == .note ? try noteOwner(merged.id, isNew: before == nil, pusher: account.user, in: db) : nil
            let caseRestricted = merged.type == .case ? false : try isRestricted(caseID, stored: stored, in: db)
            let wasRestricted = before.map { $0.type == .case ? HoldingRule.isRestricted($0) : caseRestricted } ?? false
            if let before {
                let scope = HoldingRule.scope(of: before)
                let mediates = try isCaseMediator(account.user, of: caseID, caseState: before.type == .case ? before : stored[caseID],
                                                  needed: scope != .everyone || wasRestricted, scope: scope, in: db)
                if !HoldingRule.mayHold(scope, owner: owner, restricted: wasRestricted, user: account.user, isCaseMediator: mediates) {
                    guard try isLateWrite(state.id, of: caseID, by: account, in: db) else { throw PushRules.notAHolder(before, index: index) }
                    if lateWrites.last != state.id { lateWrites.append(state.id) }
                }
            }
            if lateWrites.last == state.id {
                let heldAsMediator = try account.user.role == .mediator || lostGrantUntold(account.user.name, of: caseID, by: account, in: db)
                try PushRules.checkLateWrite(merged, before: before, owner: owner, user: account.user, heldAsMediator: heldAsMediator, index: index)
            }
            let scope = HoldingRule.scope(of: merged)
            let restricted = merged.type == .case ? HoldingRule.isRestricted(merged) : caseRestricted
            var grantCreator = false
            var isReceivedState = before == nil
            if account.user.role == .mediator, merged.type == .case, before == nil, !restoredAccess.contains(merged.id),
               !merged.members("mediators").contains(account.user.name) {
                if merged.isDeleted {
                    // Created and deleted offline: no write on a deleted record, but the
                    // creator keeps access so a restore or a conflict reaches them.
                    grantCreator = true
                } else {
                    // A mediator's new case is theirs: the node adds them (a write of its own).
                    nodeCounter += 1
                    isReceivedState = false
                    try merged.apply([.add("mediators", account.user.name)], stamp: Stamp(device: node.device, counter: nodeCounter, time: time))
                }
            }
            if merged != before {
                seq += 1
                // A pushed state that wins whole (the usual update: the device had the
                // node's state and wrote on it) is stored as received, like a new record.
                let storesReceived = isReceivedState || (before != nil && merged == state)
                assert(!storesReceived || rows[index].state == merged.canonicalJSON(), "the row built before the transaction must be the merged state's")
                // A new record's holding columns (see migration v7) go in with it: `noteScope`
                // is a note's own scope, `scope` the effective one (a restricted case's records
                // are its mediators'), `owner` a note's writer. A stored record keeps its
                // columns here; they change below, and only when they change.
                let noteScope = merged.type == .note ? scope.rawValue : HoldingScope.everyone.rawValue
                let holding = HoldingColumns(noteScope: noteScope, scope: max(noteScope, restricted ? HoldingScope.mediators.rawValue : 0),
                                             owner: merged.type == .note ? owner : nil)
                try save(storesReceived ? rows[index] : RecordRow(merged, sealer: .plain), seq: seq, holding: before == nil ? holding : nil,
                         insert: insertRecord, update: updateRecord)
                // A case brought back after a restore keeps the access the node kept for it (a
                // device's older state must not re-grant a mediator removed since); later
                // changes to its mediators count as usual.
                if merged.type == .case, !(before == nil && restoredAccess.contains(merged.id)) {
                    let members = merged.members("mediators")
                    let added = PushRules.newlyAddedMediators(merged, before: before)
                    if before == nil || !added.isEmpty || members != before?.members("mediators") {
                        // A supervisor's pull follows the change sequence alone: a supervisor
                        // who now mediates the case gets its records by their numbering anew.
                        // (Not for a new case: its records are all numbered by this push.)
                        let change = try updateAccess(merged.id, members: members, added: added, isNew: before == nil, seq: seq, roles: &roles, in: db)
                        if change.supervisorGained, before != nil { restamp.insert(merged.id) }
                        try recordDrops(forRemoved: change.revoked, from: merged.id, restricted: restricted, seq: seq, in: db)
                    }
                }
                // A stored record's holding columns are written only when they change: a case
                // restricted or opened (with all its records), a note narrowed or widened.
                if merged.type == .case, restricted != wasRestricted {
                    if restricted {
                        try db.cachedStatement(sql: "INSERT OR IGNORE INTO restrictedCase (caseID) VALUES (?)").execute(arguments: [merged.id.rawValue])
                        try db.cachedStatement(sql: "UPDATE record SET scope = MAX(noteScope, 1) WHERE caseID = ?").execute(arguments: [merged.id.rawValue])
                        // Supervisors who are not its mediators drop the whole case (a new
                        // case reached no one yet).
                        if before != nil {
                            let (candidates, mediators) = try holdingCandidates(of: merged.id, in: db)
                            let losers = HoldingRule.lostHolders(before: (.everyone, nil, false), after: (.everyone, nil, true), candidates: candidates, mediators: mediators)
                            for user in losers { try recordDrop(user: user, seq: seq, caseID: merged.id, record: nil, reason: .caseRestricted, in: db) }
                        }
                    } else {
                        try db.cachedStatement(sql: "DELETE FROM restrictedCase WHERE caseID = ?").execute(arguments: [merged.id.rawValue])
                        try db.cachedStatement(sql: "UPDATE record SET scope = noteScope WHERE caseID = ?").execute(arguments: [merged.id.rawValue])
                        // Supervisors may hold the case's records again: numbered anew.
                        restamp.insert(merged.id)
                    }
                } else if merged.type == .note, let before, HoldingRule.scope(of: before) != scope {
                    // Those who held the note and may not now drop it (a narrowing; a
                    // widening takes nothing away).
                    let (candidates, mediators) = try holdingCandidates(of: caseID, in: db)
                    let losers = HoldingRule.lostHolders(before: (HoldingRule.scope(of: before), owner, caseRestricted), after: (scope, owner, caseRestricted),
                                                         candidates: candidates, mediators: mediators)
                    for user in losers { try recordDrop(user: user, seq: seq, caseID: caseID, record: merged.id, reason: .noteNarrowed, in: db) }
                    try db.cachedStatement(sql: "UPDATE record SET noteScope = ?, scope = ?, owner = ? WHERE id = ?")
                        .execute(arguments: [holding.noteScope, holding.scope, holding.owner, merged.id.rawValue])
                }
                // A new record its own writer may not hold (a supervisor opens a restricted
                // case for others, or leaves a note for the mediators only): the writer's
                // devices drop it, as if it had been narrowed past them.
                if before == nil, scope != .everyone || restricted {
                    let mediates = try isCaseMediator(account.user, of: caseID, caseState: merged.type == .case ? merged : stored[caseID], needed: true, scope: scope, in: db)
                    if !HoldingRule.mayHold(scope, owner: owner, restricted: restricted, user: account.user, isCaseMediator: mediates) {
                        try recordDrop(user: account.user.name, seq: seq, caseID: caseID, record: merged.type == .case ? nil : merged.id,
                                       reason: merged.type == .case ? .caseRestricted : .noteNarrowed, in: db)
                    }
                }
                if grantCreator {
                    try db.cachedStatement(sql: "INSERT OR IGNORE INTO caseAccess (caseID, user, grantedSeq) VALUES (?, ?, ?)")
                        .execute(arguments: [merged.id.rawValue, account.user.name, seq])
                }
                changed += 1
            }
            if relays { relayed.append(state.id) }
            if let before, before.hasConflicts {
                // Who resolved which field (PROTOCOL.md §18), never the values chosen.
                let left = Set(merged.conflicts.map(\.field))
                let fields = before.conflicts.map(\.field).filter { !left.contains($0) }
                if !fields.isEmpty { resolved.append((merged.id, fields)) }
            }
            stored[state.id] = merged
            let conflict = merged.hasConflicts
            if conflict { conflicts += 1 }
            results.append(PushResult(id: merged.id, version: merged.version, conflict: conflict))
        }
        if nodeCounter != node.counter {
            try db.execute(sql: "UPDATE replica SET counter = ? WHERE id = 1", arguments: [nodeCounter])
        }
        for caseID in restamp.sorted(by: { $0.rawValue < $1.rawValue }) {
            // Devices that already hold them get them again: a merge of a state already held
            // changes nothing.
            try renumber(caseID.rawValue, above: &seq, in: db)
        }
        if seq > firstNumber { try deliverNumbered(above: firstNumber, in: db) }
        try audit("push", user: account.user.name, device: account.id, records: states.map(\.id), at: time, in: db)
        if !lateWrites.isEmpty {
            try audit("late-write", user: account.user.name, device: account.id, records: lateWrites, at: time, in: db)
        }
        if !resolved.isEmpty {
            try audit("conflict-resolved", user: account.user.name, device: account.id, records: resolved.map(\.id),
                      detail: resolved.map { "\($0.id.rawValue): \($0.fields.joined(separator: ", "))" }.joined(separator: "; "), at: time, in: db)
        }
        if !relayed.isEmpty {
            // Which device brought back which records' lost writes: a misattributed write
            // in the restore window is traceable to the device that sent it.
            try audit("relay", user: account.user.name, device: account.id, records: relayed, at: time, in: db)
        }
        return PushOutcome(results: results, seq: seq, changed: changed, conflicts: conflicts)
    }

    /// The holding columns a new record is stored with (`insertStatement`).
    struct HoldingColumns {
        let noteScope: Int
        let scope: Int
        let owner: String?
    }

    /// A new record: the device's columns (`RecordRow`), its sequence number and its
    /// holding columns. A plain insert, not an upsert: SQLite runs a statement that may
    /// write more than one row (an upsert, whose update would fire the delivery triggers)
    /// in a statement journal of its own; with plain inserts a first push went from about
    /// 88,000 to 103,000 records a second (BENCHMARKS.md, "sync").
    static func insertStatement(in db: Database) throws -> Statement {
        try db.cachedStatement(sql: """
            INSERT INTO record (id, type, caseID, version, state, deleted, conflicted, reference, title, status, site, changed, seq, noteScope, scope, owner)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """)
    }

    /// A stored record's new state and sequence number, bound as `insertStatement`'s first
    /// 13 values (its type, `?2`, never changes); its holding columns change apart, when
    /// they change.
    static func updateStatement(in db: Database) throws -> Statement {
        try db.cachedStatement(sql: """
            UPDATE record SET caseID = ?3, version = ?4, state = ?5, deleted = ?6, conflicted = ?7, reference = ?8, title = ?9,
                status = ?10, site = ?11, changed = ?12, seq = ?13
            WHERE id = ?1
            """)
    }

    /// Stores `row` numbered `seq`: inserted with `holding` (a new record), or updated.
    static func save(_ row: RecordRow, seq: Int, holding: HoldingColumns?, insert: Statement, update: Statement) throws {
        try (holding == nil ? update : insert).execute { bindings in
            row.bind(to: &bindings)
            bindings.bind(seq)
            if let holding {
                bindings.bind(holding.noteScope)
                bindings.bind(holding.scope)
                bindings.bind(holding.owner)
            }
        }
    }

    /// Gives every record of case `caseID` a new change sequence number above `seq`, in
    /// their order, and leaves `seq` at the last one given: they are delivered again after
    /// everything numbered before (a supervisor who may hold them anew; a restore's drops).
    static func renumber(_ caseID: String, above seq: inout Int, in db: Database) throws {
        let ids = try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM record WHERE caseID = ? AND seq IS NOT NULL ORDER BY seq"), arguments: [caseID])
        for id in ids {
            seq += 1
            try db.cachedStatement(sql: "UPDATE record SET seq = ? WHERE id = ?").execute(arguments: [seq, id])
        }
    }

    /// The user who wrote note `id` (`HoldingRule`): `pusher` for a new note, else as stored.
    static func noteOwner(_ id: RecordID, isNew: Bool, pusher: UserAccount, in db: Database) throws -> String? {
        guard !isNew else { return pusher.name }
        return try String.fetchOne(db.cachedStatement(sql: "SELECT owner FROM record WHERE id = ?"), arguments: [id.rawValue])
    }

    /// Whether case `caseID` is restricted: as this push left it if the push holds it, else
    /// as the node has it.
    static func isRestricted(_ caseID: RecordID, stored: [RecordID: RecordState], in db: Database) throws -> Bool {
        if let caseState = stored[caseID] { return HoldingRule.isRestricted(caseState) }
        return try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM restrictedCase WHERE caseID = ?"), arguments: [caseID.rawValue]) == true
    }

    /// Whether `user` holds case `caseID`'s records of `scope` as its mediators do
    /// (`caseState`, when at hand). A mediator who got past the scope check does; a supervisor
    /// who is one of its mediators does, and one with break-glass access to it does but for
    /// caucus notes, which are only ever a mediator's (looked up only when it matters,
    /// `needed`: the record is not everyone's, or its case is restricted, which it rarely is).
    static func isCaseMediator(_ user: UserAccount, of caseID: RecordID, caseState: RecordState?, needed: Bool, scope: HoldingScope, in db: Database) throws -> Bool {
        if user.role == .mediator { return true }
        guard user.role == .supervisor, needed else { return false }
        if caseState?.members("mediators").contains(user.name) == true { return true }
        return try Bool.fetchOne(db.cachedStatement(sql: """
            SELECT 1 FROM caseAccess WHERE user = ? AND caseID = ?
            UNION ALL SELECT 1 FROM accessGrant WHERE user = ? AND caseID = ? AND endedSeq IS NULL AND ? < 2
            """), arguments: [user.name, caseID.rawValue, user.name, caseID.rawValue, scope.rawValue]) == true
    }

    /// Whether `user` lost break-glass access to case `caseID` after `device` was last told
    /// (an `access-ended` drop it has not pulled): its writes to the case were made as one
    /// who held it as its mediators do.
    static func lostGrantUntold(_ user: String, of caseID: RecordID, by device: DeviceAccount, in db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: """
            SELECT 1 FROM dropNotice WHERE user = ? AND caseID = ? AND reason = ? AND seq > ? LIMIT 1
            """), arguments: [user, caseID.rawValue, DropReason.accessEnded.rawValue, device.toldThrough]) == true
    }

    /// Whether `device` may still write record `id` of case `caseID` though its user lost the
    /// right to hold it: the right went at a sequence after the last pull cursor the device
    /// asked from past a drop (`DeviceAccount.toldThrough`), so the write was made before the
    /// device could know. Such a write is kept like any other; the device drops the record on
    /// its pull.
    static func isLateWrite(_ id: RecordID, of caseID: RecordID, by device: DeviceAccount, in db: Database) throws -> Bool {
        try Bool.fetchOne(db.cachedStatement(sql: """
            SELECT 1 FROM dropNotice WHERE user = ? AND caseID = ? AND (recordID = '' OR recordID = ?) AND seq > ? LIMIT 1
            """), arguments: [device.user.name, caseID.rawValue, id.rawValue, device.toldThrough]) == true
    }

    /// The users who may hold records of case `caseID` (its mediators, and every supervisor)
    /// and the names of those who hold it as its mediators do, as the node has them now: its
    /// mediators, and supervisors with break-glass access to it.
    static func holdingCandidates(of caseID: RecordID, in db: Database) throws -> (users: [UserAccount], mediators: Set<String>) {
        let mediators = Set(try String.fetchAll(db.cachedStatement(sql: """
            SELECT user FROM caseAccess WHERE caseID = ? UNION SELECT user FROM accessGrant WHERE caseID = ? AND endedSeq IS NULL
            """), arguments: [caseID.rawValue, caseID.rawValue]))
        let users = try GRDB.Row.fetchAll(db.cachedStatement(sql: """
            SELECT name, role, disabled FROM user WHERE role = 'supervisor' OR name IN (SELECT user FROM caseAccess WHERE caseID = ?)
            """), arguments: [caseID.rawValue]).map(Self.user)
        return (users, mediators)
    }

    /// Records what each user `removed` from case `caseID`'s mediators must drop at `seq`:
    /// the whole case, or for a supervisor of a case that is not restricted only the records
    /// its mediators alone hold (`HoldingRule.dropsWholeCase`).
    static func recordDrops(forRemoved removed: [String], from caseID: RecordID, restricted: Bool, seq: Int, in db: Database) throws {
        for name in removed {
            let user = try GRDB.Row.fetchOne(db.cachedStatement(sql: "SELECT name, role, disabled FROM user WHERE name = ?"), arguments: [name]).map(Self.user)
            // A supervisor with open break-glass access keeps what it gives: only their own
            // caucus notes go (a caucus note is a mediator's alone).
            if try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM accessGrant WHERE user = ? AND caseID = ? AND endedSeq IS NULL"),
                                 arguments: [name, caseID.rawValue]) == true {
                for id in try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM record WHERE caseID = ? AND scope = 2 AND owner = ?"), arguments: [caseID.rawValue, name]) {
                    try recordDrop(user: name, seq: seq, caseID: caseID, record: RecordID(id), reason: .mediatorRemoved, in: db)
                }
                continue
            }
            if HoldingRule.dropsWholeCase(removed: user, restricted: restricted) {
                try recordDrop(user: name, seq: seq, caseID: caseID, record: nil, reason: .mediatorRemoved, in: db)
                continue
            }
            let ids = try String.fetchAll(db.cachedStatement(sql: "SELECT id FROM record WHERE caseID = ? AND (scope = 1 OR (scope = 2 AND owner = ?))"),
                                          arguments: [caseID.rawValue, name])
            for id in ids {
                try recordDrop(user: name, seq: seq, caseID: caseID, record: RecordID(id), reason: .mediatorRemoved, in: db)
            }
        }
    }

    /// One row of `dropNotice` (see migration v8).
    static func recordDrop(user: String, seq: Int, caseID: RecordID, record: RecordID?, reason: DropReason, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO dropNotice (user, seq, caseID, recordID, reason) VALUES (?, ?, ?, ?, ?)")
            .execute(arguments: [user, seq, caseID.rawValue, record?.rawValue ?? "", reason.rawValue])
    }

    /// Applies `PushRules.accessChange` to a case whose mediators changed (or that is new).
    /// Returns whether a supervisor gained access (see `apply`) and who lost it.
    static func updateAccess(_ caseID: RecordID, members: [String], added: Set<String>, isNew: Bool, seq: Int,
                             roles: inout [String: String?], in db: Database) throws -> (supervisorGained: Bool, revoked: [String]) {
        // A new case has no access rows: one restored with its access never comes here.
        let current = isNew ? [] : Set(try String.fetchAll(db.cachedStatement(sql: "SELECT user FROM caseAccess WHERE caseID = ?"), arguments: [caseID.rawValue]))
        let roleOf = try db.cachedStatement(sql: "SELECT role FROM user WHERE name = ?")
        let change = try PushRules.accessChange(members: members, added: added, current: current) { name in
            if let known = roles[name] { return known != nil }
            let role = try String.fetchOne(roleOf, arguments: [name])
            roles[name] = .some(role)
            return role != nil
        }
        for user in change.grant {
            try db.cachedStatement(sql: "INSERT INTO caseAccess (caseID, user, grantedSeq) VALUES (?, ?, ?)").execute { row in
                row.bind(caseID)
                row.bind(user)
                row.bind(seq)
            }
        }
        for user in change.revoke {
            try db.cachedStatement(sql: "DELETE FROM caseAccess WHERE caseID = ? AND user = ?").execute(arguments: [caseID.rawValue, user])
        }
        return (change.grant.contains { roles[$0] == .some(Role.supervisor.rawValue) }, change.revoke)
    }
}
