import NodeStorage
import SyncModel
import SyncProtocol

extension SyncNode {
    /// Merges a batch pushed by `account` in one transaction. Every record is validated
    /// (complete, schema) here, then the store applies `PushRules` (only the pusher's own new
    /// writes, no regressing counter, no rewritten dot, scope) inside its transaction; any
    /// failure rejects the whole batch and stores nothing. Each record whose stored state
    /// changes gets the next change sequence number. Re-sending a batch changes nothing.
    public func push(_ received: [ReceivedState], from account: DeviceAccount) async throws -> PushOutcome {
        try Self.requireSyncRole(account)
        let time = now()
        let outcome: PushOutcome
        do {
            // What needs no stored state is done before the store's write transaction, so it
            // runs while the node commits another device's batch.
            for (index, received) in received.enumerated() {
                do { try received.state.validate() } catch { throw NodeError.rejected(error, index: index) }
            }
            outcome = try await store.applyPush(NodePush(account: account, states: received, time: time, restoreWindow: restoreWindow(openAt: time)))
        } catch let error as NodeError where error.code != .busy {
            // A refused push is audited (PROTOCOL.md §18): who, which record, which rule; the
            // batch itself stored nothing.
            let refused = error.index.flatMap { received.indices.contains($0) ? [received[$0].state.id] : nil } ?? []
            try? await store.appendAudit(AuditEvent("push-refused", user: account.user.name, device: account.id, records: refused,
                                                    detail: error.code.rawValue, at: time))
            throw error
        }
        metrics.recordsMerged.increment(by: Int64(received.count))
        metrics.recordsChanged.increment(by: Int64(outcome.changed))
        metrics.conflicts.increment(by: Int64(outcome.conflicts))
        logger.info("push merged", metadata: ["sync.device": "\(account.id)", "sync.records": "\(received.count)", "sync.changed": "\(outcome.changed)"])
        return outcome
    }
}
