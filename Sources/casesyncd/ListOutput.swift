import Foundation

/// What `casesyncd`'s lists print with `--json`: one JSON array on stdout, keys sorted, an
/// absent value as `null`, times as RFC 3339 text — what a script parses instead of the
/// tab-separated table people read.
enum ListOutput {
    /// One row: field name → value (`String`, `Int`, `Bool` or `nil` for `null`).
    typealias Row = [String: Any?]

    static func print(_ rows: [Row]) throws {
        let objects: [[String: Any]] = rows.map { row in row.mapValues { $0 ?? NSNull() } }
        let data = try JSONSerialization.data(withJSONObject: objects, options: [.sortedKeys, .withoutEscapingSlashes])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    /// A JSON array of strings.
    static func print(strings: [String]) throws {
        let data = try JSONSerialization.data(withJSONObject: strings, options: [.withoutEscapingSlashes])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    /// A table cell: tabs and line breaks of free text become spaces, so each row stays one line.
    static func cell(_ text: String) -> String {
        text.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }
}
