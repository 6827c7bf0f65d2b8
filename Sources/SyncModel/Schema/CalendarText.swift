/// Checks for the date and timestamp text forms the schema accepts, without Foundation.
enum CalendarText {
    /// `YYYY-MM-DD`, a real calendar day (leap years included), years 1900–9999.
    static func isDate(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { isDate($0) }
    }

    static func isDate(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.count == 10 && checkDate(bytes[0..<10])
    }

    /// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    static func isTimestamp(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, isDate(String(decoding: bytes[0..<10], as: UTF8.self)), bytes[10] == UInt8(ascii: "T"),
              let hour = number(bytes[11..<13]), hour < 24, bytes[13] == UInt8(ascii: ":"),
              let minute = number(bytes[14..<16]), minute < 60, bytes[16] == UInt8(ascii: ":"),
              let second = number(bytes[17..<19]), second < 61 else { return false }
        var index = 19
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            let start = index
            while index < bytes.count, bytes[index].isDigit { index += 1 }
            guard index > start, index - start <= 9 else { return false }
        }
        guard index < bytes.count else { return false }
        if bytes[index] == UInt8(ascii: "Z") { return index + 1 == bytes.count }
        guard bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-"), bytes.count == index + 6,
              let zoneHour = number(bytes[(index + 1)..<(index + 3)]), zoneHour < 24, bytes[index + 3] == UInt8(ascii: ":"),
              let zoneMinute = number(bytes[(index + 4)..<(index + 6)]), zoneMinute < 60 else { return false }
        return true
    }

    private static func checkDate(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        let base = bytes.startIndex
        guard let year = number(bytes[base..<(base + 4)]), (1900...9999).contains(year), bytes[base + 4] == UInt8(ascii: "-"),
              let month = number(bytes[(base + 5)..<(base + 7)]), (1...12).contains(month), bytes[base + 7] == UInt8(ascii: "-"),
              let day = number(bytes[(base + 8)..<(base + 10)]), day >= 1 else { return false }
        return day <= daysIn(month: month, year: year)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    private static func number<Digits: Collection<UInt8>>(_ digits: Digits) -> Int? {
        var value = 0
        for byte in digits {
            guard byte.isDigit else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value
    }
}

extension UInt8 {
    var isDigit: Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(self) }
}
