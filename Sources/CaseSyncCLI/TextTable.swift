/// A plain aligned table for terminals: a header row and columns padded to their widest cell.
struct TextTable {
    let headers: [String]
    var rows: [[String]] = []

    init(headers: [String]) { self.headers = headers }

    init(_ headers: String...) { self.init(headers: headers) }

    mutating func add(_ cells: String...) { rows.append(cells) }

    var text: String {
        var widths = headers.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (index, cell) in cells.enumerated() {
                parts.append(index == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - cell.count))
            }
            return "  " + parts.joined(separator: "  ")
        }
        return ([line(headers)] + rows.map(line)).joined(separator: "\n")
    }
}

extension String {
    /// The first line, cut to `limit` characters with an ellipsis, for table cells.
    func cell(_ limit: Int = 48) -> String {
        let firstLine = split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return firstLine.count > limit ? String(firstLine.prefix(limit - 1)) + "…" : firstLine
    }
}
