import CYAML
import KubeCore

/// Writes a `JSONValue` as block-style YAML through libyaml's emitter (`yaml_emitter_emit`).
/// libyaml picks a safe style when ours is not allowed (e.g. plain `- x` becomes `'- x'`), and this type
/// adds what libyaml cannot know: which plain scalars a YAML 1.1 reader would type as something else.
enum Emitter {
    static func emit(_ value: JSONValue) -> String {
        // libyaml only fails on a broken event sequence or an allocation failure; JSON is valid YAML, so the
        // compact JSON text is a correct (if less pretty) answer rather than a crash.
        emitYAML(value) ?? value.serialized() + "\n"
    }

    private static func emitYAML(_ value: JSONValue) -> String? {
        let emitter = UnsafeMutablePointer<yaml_emitter_t>.allocate(capacity: 1)
        defer { emitter.deallocate() }
        guard yaml_emitter_initialize(emitter) != 0 else { return nil }
        defer { yaml_emitter_delete(emitter) }

        let output = OutputBuffer()
        yaml_emitter_set_output(emitter, { data, buffer, size in
            guard let data, let buffer else { return 0 }
            let out = Unmanaged<OutputBuffer>.fromOpaque(data).takeUnretainedValue()
            out.bytes.append(contentsOf: UnsafeBufferPointer(start: buffer, count: size))
            return 1
        }, Unmanaged.passUnretained(output).toOpaque())
        yaml_emitter_set_unicode(emitter, 1)  // write UTF-8 text as is instead of \u escapes
        yaml_emitter_set_width(emitter, -1)  // never fold long lines: they stay greppable and diffable
        yaml_emitter_set_indent(emitter, 2)

        let ok = withExtendedLifetime(output) {
            var event = yaml_event_t()
            return yaml_stream_start_event_initialize(&event, YAML_UTF8_ENCODING) != 0
                && yaml_emitter_emit(emitter, &event) != 0
                && yaml_document_start_event_initialize(&event, nil, nil, nil, 1) != 0
                && yaml_emitter_emit(emitter, &event) != 0
                && emitNode(value, emitter)
                && yaml_document_end_event_initialize(&event, 1) != 0
                && yaml_emitter_emit(emitter, &event) != 0
                && yaml_stream_end_event_initialize(&event) != 0
                && yaml_emitter_emit(emitter, &event) != 0
                && yaml_emitter_flush(emitter) != 0
        }
        return ok ? String(decoding: output.bytes, as: UTF8.self) : nil
    }

    /// Emits one node and its children. `yaml_emitter_emit` takes ownership of (and frees) each event,
    /// even when it fails.
    private static func emitNode(_ value: JSONValue, _ emitter: UnsafeMutablePointer<yaml_emitter_t>) -> Bool {
        var event = yaml_event_t()
        switch value {
        case .null: return scalar("null", YAML_PLAIN_SCALAR_STYLE, emitter)
        case .bool(let b): return scalar(b ? "true" : "false", YAML_PLAIN_SCALAR_STYLE, emitter)
        case .int(let i): return scalar(String(i), YAML_PLAIN_SCALAR_STYLE, emitter)
        case .double(let d): return scalar(ScalarStyle.format(d), YAML_PLAIN_SCALAR_STYLE, emitter)
        case .string(let s): return scalar(s, ScalarStyle.style(for: s), emitter)
        case .array(let items):
            // Empty collections can only be written in flow style: `[]`, `{}`.
            let style = items.isEmpty ? YAML_FLOW_SEQUENCE_STYLE : YAML_BLOCK_SEQUENCE_STYLE
            guard yaml_sequence_start_event_initialize(&event, nil, nil, 1, style) != 0,
                yaml_emitter_emit(emitter, &event) != 0
            else { return false }
            for item in items where !emitNode(item, emitter) { return false }
            return yaml_sequence_end_event_initialize(&event) != 0 && yaml_emitter_emit(emitter, &event) != 0
        case .object(let members):
            let style = members.isEmpty ? YAML_FLOW_MAPPING_STYLE : YAML_BLOCK_MAPPING_STYLE
            guard yaml_mapping_start_event_initialize(&event, nil, nil, 1, style) != 0,
                yaml_emitter_emit(emitter, &event) != 0
            else { return false }
            for key in members.keys.sorted() {
                guard scalar(key, ScalarStyle.style(for: key), emitter),
                    let member = members[key], emitNode(member, emitter)
                else { return false }
            }
            return yaml_mapping_end_event_initialize(&event) != 0 && yaml_emitter_emit(emitter, &event) != 0
        }
    }

    private static func scalar(
        _ text: String, _ style: yaml_scalar_style_t, _ emitter: UnsafeMutablePointer<yaml_emitter_t>
    ) -> Bool {
        // libyaml copies the value and asserts a non-NULL pointer even for "", hence the trailing NUL.
        var bytes = Array(text.utf8)
        let length = Int32(clamping: bytes.count)
        bytes.append(0)
        var event = yaml_event_t()
        let initialised = bytes.withUnsafeMutableBufferPointer { buffer in
            yaml_scalar_event_initialize(&event, nil, nil, buffer.baseAddress, length, 1, 1, style) != 0
        }
        return initialised && yaml_emitter_emit(emitter, &event) != 0
    }
}

/// Collects the emitter's output; passed to libyaml's write callback as an unretained context pointer.
private final class OutputBuffer {
    var bytes: [UInt8] = []
}
