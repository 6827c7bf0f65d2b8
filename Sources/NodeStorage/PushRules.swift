import SyncModel
import SyncProtocol

/// The node's rules for what a push may do, as pure functions. Every `NodeStore` applies a
/// push by reading what they need inside its write transaction and calling them, so the
/// rules are written once whatever the database. Each throws a `NodeError` naming the
/// record's index in the batch; the store then rolls the whole batch back.
public enum PushRules {
    /// A state may bring only writes of the pushing device the node has not seen, and no
    /// counter of it lower than the node holds (`RecordState.checkIntroduction`). In a
    /// restore window it may also bring back writes of case writers (`writers`) the node
    /// lost. Returns whether the state relays any such write.
    public static func checkIntroduction(_ state: RecordState, by device: DeviceID, over before: RecordState?,
                                         window: RestoreWindow?, writers: Set<DeviceID>, index: Int) throws(NodeError) -> Bool {
        do {
            return try state.checkIntroduction(by: device, over: before, mayRelay: { window?.mayRelay($0, writers: writers) ?? false })
        } catch {
            throw NodeError.rejected(error, index: index)
        }
    }

    /// A record's link to its case is set once and never changes: it must hold exactly one
    /// value, and the same one the node already has. (Scoping follows the link, so a moved
    /// or ambiguous link would let records slip between cases.)
    public static func checkCaseLink(_ state: RecordState, before: RecordState?, index: Int) throws(NodeError) {
        guard state.type != .case else { return }
        guard let link = state.register("case"), link.values.count == 1 else {
            throw NodeError(.caseLink, "record \(index): its case link holds several values; a record belongs to exactly one case", index: index)
        }
        if let before, before.caseID != state.caseID || link.values != before.register("case")?.values {
            throw NodeError(.caseLink, "record \(index): a record cannot move to another case", index: index)
        }
    }

    /// The cases a mediator's write of `state` touches: its case, and the one the node holds
    /// it under if that differs. A mediator may write only cases they have access to or
    /// create in this batch; other roles are not scoped.
    public static func casesToCheck(_ state: RecordState, before: RecordState?, account: DeviceAccount) -> [RecordID] {
        guard account.user.role == .mediator else { return [] }
        var cases: [RecordID] = []
        if let caseID = state.caseID { cases.append(caseID) }
        if let previous = before?.caseID, !cases.contains(previous) { cases.append(previous) }
        return cases
    }

    /// The refusal of a mediator's write to `caseID`, a case they have no access to:
    /// `unknown_case` when the node has no such case (and the state is not one), otherwise
    /// `forbidden`.
    public static func outOfScope(_ state: RecordState, caseExists: Bool, index: Int) -> NodeError {
        if !caseExists && state.type != .case {
            return NodeError(.unknownCase, "record \(index): its case \(state.caseID?.rawValue ?? "?") is neither on the node nor in this batch", index: index)
        }
        return NodeError(.forbidden, "record \(index): you are not a mediator of its case", index: index)
    }

    /// The refusal of a record of a case the service purged at `at` (milliseconds since the
    /// Unix epoch): the device drops the case (PROTOCOL.md §13.4).
    public static func purged(_ state: RecordState, at: Int64, index: Int) -> NodeError {
        NodeError(.purged, "record \(index): its case \((state.caseID ?? state.id).rawValue) was purged by the service; this device drops it", index: index)
    }

    /// The refusal of a write to a record its writer may not hold (`HoldingRule`): another
    /// user's caucus note, or a mediator note or restricted case of which a supervisor is not
    /// a mediator.
    public static func notAHolder(_ stored: RecordState, index: Int) -> NodeError {
        NodeError(.forbidden, "record \(index): you may not hold this \(stored.type.rawValue), so you may not change it (a caucus note is its author's; mediator notes and restricted cases are the case's mediators')", index: index)
    }

    /// A late write (made before its device knew its user lost the right to the record,
    /// PROTOCOL.md §13.2) is kept only if its writer could hold the record as a mediator of
    /// its case, or as a supervisor of it unrestricted (never another's caucus note), and only
    /// if it leaves who may hold the record alone: no change to a case's `mediators` or
    /// `confidentiality`, nor to a note's `visibility` (a late write must not undo the loss).
    /// `heldAsMediator`: the writer held the case as its mediators do (a mediator, or a
    /// supervisor whose break-glass access ended since the device was told).
    public static func checkLateWrite(_ merged: RecordState, before: RecordState?, owner: String?, user: UserAccount, heldAsMediator: Bool, index: Int) throws(NodeError) {
        guard let before else { return }
        guard HoldingRule.mayHold(HoldingRule.scope(of: before), owner: owner, restricted: false, user: user, isCaseMediator: heldAsMediator) else {
            throw notAHolder(before, index: index)
        }
        let fields = merged.type == .case ? ["mediators", "confidentiality"] : merged.type == .note ? ["visibility"] : []
        for field in fields where merged.members(field) != before.members(field) || merged.register(field)?.values != before.register(field)?.values {
            throw NodeError(.forbidden, "record \(index): you no longer hold this \(merged.type.rawValue), and a change to its \(field) made before you knew cannot be taken", index: index)
        }
    }

    /// Merges `state` into what the node holds. A merge that adds a value to a register or
    /// set element already holding the most concurrent values allowed is refused.
    public static func merge(_ state: RecordState, into before: RecordState?, index: Int) throws(NodeError) -> RecordState {
        guard let before else { return state }
        do {
            let merged = try before.merged(with: state)
            try merged.checkConcurrentValues()
            return merged
        } catch {
            throw NodeError.rejected(error, index: index)
        }
    }

    /// Without a new write of its own, a device cannot change what the node holds (it could
    /// otherwise drop others' values by claiming to have seen them). A state bringing back
    /// lost writes of others after a restore (`relays`) does change it.
    public static func checkOwnWrite(_ state: RecordState, merged: RecordState, before: RecordState?, by device: DeviceID,
                                     relays: Bool, index: Int) throws(NodeError) {
        if let before, merged != before, state.version[device] <= before.version[device], !relays {
            throw NodeError(.noOwnWrite, "record \(index): \(state.type.rawValue) \(state.id) would change the node's state without a new write of device \(device)", index: index)
        }
    }

    /// The devices other than the pusher (and the node's former ids) whose writes a push
    /// holds: in a restore window, those enrolled for a case writer may be relayed.
    public static func otherWriters(in states: [RecordState], by device: DeviceID, window: RestoreWindow) -> Set<DeviceID> {
        var others: Set<DeviceID> = []
        for state in states {
            for dot in state.version.dots where dot.device != device && !window.formerNodes.contains(dot.device) {
                others.insert(dot.device)
            }
        }
        return others
    }

    /// The names the merged case's `mediators` holds by an add the node had not seen before
    /// (an add whose dot `before` lacks): names added, or added again, by this push. Only
    /// such a name gains access, and only if it is a user of the node then (`AccessChange`).
    public static func newlyAddedMediators(_ merged: RecordState, before: RecordState?) -> Set<String> {
        let known = before?.set("mediators").elements ?? []
        var added: Set<String> = []
        for element in merged.set("mediators").elements {
            let seen = known.first { $0.value == element.value }?.stamps ?? []
            if element.stamps.contains(where: { stamp in !seen.contains { $0.dot == stamp.dot } }) { added.insert(element.value) }
        }
        return added
    }

    /// How a case's access changes when its mediators change (or it is new): a name `added`
    /// by this push that is a user of the node (`isUser`) and has no access yet gains it
    /// (the case's whole history, from the change's sequence on); a name no longer in the
    /// set loses it. A name added while no user had it gives nothing, then or later: a user
    /// created afterwards under that name does not inherit the case until someone adds the
    /// name again (an explicit grant).
    public static func accessChange(members: [String], added: Set<String>, current: Set<String>,
                                    isUser: (String) throws -> Bool) rethrows -> (grant: [String], revoke: [String]) {
        var grant: [String] = []
        for user in members where added.contains(user) && !current.contains(user) {
            if try isUser(user) { grant.append(user) }
        }
        let members = Set(members)
        return (grant, current.subtracting(members).sorted())
    }
}
