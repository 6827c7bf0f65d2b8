import Foundation
import NodeStorage
import SyncModel
import SyncProtocol

extension SyncNode {
    /// Grants the supervisor of `account` break-glass access to case `idOrReference` for
    /// `seconds` (PROTOCOL.md §13.5): audited with `reason`, told to the case's mediators, and
    /// ended by the node when the time is up, when their devices drop what it gave them.
    /// Only a supervisor may ask; a reason is required.
    public func requestAccess(to idOrReference: String, reason: String, seconds: Int64?, for account: DeviceAccount) async throws -> AccessGrant {
        guard account.user.role == .supervisor else {
            throw NodeError(.forbidden, "only a supervisor may ask for break-glass access; a \(account.user.role.rawValue) may not")
        }
        guard !idOrReference.isEmpty, idOrReference.count <= 100 else {
            throw NodeError(.badParameter, "name the case by its id or reference (1-100 characters)")
        }
        let trimmed = reason.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= AccessGrant.reasonLimit else {
            throw NodeError(.badParameter, "give the reason for break-glass access (1-\(AccessGrant.reasonLimit) characters); it is audited and shown to the case's mediators")
        }
        let asked = seconds ?? AccessGrant.standard / 1000
        guard (1...AccessGrant.longest / 1000).contains(asked) else {
            throw NodeError(.badParameter, "break-glass access lasts from 1 second to \(AccessGrant.longest / 3_600_000) hours; ask for \(AccessGrant.longest / 3_600_000) hours at most")
        }
        let duration = asked * 1000
        let grant = try await store.grantAccess(idOrReference, to: account.user, device: account.id, reason: trimmed, lasting: duration, at: now())
        logger.notice("break-glass access granted", metadata: ["sync.device": "\(account.id)", "sync.user": "\(account.user.name)", "sync.case": "\(grant.caseID)"])
        return grant
    }
}
