import SyncModel

/// What `NodeStore.purgeCase` removed: a case and every record of it, gone from the node,
/// with a marker (ids, time, reason) that keeps them from coming back.
public struct CasePurge: Sendable, Hashable {
    /// The purged case.
    public let caseID: RecordID
    /// Its reference as the node had it, for the operator's report.
    public let reference: String?
    /// How many records went (the case itself included).
    public let records: Int
    /// How many users' devices are told to drop it (its mediators, and supervisors unless
    /// the case was restricted).
    public let usersTold: Int

    /// A purge as the store reports it.
    public init(caseID: RecordID, reference: String?, records: Int, usersTold: Int) {
        self.caseID = caseID
        self.reference = reference
        self.records = records
        self.usersTold = usersTold
    }
}

/// A closed case, as `casesyncd retention` lists it.
public struct ClosedCase: Sendable, Hashable {
    /// The case's id.
    public let caseID: RecordID
    /// Its reference (`MED-2026-…`).
    public let reference: String?
    /// Its `closed` date, `YYYY-MM-DD`.
    public let closed: String

    /// A closed case as the store lists it.
    public init(caseID: RecordID, reference: String?, closed: String) {
        self.caseID = caseID
        self.reference = reference
        self.closed = closed
    }
}
