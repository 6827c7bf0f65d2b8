/// What a node's storage says about the node itself, read once when a node starts.
public struct NodeState: Sendable, Hashable {
    /// Changes only when the node is restored from a backup; sent with every answer
    /// (`CaseSync-Generation`) so devices notice a rewound node and start over.
    public let generation: String
    /// Set after a restore until its window ends: devices may bring back writes of other
    /// devices the node lost (PROTOCOL.md, "Restore").
    public let restoreWindow: RestoreWindow?
    /// When this database was written as a backup and not restored since: such a copy must
    /// not serve (it would rewind the node silently).
    public let backupTaken: Int64?

    /// The node's state as its store reads it (`NodeStore.nodeState`).
    public init(generation: String, restoreWindow: RestoreWindow?, backupTaken: Int64?) {
        self.generation = generation
        self.restoreWindow = restoreWindow
        self.backupTaken = backupTaken
    }
}
