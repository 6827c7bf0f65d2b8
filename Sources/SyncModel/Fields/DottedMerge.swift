/// Anything identified by the dot of the write that made it.
protocol Dotted {
    var dot: Dot { get }
}

/// The one merge rule every field kind shares.
///
/// Given two lists sorted by dot and the version vectors of the states they came from, keep
/// every item both sides hold, and every item one side holds that the other has not seen.
/// An item one side lacks although it has seen its dot was overwritten (or removed) there,
/// so it is dropped. This is the join of dot-stores under a causal context; it is
/// commutative, associative and idempotent. If the two sides disagree about the content of
/// one dot (an invalid history), the smaller by `prefer` is kept so the result still does
/// not depend on argument order.
@inline(__always)
func mergeDotted<Item: Dotted & Hashable & Sendable>(
    _ left: SmallArray<Item>, seenByLeft: VersionVector,
    _ right: SmallArray<Item>, seenByRight: VersionVector,
    prefer: (Item, Item) -> Bool
) -> SmallArray<Item> {
    if left == right { return left }
    var result = SmallArray<Item>()
    var leftIndex = 0
    var rightIndex = 0
    while leftIndex < left.count || rightIndex < right.count {
        if rightIndex == right.count || (leftIndex < left.count && left[leftIndex].dot < right[rightIndex].dot) {
            let item = left[leftIndex]
            if !seenByRight.contains(item.dot) { result.append(item) }
            leftIndex += 1
        } else if leftIndex == left.count || right[rightIndex].dot < left[leftIndex].dot {
            let item = right[rightIndex]
            if !seenByLeft.contains(item.dot) { result.append(item) }
            rightIndex += 1
        } else {
            let leftItem = left[leftIndex]
            let rightItem = right[rightIndex]
            result.append(leftItem == rightItem || prefer(leftItem, rightItem) ? leftItem : rightItem)
            leftIndex += 1
            rightIndex += 1
        }
    }
    return result
}
