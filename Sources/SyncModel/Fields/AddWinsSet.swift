/// An add-wins observed-remove set of text elements (mediators, attendees).
///
/// Each element carries the stamps of the adds that put it there. Removing an element drops
/// the stamps the remover has seen; an add concurrent with a remove has a stamp the remover
/// had not seen, so it survives: concurrent add and remove never conflict, add wins.
/// Invariant: elements sorted by UTF-8 bytes and unique; each holds ≥ 1 stamp, sorted by dot.
public struct AddWinsSet: Hashable, Sendable {
    /// One element and the adds that keep it in the set.
    public struct Element: Hashable, Sendable {
        /// The member itself, compared by its UTF-8 bytes.
        public let value: String
        /// The adds that keep this element in the set, sorted by dot; never empty in a valid state.
        public internal(set) var stamps: SmallArray<Stamp>

        /// An element with its add stamps, sorted here by dot.
        public init(value: String, stamps: [Stamp]) {
            self.value = value
            self.stamps = SmallArray(stamps.sorted())
        }

        /// Equal when the values have the same bytes and the stamps are the same.
        public static func == (lhs: Element, rhs: Element) -> Bool {
            utf8Equal(lhs.value, rhs.value) && lhs.stamps == rhs.stamps
        }

        /// Hashes the value's bytes and the stamps, consistent with `==`.
        public func hash(into hasher: inout Hasher) {
            for byte in value.utf8 { hasher.combine(byte) }
            hasher.combine(stamps)
        }
    }

    /// The members with their add stamps, sorted by the members' UTF-8 bytes.
    public internal(set) var elements: [Element]

    /// A set of `elements`, sorted here by value bytes; the caller keeps the values unique.
    public init(elements: [Element]) {
        self.elements = elements.sorted { utf8Precedes($0.value, $1.value) }
    }

    init(sortedElements: [Element]) { elements = sortedElements }

    /// The members, in canonical order.
    public var members: [String] { elements.map(\.value) }

    /// Whether `member` is in the set, comparing UTF-8 bytes (not Unicode equivalence).
    public func contains(_ member: String) -> Bool {
        elements.contains { utf8Equal($0.value, member) }
    }
}

extension AddWinsSet.Element {
    init(value: String, sortedStamps: SmallArray<Stamp>) {
        self.value = value
        stamps = sortedStamps
    }
}

