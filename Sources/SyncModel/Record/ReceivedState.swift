/// A record state as it arrived from another replica, with the received bytes when they
/// were exactly its canonical JSON, so that a store can keep them instead of encoding the
/// state again. Invariant: `canonicalJSON`, when present, equals `state.canonicalJSON()`.
public struct ReceivedState: Sendable {
    public let state: RecordState
    public let canonicalJSON: [UInt8]?

    /// `canonicalJSON` must be the state's canonical bytes (or nil when unknown).
    public init(_ state: RecordState, canonicalJSON: [UInt8]? = nil) {
        self.state = state
        self.canonicalJSON = canonicalJSON
    }
}
