import NodeStorage
import PostgresNIO
import SyncModel
import SyncProtocol

/// A push, applied as SQLite's store applies it (`SQLiteNodeStore.apply`): the same reads,
/// the same `PushRules`, the same writes, in one transaction. What differs is the cost of a
/// statement (a round trip to the database), so the push reads what it can once (the batch's
/// stored states, each case's access and restriction) and writes its records in one
/// statement per batch (`PostgresRecordWrites`), flushed before anything reads them back.
extension PostgresNodeStore {
    /// See `NodeStore.applyPush`. The transaction takes the node row's lock first
    /// (`takeSequence`): pushes from every node serving the database number in commit order.
    /// This process's pushes wait for their turn before they take a connection (`PushTurns`).
    public func applyPush(_ push: NodePush) async throws -> PushOutcome {
        try await pushTurns.run {
            try await transaction { db in try await Self.apply(push, in: db) }
        }
    }

    static func apply(_ push: NodePush, in db: PostgresSession) async throws -> PushOutcome {
        let (account, time, window) = (push.account, push.time, push.restoreWindow)
        let states = push.states.map(\.state)
        var seq = try await takeSequence(in: db)
        let firstNumber = seq
        var writes = PostgresRecordWrites()
        // A supervisor's break-glass grants that ran out end before their writes are judged:
        // a write made before the device knew is then a late write, kept (PROTOCOL.md §13.2).
        if account.user.role == .supervisor, try await hasExpiredGrants(of: account.user.name, at: time, in: db) {
            _ = try await endExpiredGrants(of: account.user.name, at: time, above: &seq, in: db)
        }
        // Purged cases stay purged: looked up only once a case has been purged.
        let anyPurged = try await db.exists("SELECT 1 FROM purge LIMIT 1")
        guard let nodeRow = try await db.rows("SELECT device, counter FROM node WHERE id = 1").first else { throw PostgresStoreError.notPrepared }
        let (nodeDeviceText, storedCounter) = try nodeRow.decode((String, Int).self)
        let nodeDevice = try DeviceID(nodeDeviceText)
        var nodeCounter = storedCounter
        var stored = try await loadAll(states.lazy.map(\.id), in: db)
        // Cases the node does not hold but has access rows for (a restore kept today's access).
        let absentCases = states.filter { $0.type == .case && stored[$0.id] == nil }.map(\.id.rawValue)
        let restoredAccess: Set<RecordID> = absentCases.isEmpty ? [] : Set(try await db.rows(
            "SELECT DISTINCT case_id FROM case_access WHERE case_id = ANY(\(absentCases))").compactMap { try? RecordID($0.decode(String.self)) })
        let newCases = account.user.role == .mediator
            ? Set(states.lazy.filter { $0.type == .case && stored[$0.id] == nil && !restoredAccess.contains($0.id) }.map(\.id)) : []
        var writers: Set<DeviceID> = []
        if let window { writers = try await caseWriters(among: PushRules.otherWriters(in: states, by: account.id, window: window), in: db) }
        // Per-case answers read once a push: the user's access (dropped when the push changes
        // the case's mediators), and whether a case outside the push is restricted.
        var access: [RecordID: Bool] = [:]
        var restrictedStored: [RecordID: Bool] = [:]
        // The owners of notes this push stored, ahead of their rows.
        var owners: [RecordID: String?] = [:]
        // The roles of user names the push's new cases name (nil: no such user), read once.
        var roles: [String: String?] = [:]

        var results: [PushResult] = []
        var relayed: [RecordID] = []
        var resolved: [(id: RecordID, fields: [String])] = []
        var lateWrites: [RecordID] = []
        var restamp: Set<RecordID> = []
        var changed = 0
        var conflicts = 0
        for (index, state) in states.enumerated() {
            if anyPurged, let at = try await db.value("SELECT at FROM purge WHERE case_id = \((state.caseID ?? state.id).rawValue)", as: Int64.self) {
                throw PushRules.purged(state, at: at, index: index)
            }
            let before = stored[state.id]
            let relays = try PushRules.checkIntroduction(state, by: account.id, over: before, window: window, writers: writers, index: index)
            try PushRules.checkCaseLink(state, before: before, index: index)
            for caseID in PushRules.casesToCheck(state, before: before, account: account) where !newCases.contains(caseID) {
                let granted: Bool
                if let known = access[caseID] {
                    granted = known
                } else {
                    granted = try await db.exists("SELECT 1 FROM case_access WHERE user_name = \(account.user.name) AND case_id = \(caseID.rawValue)")
                    access[caseID] = granted
                }
                guard granted else {
                    try await writes.flush(in: db)
                    let exists = try await db.exists("SELECT 1 FROM record WHERE id = \(caseID.rawValue) AND type = 'case'")
                    if exists, before != nil || state.type != .case, try await isLateWrite(state.id, of: caseID, by: account, in: db) {
                        lateWrites.append(state.id)
                        continue
                    }
                    throw PushRules.outOfScope(state, caseExists: exists, index: index)
                }
            }
            var merged = try PushRules.merge(state, into: before, index: index)
            try PushRules.checkOwnWrite(state, merged: merged, before: before, by: account.id, relays: relays, index: index)
            let caseID = merged.caseID ?? merged.id
            let owner: String?
            if merged.type != .note {
                owner = nil
            } else if before == nil {
                owner = account.user.name
            } else if let known = owners[merged.id] {
                owner = known
            } else {
                owner = try await db.value("SELECT owner FROM record WHERE id = \(merged.id.rawValue)", as: String.self)
            }
            let caseRestricted: Bool
            if merged.type == .case {
                caseRestricted = false
            } else if let caseState = stored[caseID] {
                caseRestricted = HoldingRule.isRestricted(caseState)
            } else if let known = restrictedStored[caseID] {
                caseRestricted = known
            } else {
                caseRestricted = try await db.exists("SELECT 1 FROM restricted_case WHERE case_id = \(caseID.rawValue)")
                restrictedStored[caseID] = caseRestricted
            }
            let wasRestricted = before.map { $0.type == .case ? HoldingRule.isRestricted($0) : caseRestricted } ?? false
            if let before {
                let scope = HoldingRule.scope(of: before)
                let mediates = try await isCaseMediator(account.user, of: caseID, caseState: before.type == .case ? before : stored[caseID],
                                                        needed: scope != .everyone || wasRestricted, scope: scope, in: db)
                if !HoldingRule.mayHold(scope, owner: owner, restricted: wasRestricted, user: account.user, isCaseMediator: mediates) {
                    guard try await isLateWrite(state.id, of: caseID, by: account, in: db) else { throw PushRules.notAHolder(before, index: index) }
                    if lateWrites.last != state.id { lateWrites.append(state.id) }
                }
            }
            if lateWrites.last == state.id {
                var heldAsMediator = account.user.role == .mediator
                if !heldAsMediator { heldAsMediator = try await lostGrantUntold(account.user.name, of: caseID, by: account, in: db) }
                try PushRules.checkLateWrite(merged, before: before, owner: owner, user: account.user, heldAsMediator: heldAsMediator, index: index)
            }
            let scope = HoldingRule.scope(of: merged)
            let restricted = merged.type == .case ? HoldingRule.isRestricted(merged) : caseRestricted
            var grantCreator = false
            var isReceivedState = before == nil
            if account.user.role == .mediator, merged.type == .case, before == nil, !restoredAccess.contains(merged.id),
               !merged.members("mediators").contains(account.user.name) {
                if merged.isDeleted {
                    // Created and deleted offline: the creator keeps access so a restore or a conflict reaches them.
                    grantCreator = true
                } else {
                    // A mediator's new case is theirs: the node adds them (a write of its own).
                    nodeCounter += 1
                    isReceivedState = false
                    try merged.apply([.add("mediators", account.user.name)], stamp: Stamp(device: nodeDevice, counter: nodeCounter, time: time))
                }
            }
            if merged != before {
                seq += 1
                let storesReceived = isReceivedState || (before != nil && merged == state)
                let json = storesReceived ? push.states[index].canonicalJSON ?? merged.canonicalJSON() : merged.canonicalJSON()
                // The row's holding columns (SQLite's migration v7): a note's are its own and
                // its case's; a new record of a restricted case is its mediators'; an update
                // of any other record keeps what it had (a case's change of restriction
                // rewrites its records' below).
                if merged.type == .note {
                    let effective = max(scope.rawValue, restricted ? HoldingScope.mediators.rawValue : 0)
                    writes.queue(merged, json: json, seq: seq, scope: effective, noteScope: scope.rawValue, owner: owner)
                    owners[merged.id] = owner
                } else if before == nil, merged.type != .case {
                    writes.queue(merged, json: json, seq: seq, scope: restricted ? HoldingScope.mediators.rawValue : 0, noteScope: 0, owner: nil)
                } else if before == nil {
                    writes.queue(merged, json: json, seq: seq, scope: 0, noteScope: 0, owner: nil)
                } else {
                    writes.queue(merged, json: json, seq: seq, scope: PostgresRecordWrites.keepStored, noteScope: 0, owner: nil)
                }
                if merged.type == .case, !(before == nil && restoredAccess.contains(merged.id)) {
                    let members = merged.members("mediators")
                    let added = PushRules.newlyAddedMediators(merged, before: before)
                    if before == nil {
                        // A case new to the node: nobody has access to it yet, and its access
                        // rows are written with the push's records (read only through
                        // `holdingCandidates`, after a flush).
                        let names = Set(members).union(added).subtracting(roles.keys)
                        if !names.isEmpty {
                            for name in names { roles[name] = .some(nil) }
                            for row in try await db.rows("SELECT name, role FROM account WHERE name = ANY(\(Array(names)))") {
                                let (name, role) = try row.decode((String, String).self)
                                roles[name] = role
                            }
                        }
                        let change = PushRules.accessChange(members: members, added: added, current: []) { (roles[$0] ?? nil) != nil }
                        for user in change.grant { writes.grant(merged.id, to: user, at: seq) }
                    } else if !added.isEmpty || members != before?.members("mediators") {
                        try await writes.flush(in: db)
                        let change = try await updateAccess(merged.id, members: members, added: added, seq: seq, in: db)
                        access[merged.id] = nil
                        if change.supervisorGained { restamp.insert(merged.id) }
                        try await recordDrops(forRemoved: change.revoked, from: merged.id, restricted: restricted, seq: seq, in: db)
                    }
                }
                if merged.type == .case, before == nil, restricted {
                    // A new restricted case: its records (in this push only) are its
                    // mediators', set as the push's rows are written (`restrict`).
                    writes.restrict(merged.id)
                } else if merged.type == .case, restricted != wasRestricted {
                    try await writes.flush(in: db)
                    if restricted {
                        try await db.execute("INSERT INTO restricted_case (case_id) VALUES (\(merged.id.rawValue)) ON CONFLICT DO NOTHING")
                        try await db.execute("UPDATE record SET scope = GREATEST(note_scope, 1) WHERE case_id = \(merged.id.rawValue)")
                        if before != nil {
                            let (candidates, mediators) = try await holdingCandidates(of: merged.id, in: db)  // after the flush above
                            let losers = HoldingRule.lostHolders(before: (.everyone, nil, false), after: (.everyone, nil, true), candidates: candidates, mediators: mediators)
                            for user in losers { try await recordDrop(user: user, seq: seq, caseID: merged.id, record: nil, reason: .caseRestricted, in: db) }
                        }
                    } else {
                        try await db.execute("DELETE FROM restricted_case WHERE case_id = \(merged.id.rawValue)")
                        try await db.execute("UPDATE record SET scope = note_scope WHERE case_id = \(merged.id.rawValue)")
                        restamp.insert(merged.id)
                    }
                } else if merged.type == .note, let before, HoldingRule.scope(of: before) != scope {
                    // Those who held the note and may not now drop it (a narrowing).
                    try await writes.flush(in: db)
                    let (candidates, mediators) = try await holdingCandidates(of: caseID, in: db)
                    let losers = HoldingRule.lostHolders(before: (HoldingRule.scope(of: before), owner, caseRestricted), after: (scope, owner, caseRestricted),
                                                         candidates: candidates, mediators: mediators)
                    for user in losers { try await recordDrop(user: user, seq: seq, caseID: caseID, record: merged.id, reason: .noteNarrowed, in: db) }
                }
                // A new record its own writer may not hold: the writer's devices drop it.
                if before == nil, scope != .everyone || restricted {
                    let mediates = try await isCaseMediator(account.user, of: caseID, caseState: merged.type == .case ? merged : stored[caseID], needed: true, scope: scope, in: db)
                    if !HoldingRule.mayHold(scope, owner: owner, restricted: restricted, user: account.user, isCaseMediator: mediates) {
                        try await recordDrop(user: account.user.name, seq: seq, caseID: caseID, record: merged.type == .case ? nil : merged.id,
                                             reason: merged.type == .case ? .caseRestricted : .noteNarrowed, in: db)
                    }
                }
                if grantCreator {
                    try await writes.flush(in: db)
                    try await db.execute("""
                        INSERT INTO case_access (case_id, user_name, granted_seq) VALUES (\(merged.id.rawValue), \(account.user.name), \(seq))
                        ON CONFLICT DO NOTHING
                        """)
                    access[merged.id] = nil
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
        try await writes.flush(in: db)
        if nodeCounter != storedCounter {
            try await db.execute("UPDATE node SET counter = \(nodeCounter) WHERE id = 1")
        }
        for caseID in restamp.sorted(by: { $0.rawValue < $1.rawValue }) {
            try await renumber(caseID, above: &seq, in: db)
        }
        if seq > firstNumber {
            try await deliverNumbered(above: firstNumber, through: seq, in: db)
            try await setSequence(seq, in: db)
        }
        try await audit("push", user: account.user.name, device: account.id, records: states.map(\.id), at: time, in: db)
        if !lateWrites.isEmpty {
            try await audit("late-write", user: account.user.name, device: account.id, records: lateWrites, at: time, in: db)
        }
        if !resolved.isEmpty {
            try await audit("conflict-resolved", user: account.user.name, device: account.id, records: resolved.map(\.id),
                            detail: resolved.map { "\($0.id.rawValue): \($0.fields.joined(separator: ", "))" }.joined(separator: "; "), at: time, in: db)
        }
        if !relayed.isEmpty {
            try await audit("relay", user: account.user.name, device: account.id, records: relayed, at: time, in: db)
        }
        return PushOutcome(results: results, seq: seq, changed: changed, conflicts: conflicts)
    }

    /// Enters every record numbered above `seq` and up to `last` in the delivery order of
    /// each user with access to its case who may hold it (the end of a push; rows already
    /// there stay). Both bounds given, the planner reads the range by the sequence's index
    /// even before a bulk push's statistics exist.
    static func deliverNumbered(above seq: Int, through last: Int, in db: PostgresSession) async throws {
        try await db.execute("""
            INSERT INTO delivery (user_name, delivery, seq)
            SELECT a.user_name, GREATEST(r.seq, a.granted_seq), r.seq FROM record r JOIN case_access a ON a.case_id = r.case_id
            WHERE r.seq > \(seq) AND r.seq <= \(last) AND (r.scope < 2 OR r.owner = a.user_name)
            ON CONFLICT DO NOTHING
            """)
    }

    /// Gives every record of case `caseID` a new change sequence number above `seq`, in
    /// their order, and leaves `seq` at the last one given (see SQLite's `renumber`).
    static func renumber(_ caseID: RecordID, above seq: inout Int, in db: PostgresSession) async throws {
        let ids = try await db.rows("SELECT id FROM record WHERE case_id = \(caseID.rawValue) ORDER BY seq").map { try $0.decode(String.self) }
        for id in ids {
            seq += 1
            try await db.execute("UPDATE record SET seq = \(seq) WHERE id = \(id)")
        }
    }

    /// Whether `user` holds case `caseID`'s records of `scope` as its mediators do (see
    /// SQLite's `isCaseMediator`).
    static func isCaseMediator(_ user: UserAccount, of caseID: RecordID, caseState: RecordState?, needed: Bool, scope: HoldingScope,
                               in db: PostgresSession) async throws -> Bool {
        if user.role == .mediator { return true }
        guard user.role == .supervisor, needed else { return false }
        if caseState?.members("mediators").contains(user.name) == true { return true }
        return try await db.exists("""
            SELECT 1 FROM case_access WHERE user_name = \(user.name) AND case_id = \(caseID.rawValue)
            UNION ALL SELECT 1 FROM access_grant WHERE user_name = \(user.name) AND case_id = \(caseID.rawValue) AND ended_seq IS NULL AND \(scope.rawValue) < 2
            """)
    }

    /// Whether `user` lost break-glass access to case `caseID` after `device` was last told.
    static func lostGrantUntold(_ user: String, of caseID: RecordID, by device: DeviceAccount, in db: PostgresSession) async throws -> Bool {
        try await db.exists("""
            SELECT 1 FROM drop_notice WHERE user_name = \(user) AND case_id = \(caseID.rawValue) AND reason = \(DropReason.accessEnded.rawValue)
                AND seq > \(device.toldThrough) LIMIT 1
            """)
    }

    /// Whether `device` may still write record `id` of case `caseID` though its user lost the
    /// right to hold it (see SQLite's `isLateWrite`).
    static func isLateWrite(_ id: RecordID, of caseID: RecordID, by device: DeviceAccount, in db: PostgresSession) async throws -> Bool {
        try await db.exists("""
            SELECT 1 FROM drop_notice WHERE user_name = \(device.user.name) AND case_id = \(caseID.rawValue)
                AND (record_id = '' OR record_id = \(id.rawValue)) AND seq > \(device.toldThrough) LIMIT 1
            """)
    }

    /// Records what each user `removed` from case `caseID`'s mediators must drop at `seq`
    /// (see SQLite's `recordDrops`).
    static func recordDrops(forRemoved removed: [String], from caseID: RecordID, restricted: Bool, seq: Int, in db: PostgresSession) async throws {
        for name in removed {
            let user = try await user(named: name, in: db)
            if try await db.exists("SELECT 1 FROM access_grant WHERE user_name = \(name) AND case_id = \(caseID.rawValue) AND ended_seq IS NULL") {
                for row in try await db.rows("SELECT id FROM record WHERE case_id = \(caseID.rawValue) AND scope = 2 AND owner = \(name)") {
                    try await recordDrop(user: name, seq: seq, caseID: caseID, record: RecordID(row.decode(String.self)), reason: .mediatorRemoved, in: db)
                }
                continue
            }
            if HoldingRule.dropsWholeCase(removed: user, restricted: restricted) {
                try await recordDrop(user: name, seq: seq, caseID: caseID, record: nil, reason: .mediatorRemoved, in: db)
                continue
            }
            for row in try await db.rows("SELECT id FROM record WHERE case_id = \(caseID.rawValue) AND (scope = 1 OR (scope = 2 AND owner = \(name)))") {
                try await recordDrop(user: name, seq: seq, caseID: caseID, record: RecordID(row.decode(String.self)), reason: .mediatorRemoved, in: db)
            }
        }
    }

    /// Applies `PushRules.accessChange` to a case whose mediators changed (or that is new).
    /// Returns whether a supervisor gained access and who lost it.
    static func updateAccess(_ caseID: RecordID, members: [String], added: Set<String>, seq: Int, in db: PostgresSession) async throws -> (supervisorGained: Bool, revoked: [String]) {
        let current = Set(try await db.rows("SELECT user_name FROM case_access WHERE case_id = \(caseID.rawValue)").map { try $0.decode(String.self) })
        // The roles of every user the change may name, read once.
        var roles: [String: String] = [:]
        for row in try await db.rows("SELECT name, role FROM account WHERE name = ANY(\(Array(Set(members).union(added))))") {
            let (name, role) = try row.decode((String, String).self)
            roles[name] = role
        }
        let change = PushRules.accessChange(members: members, added: added, current: current) { name in roles[name] != nil }
        for user in change.grant {
            try await db.execute("INSERT INTO case_access (case_id, user_name, granted_seq) VALUES (\(caseID.rawValue), \(user), \(seq))")
        }
        for user in change.revoke {
            try await db.execute("DELETE FROM case_access WHERE case_id = \(caseID.rawValue) AND user_name = \(user)")
        }
        return (change.grant.contains { roles[$0] == Role.supervisor.rawValue }, change.revoke)
    }

    /// Of `devices`, those enrolled for a user whose role writes cases (see SQLite's `caseWriters`).
    static func caseWriters(among devices: Set<DeviceID>, in db: PostgresSession) async throws -> Set<DeviceID> {
        guard !devices.isEmpty else { return [] }
        var writers: Set<DeviceID> = []
        for row in try await db.rows("""
            SELECT device.id, account.role FROM device JOIN account ON account.name = device.user_name WHERE device.id = ANY(\(devices.map(\.rawValue)))
            """) {
            let (id, role) = try row.decode((String, String).self)
            if Role(rawValue: role)?.syncsCases == true, let device = try? DeviceID(id) { writers.insert(device) }
        }
        return writers
    }
}
