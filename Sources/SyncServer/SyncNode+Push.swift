import GRDB
import SyncModel
import SyncStore

/// One pushed record's answer: its merged version vector and whether it holds a conflict.
public struct PushResult: Sendable, Hashable {
    public let id: RecordID
    public let version: VersionVector
    public let conflict: Bool
}

extension SyncNode {
    /// Merges a batch pushed by `account` in one transaction. Every record is validated
    /// (complete, schema, only the pusher's own new writes, no regressing counter, no
    /// rewritten dot) and scope-checked; any failure rejects the whole batch and stores
    /// nothing. Each record whose stored state changes gets the next change sequence number.
    /// Re-sending a batch changes nothing.
    public func push(_ received: [ReceivedState], from account: DeviceAccount) async throws -> (results: [PushResult], seq: Int) {
        try Self.requireSyncRole(account)
        let time = now()
        let states = received.map(\.state)
        // What needs no stored state (validation, and the row a new record is stored as) is
        // done before the write transaction, so it runs while the node commits another
        // device's batch. A state that arrived canonical is stored as the bytes received.
        let rows = try received.enumerated().map { index, received in
            do { try received.state.validate() } catch let error as ModelError { throw APIError.rejected(error, index: index) }
            return RecordRow(received.state, canonicalJSON: received.canonicalJSON)
        }
        let outcome = try await pushes.submit(PushJob(account: account, states: states, rows: rows, time: time,
                                                      restoreWindow: restoreWindow(openAt: time), sequenceFloor: sequenceFloor))
        store.checkpointer?.request()
        metrics.recordsMerged.increment(by: Int64(states.count))
        metrics.recordsChanged.increment(by: Int64(outcome.changed))
        metrics.conflicts.increment(by: Int64(outcome.conflicts))
        logger.info("push merged", metadata: ["sync.device": "\(account.id)", "sync.records": "\(states.count)", "sync.changed": "\(outcome.changed)"])
        return (outcome.results, outcome.seq)
    }

    /// One push as the group commit applies it.
    struct PushJob: Sendable {
        let account: DeviceAccount
        let states: [RecordState]
        /// The rows a state is stored as when it wins whole, built before the transaction.
        let rows: [RecordRow]
        let time: Int64
        /// Set while the node takes back lost writes after a restore.
        let restoreWindow: RestoreWindow?
        /// Change sequence numbers start above it (see `ReplicaStore.sequenceFloor`).
        let sequenceFloor: Int
    }

    /// What applying a push did.
    struct PushOutcome: Sendable {
        let results: [PushResult]
        let seq: Int
        let changed: Int
        let conflicts: Int
    }

    /// Applies one push inside the group commit's transaction (in a savepoint of its own, so
    /// a refused push leaves nothing behind and does not affect the others in the group).
    static func apply(_ job: PushJob, in db: Database) throws -> PushOutcome {
        let (account, states, rows, time) = (job.account, job.states, job.rows, job.time)
        // A restored node numbers above everything the replaced database had numbered.
        var seq = max(try Int.fetchOne(db.cachedStatement(sql: "SELECT MAX(seq) FROM record")) ?? 0, job.sequenceFloor)
        let node = try ReplicaStore.replica(in: db)
        var nodeCounter = node.counter
        var stored = try ReplicaStore.loadAll(states.lazy.map(\.id), in: db)
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
        let saveRecord = try ReplicaStore.saveStatement(in: db)
        let writers = try job.restoreWindow.map { try caseWriters(in: states, by: account, window: $0, in: db) } ?? []

        var results: [PushResult] = []
        var relayed: [RecordID] = []
        var changed = 0
        var conflicts = 0
        for (index, state) in states.enumerated() {
            let before = stored[state.id]
            let relays: Bool
            do {
                relays = try state.checkIntroduction(by: account.id, over: before, mayRelay: { job.restoreWindow?.mayRelay($0, writers: writers) ?? false })
            } catch {
                // `checkIntroduction` throws only `ModelError` (typed throws).
                throw APIError.rejected(error, index: index)
            }
            try Self.checkCaseLink(state, before: before, index: index)
            try Self.checkScope(state, before: before, account: account, newCases: newCases, index: index, in: db)
            var merged = try before.map { try $0.merged(with: state) } ?? state
            if before != nil {
                do { try merged.checkConcurrentValues() } catch { throw APIError.rejected(error, index: index) }
            }
            // Without a new write of its own, a device cannot change what the node holds
            // (it could otherwise drop others' values by claiming to have seen them).
            // (A state bringing back lost writes of others after a restore does change it.)
            if let before, merged != before, state.version[account.id] <= before.version[account.id], !relays {
                throw APIError(.unprocessableContent, "no_own_write", "record \(index): \(state.type.rawValue) \(state.id) would change the node's state without a new write of device \(account.id)", index: index)
            }
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
                try ReplicaStore.save(storesReceived ? rows[index] : RecordRow(merged), seq: seq, using: saveRecord)
                // A case brought back after a restore keeps the access the node kept for it (a
                // device's older state must not re-grant a mediator removed since); later
                // changes to its mediators count as usual.
                if merged.type == .case, !(before == nil && restoredAccess.contains(merged.id)) {
                    let members = merged.members("mediators")
                    let added = Self.newlyAddedMediators(merged, before: before)
                    if before == nil || !added.isEmpty || members != before?.members("mediators") {
                        try Self.updateAccess(merged.id, members: members, added: added, seq: seq, in: db)
                    }
                }
                if grantCreator {
                    try db.cachedStatement(sql: "INSERT OR IGNORE INTO caseAccess (caseID, user, grantedSeq) VALUES (?, ?, ?)")
                        .execute(arguments: [merged.id.rawValue, account.user.name, seq])
                }
                changed += 1
            }
            if relays { relayed.append(state.id) }
            stored[state.id] = merged
            let conflict = merged.hasConflicts
            if conflict { conflicts += 1 }
            results.append(PushResult(id: merged.id, version: merged.version, conflict: conflict))
        }
        if nodeCounter != node.counter {
            try db.execute(sql: "UPDATE replica SET counter = ? WHERE id = 1", arguments: [nodeCounter])
        }
        try ReplicaStore.audit("push", user: account.user.name, device: account.id, records: states.map(\.id), at: time, in: db)
        if !relayed.isEmpty {
            // Which device brought back which records' lost writes: a misattributed write
            // in the restore window is traceable to the device that sent it.
            try ReplicaStore.audit("relay", user: account.user.name, device: account.id, records: relayed, at: time, in: db)
        }
        return PushOutcome(results: results, seq: seq, changed: changed, conflicts: conflicts)
    }

    /// Of the other devices whose writes this push holds, those enrolled for a user who writes
    /// cases (mediator or supervisor): during a restore window, their writes (up to each
    /// one's highest counter before the restore) and the node's own former writes may come
    /// back through `account`. An unknown, reporter or admin device never wrote a record.
    static func caseWriters(in states: [RecordState], by account: DeviceAccount, window: RestoreWindow, in db: Database) throws -> Set<DeviceID> {
        var others: Set<DeviceID> = []
        for state in states {
            for dot in state.version.dots where dot.device != account.id && !window.formerNodes.contains(dot.device) {
                others.insert(dot.device)
            }
        }
        return try ReplicaStore.caseWriters(among: others, in: db)
    }

    /// A record's link to its case is set once and never changes: it must hold exactly one
    /// value, and the same one the node already has. (Scoping follows the link, so a moved
    /// or ambiguous link would let records slip between cases.)
    static func checkCaseLink(_ state: RecordState, before: RecordState?, index: Int) throws {
        guard state.type != .case else { return }
        guard let link = state.register("case"), link.values.count == 1 else {
            throw APIError(.unprocessableContent, "case_link", "record \(index): its case link holds several values; a record belongs to exactly one case", index: index)
        }
        if let before, before.caseID != state.caseID || link.values != before.register("case")?.values {
            throw APIError(.unprocessableContent, "case_link", "record \(index): a record cannot move to another case", index: index)
        }
    }

    /// A mediator writes only cases they are a mediator of (or create in this batch), and
    /// records of those cases; supervisors write everything.
    static func checkScope(_ state: RecordState, before: RecordState?, account: DeviceAccount, newCases: Set<RecordID>, index: Int, in db: Database) throws {
        guard account.user.role == .mediator else { return }
        var cases: [RecordID] = []
        if let caseID = state.caseID { cases.append(caseID) }
        if let previous = before?.caseID, !cases.contains(previous) { cases.append(previous) }
        for caseID in cases {
            if newCases.contains(caseID) { continue }
            let granted = try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM caseAccess WHERE user = ? AND caseID = ?"), arguments: [account.user.name, caseID.rawValue]) == true
            guard granted else {
                let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM record WHERE id = ? AND type = 'case'", arguments: [caseID.rawValue]) == true
                if !exists && state.type != .case {
                    throw APIError(.unprocessableContent, "unknown_case", "record \(index): its case \(caseID) is neither on the node nor in this batch", index: index)
                }
                throw APIError(.forbidden, "forbidden", "record \(index): you are not a mediator of its case", index: index)
            }
        }
    }

    /// The names the merged case's `mediators` holds by an add the node had not seen before
    /// (an add whose dot `before` lacks): names added, or added again, by this push.
    static func newlyAddedMediators(_ merged: RecordState, before: RecordState?) -> Set<String> {
        let known = before?.set("mediators").elements ?? []
        var added: Set<String> = []
        for element in merged.set("mediators").elements {
            let seen = known.first { $0.value == element.value }?.stamps ?? []
            if element.stamps.contains(where: { stamp in !seen.contains { $0.dot == stamp.dot } }) { added.insert(element.value) }
        }
        return added
    }

    /// Called when a case's mediators changed (or it is new). A name `added` by this push
    /// that is a user of the node gets access (the case's whole history from sequence `seq`
    /// on); a name no longer in the set loses it. A name added while no user had it gives
    /// nothing, then or later: a user created afterwards under that name does not inherit
    /// the case, until someone adds the name again (an explicit grant). (A case the node does
    /// not hold may have access rows: a restore keeps today's access for the cases devices
    /// bring back.)
    static func updateAccess(_ caseID: RecordID, members: [String], added: Set<String>, seq: Int, in db: Database) throws {
        let current = Set(try String.fetchAll(db.cachedStatement(sql: "SELECT user FROM caseAccess WHERE caseID = ?"), arguments: [caseID.rawValue]))
        let isUser = try db.cachedStatement(sql: "SELECT 1 FROM user WHERE name = ?")
        for user in members where added.contains(user) && !current.contains(user) {
            guard try Bool.fetchOne(isUser, arguments: [user]) == true else { continue }
            try db.cachedStatement(sql: "INSERT INTO caseAccess (caseID, user, grantedSeq) VALUES (?, ?, ?)").execute { row in
                row.bind(caseID)
                row.bind(user)
                row.bind(seq)
            }
        }
        let members = Set(members)
        for user in current.subtracting(members) {
            try db.cachedStatement(sql: "DELETE FROM caseAccess WHERE caseID = ? AND user = ?").execute(arguments: [caseID.rawValue, user])
        }
    }
}
