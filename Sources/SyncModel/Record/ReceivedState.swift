/// A record state as it arrived from another replica, with the received bytes when they
/// were exactly its canonical JSON, so that a store can keep them instead of encoding the
/// state again. Invariant: `canonicalJSON`, when present, equals `state.canonicalJSON()`.
public struct ReceivedState: Sendable {
    /// The state decoded from the received bytes.
    public let state: RecordState
    /// The received bytes when they were already canonical, or nil when they were not (or are unknown).
    public let canonicalJSON: [UInt8]?

    /// `canonicalJSON` must be the state's canonical bytes (or nil when unknown).
    public init(_ state: RecordState, canonicalJSON: [UInt8]? = nil) {
        self.state = state
        self.canonicalJSON = canonicalJSON
    }
}
