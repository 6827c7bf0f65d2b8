/// Durations as people type them on both command lines: `90s`, `30m`, `24h`, `7d`.
public enum DurationText {
    /// The seconds `text` names, or nil when it is malformed, not positive, or longer than
    /// `limit` seconds (which also keeps the arithmetic from overflowing).
    public static func seconds(_ text: String, upTo limit: Int64) -> Int64? {
        guard let unit = text.last, text.dropLast().allSatisfy(\.isASCII), let number = Int64(text.dropLast()), number > 0 else { return nil }
        let scale: Int64
        switch unit {
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        case "d": scale = 86_400
        default: return nil
        }
        let (seconds, overflow) = number.multipliedReportingOverflow(by: scale)
        guard !overflow, seconds <= limit else { return nil }
        return seconds
    }
}
