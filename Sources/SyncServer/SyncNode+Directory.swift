import NodeStorage
import SyncProtocol

extension SyncNode {
    /// The directory a device of `account` may receive (PROTOCOL.md §15): people only for
    /// mediators and supervisors, the sites for every role. It holds no case content, so
    /// reading it is not audited.
    public func directory(for account: DeviceAccount) async throws -> (directory: NodeDirectory, version: Int) {
        let (directory, version) = try await store.directory()
        return (directory.visible(to: account.user.role), version)
    }
}
