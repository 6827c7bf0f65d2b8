#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One value a field can hold: text (also dates, timestamps, enumerations, record ids), an
/// integer, or a boolean — the three JSON scalar types the schema uses.
///
/// Text compares by its UTF-8 bytes, not by Unicode canonical equivalence, so that equal
/// values always encode to equal bytes and every replica agrees on order.
public enum FieldValue: Hashable, Comparable, Sendable, CustomStringConvertible {
    case text(String)
    case integer(Int)
    case boolean(Bool)

    /// Same case and same value; text compares by UTF-8 bytes, not by Unicode equivalence.
    public static func == (lhs: FieldValue, rhs: FieldValue) -> Bool {
        switch (lhs, rhs) {
        case let (.text(left), .text(right)): return utf8Equal(left, right)
        case let (.integer(left), .integer(right)): return left == right
        case let (.boolean(left), .boolean(right)): return left == right
        default: return false
        }
    }

    /// Hashes the case and the value (text by its bytes), consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case let .text(value):
            hasher.combine(0 as UInt8)
            for byte in value.utf8 { hasher.combine(byte) }
        case let .integer(value):
            hasher.combine(1 as UInt8)
            hasher.combine(value)
        case let .boolean(value):
            hasher.combine(2 as UInt8)
            hasher.combine(value)
        }
    }

    /// Canonical order: booleans, then integers, then text by bytes.
    public static func < (lhs: FieldValue, rhs: FieldValue) -> Bool {
        switch (lhs, rhs) {
        case let (.boolean(left), .boolean(right)): return !left && right
        case let (.integer(left), .integer(right)): return left < right
        case let (.text(left), .text(right)): return utf8Precedes(left, right)
        case (.boolean, _): return true
        case (.integer, .text): return true
        default: return false
        }
    }

    /// The text, when this is text.
    public var text: String? {
        if case let .text(value) = self { return value }
        return nil
    }

    /// The value as people see it: the text itself, the decimal number, or `true`/`false`.
    public var description: String {
        switch self {
        case let .text(value): return value
        case let .integer(value): return String(value)
        case let .boolean(value): return value ? "true" : "false"
        }
    }
}

/// Byte order of two strings: the canonical order of set elements and map keys.
func utf8Precedes(_ lhs: String, _ rhs: String) -> Bool {
    var lhs = lhs
    var rhs = rhs
    return lhs.withUTF8 { left in
        rhs.withUTF8 { right in
            let common = min(left.count, right.count)
            if common > 0, let leftBase = left.baseAddress, let rightBase = right.baseAddress {
                let order = memcmp(leftBase, rightBase, common)
                if order != 0 { return order < 0 }
            }
            return left.count < right.count
        }
    }
}

/// Byte equality of two strings (not Unicode canonical equivalence, which `==` uses).
func utf8Equal(_ lhs: String, _ rhs: String) -> Bool {
    guard lhs.utf8.count == rhs.utf8.count else { return false }
    var lhs = lhs
    var rhs = rhs
    return lhs.withUTF8 { left in
        rhs.withUTF8 { right in
            guard let leftBase = left.baseAddress, let rightBase = right.baseAddress else { return true }
            return memcmp(leftBase, rightBase, left.count) == 0
        }
    }
}

/// Byte order of two byte runs: negative, zero or positive.
@inline(__always)
func compareText(_ left: UnsafeBufferPointer<UInt8>, _ right: UnsafeBufferPointer<UInt8>) -> Int {
    let common = min(left.count, right.count)
    if common > 0, let leftBase = left.baseAddress, let rightBase = right.baseAddress {
        let order = memcmp(leftBase, rightBase, common)
        if order != 0 { return Int(order) }
    }
    return left.count - right.count
}

/// Byte order of a string and a byte run: negative, zero or positive.
func compareText(_ text: String, _ bytes: UnsafeBufferPointer<UInt8>) -> Int {
    var text = text
    return text.withUTF8 { compareText($0, bytes) }
}
