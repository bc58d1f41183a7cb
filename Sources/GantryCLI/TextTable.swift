/// Columns aligned as kubectl aligns them: each padded to its widest cell plus three spaces, the last unpadded.
enum TextTable {
    static func render(_ lines: [[String]]) -> String {
        let widths = (lines.first ?? []).indices.map { i in lines.map { $0.indices.contains(i) ? $0[i].count : 0 }.max() ?? 0 }
        return lines.map { line in
            line.enumerated().map { i, cell in
                i == line.count - 1 ? cell : cell.padding(toLength: widths[i] + 3, withPad: " ", startingAt: 0)
            }.joined()
        }.joined(separator: "\n") + "\n"
    }
}

extension StringProtocol {
    /// The text without the blanks padding its end (a row whose last cells are empty).
    var withoutTrailingBlanks: String { String(reversed().drop { $0 == " " }.reversed()) }
}
