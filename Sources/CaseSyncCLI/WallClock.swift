import Foundation
import SyncModel

/// Time as the CLI sees it. `CASESYNC_NOW` (RFC 3339) pins it, for demos and tests that
/// need a known "today"; otherwise it is the system clock. Dates shown and filled in
/// ("agreed today") use the local time zone.
struct WallClock {
    let now: Date

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let pinned = environment["CASESYNC_NOW"], let date = Self.parseTimestamp(pinned) {
            now = date
        } else {
            now = Date()
        }
    }

    /// Milliseconds since the Unix epoch.
    var milliseconds: Int64 { Int64((now.timeIntervalSince1970 * 1000).rounded()) }

    /// Today's date in the local time zone, `YYYY-MM-DD`.
    var today: String {
        let parts = Calendar.current.dateComponents([.year, .month, .day], from: now)
        return String(format: "%04d-%02d-%02d", parts.year ?? 1970, parts.month ?? 1, parts.day ?? 1)
    }

    var year: Int { Calendar.current.component(.year, from: now) }

    /// Accepts `YYYY-MM-DDTHH:MM[:SS][.fff][Z|±HH:MM]` or with a space for `T`; a time
    /// without a zone is local. Returns the RFC 3339 form the schema stores.
    static func normalizeTimestamp(_ text: String) -> String? {
        guard let date = parseTimestamp(text) else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone.current
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }

    static func parseTimestamp(_ text: String) -> Date? {
        var text = text.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: " ", with: "T")
        guard text.count >= 16 else { return nil }
        let timePart = text.dropFirst(11)
        if timePart.count == 5 || (timePart.count > 5 && !timePart.dropFirst(5).hasPrefix(":")) {
            text.insert(contentsOf: ":00", at: text.index(text.startIndex, offsetBy: 16))
        }
        let hasZone = text.hasSuffix("Z") || text.dropFirst(19).contains("+") || text.dropFirst(19).contains("-")
        if !hasZone {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone.current
            formatter.dateFormat = text.contains(".") ? "yyyy-MM-dd'T'HH:mm:ss.SSS" : "yyyy-MM-dd'T'HH:mm:ss"
            return formatter.date(from: text)
        }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = text.contains(".") ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// `2026-11-22T14:02:00Z`, for JSON output. Computed (`CivilDate`), not formatted:
    /// lists print one per row, and formatters are slow to make.
    static func iso(_ milliseconds: Int64) -> String {
        let seconds = milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
        let secondOfDay = ((seconds % 86_400) + 86_400) % 86_400
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : String(value) }
        return CivilDate.string(milliseconds: milliseconds) + "T\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))Z"
    }

    /// `2026-11-22 14:02`, local time, for people.
    static func human(_ milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone.current
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
