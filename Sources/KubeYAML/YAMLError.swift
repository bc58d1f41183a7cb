/// A YAML reading error with the 1-based position libyaml (or the value builder) reported.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line of the problem.
    public let line: Int
    /// 1-based column of the problem.
    public let column: Int
    /// A human-readable explanation, e.g. `mapping key "name" already defined at line 3`.
    public let message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "yaml: line \(line), column \(column): \(message)" }
}

/// A position in the input; libyaml counts from 0, users from 1, so `Mark` stores the 1-based form.
struct Mark: Sendable, Equatable {
    var line: Int
    var column: Int

    func error(_ message: String) -> YAMLError { YAMLError(line: line, column: column, message: message) }
}
