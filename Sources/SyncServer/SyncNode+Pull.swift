import NodeStorage
import SyncModel
import SyncProtocol

/// One page of a pull: canonical record states in delivery order, the cursor to pass next
/// time, and whether more are waiting.
public struct PullPage: Sendable {
    public let states: [[UInt8]]
    /// The delivery sequence of the last record served (or the request's `since`).
    public let next: Int
    /// Set when the page ended inside a delivery sequence that holds more records (a case
    /// granted with its whole history shares one): the change sequence of the last record
    /// served, to pass as `after` with `since=next`.
    public let after: Int?
    public let more: Bool
    /// What the device must drop before it merges `states` (PROTOCOL.md §13).
    public var drops: [DropNotice] = []
    /// Restricted cases the user may not hold, as their metadata (PROTOCOL.md §13.5).
    public var metadata: [CaseMetadata] = []
    /// The break-glass grants the device is told of (PROTOCOL.md §13.5).
    public var grants: [AccessGrant] = []
    /// The directory's version number (`CaseSync-Directory`, PROTOCOL.md §15).
    public var directoryVersion = 0
}

extension SyncNode {
    /// The records that `account` may see after the cursor (`since`, and `after` within it),
    /// at most `limit` of them (see `NodeStore.pullPage` for the delivery order). A cursor of
    /// `since` alone means "after all of delivery `since`". Only the page is read into memory.
    public func pull(since: Int, after: Int? = nil, limit: Int, for account: DeviceAccount) async throws -> PullPage {
        try Self.requireSyncRole(account)
        let time = now()
        let page = try await store.pullPage(for: account.user, since: since, after: after, limit: limit, at: time)
        // No delivery sequence is above the highest change sequence. A cursor beyond it was
        // given by this node before it was restored from an older backup.
        if let highest = page.highestSequence, since > 0, since > highest {
            throw NodeError(.cursorAhead, "this pull cursor (\(since)) is ahead of the node: it was restored from an older backup; start the pull over (`casesync sync` does) and re-send what you hold")
        }
        // A device asking from past a drop it had not been told of has committed the page
        // that carried it: from now on its writes to what it dropped are refused.
        if let told = page.toldDrop, told > account.toldThrough {
            try await store.markTold(account.id, through: since)
        }
        try await store.appendAudit(AuditEvent("pull", user: account.user.name, device: account.id,
                                               records: page.records.lazy.filter { !$0.metadataOnly }.map(\.id), at: time))
        // A restricted case the user may not hold goes out as its metadata only: projected
        // here, from the stored state, which never leaves.
        var states: [[UInt8]] = []
        var metadata: [CaseMetadata] = []
        for record in page.records {
            if record.metadataOnly {
                metadata.append(CaseMetadata(projecting: try RecordState(json: record.state), seq: record.seq))
            } else {
                states.append(record.state)
            }
        }
        // On a last page, drops and grants may lie past the last record served: the cursor
        // moves past them, so they are told once.
        let lastNotice = max(page.drops.last?.seq ?? since, page.grants.map(\.seq).max() ?? since)
        let noNotices = page.drops.isEmpty && page.grants.isEmpty
        guard let last = page.records.last else {
            return PullPage(states: [], next: max(since, lastNotice), after: noNotices ? after : nil, more: false, drops: page.drops, grants: page.grants,
                            directoryVersion: page.directoryVersion)
        }
        // Carrying on inside the last delivery is needed only when the page stopped in it;
        // otherwise the plain cursor says the same.
        return PullPage(states: states, next: page.more ? last.delivery : max(last.delivery, lastNotice),
                        after: page.more ? last.seq : nil, more: page.more, drops: page.drops, metadata: metadata, grants: page.grants,
                        directoryVersion: page.directoryVersion)
    }
}
