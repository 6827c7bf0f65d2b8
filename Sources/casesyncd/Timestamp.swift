import Foundation

/// Milliseconds since the Unix epoch, and how operators read them.
enum Timestamp {
    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// `2026-12-01T10:00:00Z`.
    static func text(_ milliseconds: Int64) -> String {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000).formatted(.iso8601)
    }

    /// `20261201T100000Z`, for file names.
    static func fileStamp(_ milliseconds: Int64) -> String {
        text(milliseconds).filter { $0 != "-" && $0 != ":" }
    }
}
