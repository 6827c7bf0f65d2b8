/// Crockford base-32 (no I, L, O, U), used for device ids and case references because it is
/// short, unambiguous when read aloud or copied by hand, and case-insensitive.
enum Base32 {
    static let lowercase = Array("0123456789abcdefghjkmnpqrstvwxyz".utf8)

    /// The low `characters * 5` bits of `value`, most significant first.
    static func encode(_ value: UInt64, characters: Int, uppercase: Bool = false) -> String {
        precondition((1...12).contains(characters), "at most 60 bits fit")
        var bytes = [UInt8](repeating: 0, count: characters)
        var rest = value
        for index in stride(from: characters - 1, through: 0, by: -1) {
            let symbol = lowercase[Int(rest & 31)]
            bytes[index] = uppercase && symbol >= UInt8(ascii: "a") ? symbol - 32 : symbol
            rest >>= 5
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
