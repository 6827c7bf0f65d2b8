import SyncModel
import SyncProtocol

/// Who may hold a record, besides the case it belongs to: set by the record's own fields.
public enum HoldingScope: Int, Sendable, Hashable {
    /// Everyone who may see the case: its mediators, and supervisors unless it is restricted.
    case everyone = 0
    /// The case's mediators only (a note of visibility `mediator`), not supervisors.
    case mediators = 1
    /// Only the user who wrote it (a `caucus` note), on every device of theirs.
    case owner = 2
}

/// Which users' devices may hold each record (PROTOCOL.md §9, "Who may hold a record"), as
/// pure functions: the node serves a pull and refuses a push by them, whatever its store.
///
/// | record | mediators of its case | supervisors | the user who wrote it |
/// |---|---|---|---|
/// | a case and its records | yes | yes, unless the case is restricted | — |
/// | a `mediator` note | yes | only if also a mediator of the case | — |
/// | a `caucus` note | no | no | yes (a mediator of the case) |
/// | anything of a `restricted` case | yes | only if also a mediator of the case | — |
public enum HoldingRule {
    /// The scope a record's own fields set: a note's visibility; every other record follows
    /// its case. A visibility in conflict counts as the narrowest of its values: a note
    /// never reaches further than any of its writers meant.
    public static func scope(of state: RecordState) -> HoldingScope {
        guard state.type == .note, let values = state.register("visibility")?.values else { return .everyone }
        if values.contains(.text("caucus")) { return .owner }
        if values.contains(.text("mediator")) { return .mediators }
        return .everyone
    }

    /// Whether a case keeps its records to its mediators (`confidentiality=restricted`, in
    /// any of its values when it is in conflict).
    public static func isRestricted(_ caseState: RecordState) -> Bool {
        caseState.register("confidentiality")?.values.contains(.text("restricted")) ?? false
    }

    /// Whether `user` may hold a record of `scope`, written by `owner`, in a case that is
    /// `restricted` or not and of which `user` is a mediator (`isCaseMediator`) or not.
    public static func mayHold(_ scope: HoldingScope, owner: String?, restricted: Bool, user: UserAccount, isCaseMediator: Bool) -> Bool {
        guard user.role.syncsCases else { return false }
        if scope == .owner { return isCaseMediator && owner == user.name }
        if isCaseMediator { return true }
        return user.role == .supervisor && scope == .everyone && !restricted
    }

    /// The users among `candidates` who may hold a record as it was (`scope`, `owner` and
    /// `restricted` before) but not as it is now: their devices must drop it (a note narrowed,
    /// a case made restricted). `mediators` are the case's mediators, unchanged by the write.
    public static func lostHolders(before: (scope: HoldingScope, owner: String?, restricted: Bool),
                                   after: (scope: HoldingScope, owner: String?, restricted: Bool),
                                   candidates: [UserAccount], mediators: Set<String>) -> [String] {
        candidates.filter { user in
            let mediates = mediators.contains(user.name)
            return mayHold(before.scope, owner: before.owner, restricted: before.restricted, user: user, isCaseMediator: mediates)
                && !mayHold(after.scope, owner: after.owner, restricted: after.restricted, user: user, isCaseMediator: mediates)
        }.map(\.name).sorted()
    }

    /// What a user removed from a case's mediators must drop: the whole case, unless they are
    /// a supervisor of a case that is not restricted, who keeps what is everyone's and drops
    /// only what the case's mediators (or they as a note's author) alone may hold.
    public static func dropsWholeCase(removed user: UserAccount?, restricted: Bool) -> Bool {
        !(user?.role == .supervisor && !restricted)
    }
}
