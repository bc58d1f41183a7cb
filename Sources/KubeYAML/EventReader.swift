import CYAML

/// One libyaml parser event, copied into Swift values so that no libyaml memory outlives `yaml_event_delete`.
enum Event {
    case streamStart
    case streamEnd
    case documentStart
    case documentEnd
    case alias(String)
    case scalar(ScalarEvent)
    case sequenceStart(anchor: String?)
    case sequenceEnd
    case mappingStart(anchor: String?)
    case mappingEnd
}

struct ScalarEvent {
    var value: String
    var anchor: String?
    /// The resolved tag (`!!str` arrives as `tag:yaml.org,2002:str`), nil when the scalar has none.
    var tag: String?
    /// Plain style without a tag: the only scalars whose type is implicit.
    var plainImplicit: Bool
}

/// Drives libyaml's event parser (`yaml_parser_parse`) over UTF-8 text.
enum EventReader {
    /// Calls `body` with every event of the stream and the 1-based position where it starts.
    static func read(_ text: String, _ body: (Event, Mark) throws(YAMLError) -> Void) throws(YAMLError) {
        // libyaml keeps a pointer to the input for the parser's whole life and asserts it is non-NULL,
        // so the bytes live in one buffer (at least one byte long) freed after the parser.
        var bytes = Array(text.utf8)
        let length = bytes.count
        bytes.append(0)
        let buffer = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: bytes.count)
        defer { buffer.deallocate() }
        _ = buffer.initialize(from: bytes)
        guard let input = buffer.baseAddress else {
            throw YAMLError(line: 1, column: 1, message: "cannot allocate the YAML input buffer")
        }

        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) != 0 else {
            throw YAMLError(line: 1, column: 1, message: "cannot initialise the YAML parser (out of memory)")
        }
        defer { yaml_parser_delete(parser) }
        // No explicit encoding: libyaml then detects UTF-8 and skips a leading byte order mark.
        yaml_parser_set_input_string(parser, input, length)

        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(parser, &event) != 0 else {
                throw parserError(parser.pointee, bytes: bytes)
            }
            let mark = Mark(line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
            let converted = convert(event)
            let isEnd = event.type == YAML_STREAM_END_EVENT
            yaml_event_delete(&event)
            guard let converted else { continue }
            try body(converted, mark)
            if isEnd { return }
        }
    }

    /// Copies what the value builder needs out of a libyaml event (nil for events it ignores).
    private static func convert(_ event: yaml_event_t) -> Event? {
        switch event.type {
        case YAML_STREAM_START_EVENT: return .streamStart
        case YAML_STREAM_END_EVENT: return .streamEnd
        case YAML_DOCUMENT_START_EVENT: return .documentStart
        case YAML_DOCUMENT_END_EVENT: return .documentEnd
        case YAML_ALIAS_EVENT: return .alias(string(event.data.alias.anchor) ?? "")
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            let value = s.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: s.length), as: UTF8.self) }
            return .scalar(ScalarEvent(
                value: value ?? "",
                anchor: string(s.anchor),
                tag: string(s.tag),
                plainImplicit: s.plain_implicit != 0 && s.style == YAML_PLAIN_SCALAR_STYLE))
        case YAML_SEQUENCE_START_EVENT: return .sequenceStart(anchor: string(event.data.sequence_start.anchor))
        case YAML_SEQUENCE_END_EVENT: return .sequenceEnd
        case YAML_MAPPING_START_EVENT: return .mappingStart(anchor: string(event.data.mapping_start.anchor))
        case YAML_MAPPING_END_EVENT: return .mappingEnd
        default: return nil
        }
    }

    private static func string(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        p.map { String(cString: $0) }
    }

    /// libyaml's problem (and context) at its 1-based position. Reader errors (e.g. a control character)
    /// carry only a byte offset, which is turned into line and column here.
    private static func parserError(_ parser: yaml_parser_t, bytes: [UInt8]) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "invalid YAML"
        switch parser.error {
        case YAML_MEMORY_ERROR:
            return YAMLError(line: 1, column: 1, message: "out of memory while parsing YAML")
        case YAML_READER_ERROR:
            let at = position(ofByte: parser.problem_offset, in: bytes)
            let value = parser.problem_value >= 0 ? " (#\(String(parser.problem_value, radix: 16, uppercase: true)))" : ""
            return at.error(problem + value)
        default:
            let at = Mark(line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1)
            guard let context = parser.context.map({ String(cString: $0) }) else { return at.error(problem) }
            let ctx = Mark(line: Int(parser.context_mark.line) + 1, column: Int(parser.context_mark.column) + 1)
            return at.error("\(problem) (\(context) at line \(ctx.line), column \(ctx.column))")
        }
    }

    /// 1-based line and column (in characters) of a byte offset.
    static func position(ofByte offset: Int, in bytes: [UInt8]) -> Mark {
        var mark = Mark(line: 1, column: 1)
        for b in bytes.prefix(offset) {
            if b == UInt8(ascii: "\n") {
                mark.line += 1
                mark.column = 1
            } else if b & 0xC0 != 0x80 {  // count characters, not UTF-8 continuation bytes
                mark.column += 1
            }
        }
        return mark
    }
}
