/// The stable identity of one replica: a mediator's device, or the server for its own writes.
///
/// Device ids appear in every dot and version vector, so they are short, ASCII-only and
/// ordered by their bytes; that ordering is the canonical order of version-vector keys.
/// Invariant: 1–64 characters from `a-z 0-9 . _ -`, starting with a letter or digit.
public struct DeviceID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The id as written in JSON and shown to people.
    public let rawValue: String

    /// Validates `rawValue`; throws `ModelError` with code `invalid_device_id` otherwise.
    public init(_ rawValue: String) throws(ModelError) {
        guard DeviceID.isValid(rawValue) else {
            throw ModelError(.invalidDeviceID, "device id \"\(rawValue.prefix(80))\" must be 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit")
        }
        self.rawValue = rawValue
    }

    /// For values already checked (for example by the JSON reader).
    init(unchecked rawValue: String) {
        self.rawValue = rawValue
    }

    /// A fresh random device id of 12 base-32 characters (60 random bits), as `casesync init` makes.
    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> DeviceID {
        DeviceID(unchecked: Base32.encode(generator.next(), characters: 12))
    }

    /// The id as written, the same as `rawValue`.
    public var description: String { rawValue }

    /// Whether `name` is a valid user name (the same alphabet as device ids).
    public static func isUserName(_ name: String) -> Bool { isValid(name) }

    /// A placeholder for stored ids that no longer parse; never matches a real device.
    public static let unknown = DeviceID(unchecked: "unknown")

    /// Byte order of the ids: the canonical order of version-vector keys and of dots.
    public static func < (lhs: DeviceID, rhs: DeviceID) -> Bool {
        // ASCII-only, so byte order is the canonical order (and much cheaper than String's `<`).
        utf8Precedes(lhs.rawValue, rhs.rawValue)
    }

    /// Byte order of two ids: negative, zero or positive. Walks over two sorted lists of ids
    /// mostly meet equal ones, which `==` finds without comparing bytes.
    @inline(__always)
    static func order(_ lhs: DeviceID, _ rhs: DeviceID) -> Int {
        if lhs.rawValue == rhs.rawValue { return 0 }  // ASCII: equal as strings iff equal bytes
        return lhs < rhs ? -1 : 1
    }

    static func isValid(_ string: String) -> Bool {
        var string = string
        return string.withUTF8 { isValid($0) }
    }

    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard (1...64).contains(bytes.count), let first = bytes.first, first.isLowerAlphanumeric else {
            return false
        }
        return bytes.allSatisfy { $0.isLowerAlphanumeric || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }
}

extension UInt8 {
    var isLowerAlphanumeric: Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(self) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self)
    }
}
