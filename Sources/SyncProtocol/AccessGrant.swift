import Foundation
import SyncModel

/// A supervisor's break-glass access to a case (PROTOCOL.md §13.5): for a bounded time they
/// may hold what the case's mediators hold (a restricted case, mediator-only notes; never
/// another's caucus note). The node keeps each grant for good, with its reason, and tells the
/// case's mediators and the supervisor of it in their pulls (a page's `access` list).
public struct AccessGrant: Sendable, Hashable {
    /// The case concerned.
    public let caseID: RecordID
    /// The supervisor granted access.
    public let user: String
    /// Why, as the supervisor gave it (shown to the case's mediators and kept in the audit log).
    public let reason: String
    /// When it was granted, milliseconds since the Unix epoch.
    public let granted: Int64
    /// When it ends, milliseconds since the Unix epoch: from then on the supervisor's devices
    /// drop what it gave them (reason `access-ended`).
    public let until: Int64
    /// The change sequence number it was granted at (its place in pulls).
    public let seq: Int
    /// Whether the node has ended it (its time was up); known to the node only.
    public let ended: Bool

    /// A grant as the node records and serves it.
    public init(caseID: RecordID, user: String, reason: String, granted: Int64, until: Int64, seq: Int, ended: Bool = false) {
        self.caseID = caseID
        self.user = user
        self.reason = reason
        self.granted = granted
        self.until = until
        self.seq = seq
        self.ended = ended
    }

    /// The longest a grant may last (7 days), and the time it lasts unless the request says.
    public static let longest: Int64 = 7 * 24 * 3600 * 1000
    public static let standard: Int64 = 24 * 3600 * 1000
    /// The most characters a reason may have.
    public static let reasonLimit = 500
}

extension AccessGrant {
    /// `time` (milliseconds since the Unix epoch) as `2026-12-02 14:05 UTC`: how messages
    /// about a grant name its end, from either store.
    public static func utcText(_ time: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm 'UTC'"
        return formatter.string(from: Date(timeIntervalSince1970: Double(time) / 1000))
    }
}
