/// An array that keeps a single element inline, without a heap allocation.
///
/// Nearly every register holds one value and nearly every set element one add stamp; keeping
/// that one inline removes most allocations from decoding and merging record states.
/// Invariant: `.many` never holds exactly one element, so equal contents have equal cases.
public enum SmallArray<Element: Hashable & Sendable>: RandomAccessCollection, Hashable, Sendable {
    case one(Element)
    case many([Element])

    /// An empty array; allocates nothing.
    public init() { self = .many([]) }

    /// The elements of `elements` in order; a single element is kept inline.
    public init<S: Sequence>(_ elements: S) where S.Element == Element {
        var result = SmallArray()
        for element in elements { result.append(element) }
        self = result
    }

    /// Always 0: indices are positions from the start, as in `Array`.
    public var startIndex: Int { 0 }

    /// The number of elements (1 for `.one`).
    public var endIndex: Int {
        switch self {
        case .one: return 1
        case let .many(elements): return elements.count
        }
    }

    /// The element at `position`; traps when it is out of range, as `Array` does.
    public subscript(position: Int) -> Element {
        switch self {
        case let .one(element):
            precondition(position == 0, "index out of range")
            return element
        case let .many(elements):
            return elements[position]
        }
    }

    /// Adds `element` at the end; the second element moves the storage from inline to an array.
    public mutating func append(_ element: Element) {
        switch self {
        case let .one(first):
            self = .many([first, element])
        case var .many(elements):
            if elements.isEmpty {
                self = .one(element)
            } else {
                self = .many([])  // drop the reference so the append below does not copy
                elements.append(element)
                self = .many(elements)
            }
        }
    }

    /// Equal when the elements are equal, in order.
    public static func == (lhs: SmallArray, rhs: SmallArray) -> Bool {
        switch (lhs, rhs) {
        case let (.one(left), .one(right)): return left == right
        default: return lhs.elementsEqual(rhs)
        }
    }

    /// Hashes the count and then each element, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for element in self { hasher.combine(element) }
    }
}

extension SmallArray: ExpressibleByArrayLiteral {
    /// `[a, b]` literals, built as by `init(_:)`.
    public init(arrayLiteral elements: Element...) { self.init(elements) }
}
