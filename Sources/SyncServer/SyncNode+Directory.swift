import NodeStorage
import SyncModel
import SyncProtocol

extension SyncNode {
    /// The directory a device of `account` may receive (PROTOCOL.md §15), as JSON, with its
    /// version: people only for mediators and supervisors, the sites for every role. It holds
    /// no case content, so reading it is not audited. Encoded once per version
    /// (`DirectoryCache`): one small read of the version otherwise.
    public func directoryAnswer(for account: DeviceAccount) async throws -> (json: [UInt8], version: Int) {
        let people = account.user.role.syncsCases
        let version = try await store.directoryVersion()
        if let cached = directoryCache.answer(version: version, people: people) { return (cached, version) }
        let (directory, read) = try await store.directory()
        let entry = DirectoryCache.Entry(version: read, full: WireJSON.encode(directory), sitesOnly: WireJSON.encode(directory.sitesOnly))
        directoryCache.keep(entry)
        return (people ? entry.full : entry.sitesOnly, read)
    }
}
