extension JSONValue {
    /// A list document (`{"metadata": …, "items": […]}`) whose items are projected by `itemMask` while they are
    /// read: what the mask drops is checked as strictly as by `parse` but never built. The result equals `parse`
    /// followed by `itemMask.project` on every item (an item of which nothing is kept becomes `{}`); the other
    /// members are parsed whole. For a cache that keeps a few fields of each object (informer field masks), most
    /// of a large list is never turned into a tree.
    public static func parseList(_ bytes: some Collection<UInt8>, itemMask: FieldMask,
                                 droppingManagedFields: Bool) throws(JSONParseError) -> JSONValue {
        try parseDocument(bytes, droppingManagedFields: droppingManagedFields) { (parser) throws(JSONParseError) in
            try parser.parseList(itemMask: itemMask)
        }
    }
}

extension JSONValue {
    /// A watch event (`{"type": …, "object": …}`) whose object is projected by `objectMask` while it is read, for
    /// ADDED, MODIFIED and DELETED events: the result equals `parse` followed by `objectMask.project` on the
    /// object of those events. BOOKMARK and ERROR objects (a resource version, a Status) are parsed whole. When
    /// the object comes before the type (the API server writes the type first), it is parsed whole and projected.
    public static func parseWatchEvent(_ bytes: some Collection<UInt8>, objectMask: FieldMask,
                                       droppingManagedFields: Bool) throws(JSONParseError) -> JSONValue {
        try parseDocument(bytes, droppingManagedFields: droppingManagedFields) { (parser) throws(JSONParseError) in
            try parser.parseWatchEvent(objectMask: objectMask)
        }
    }

    /// The event types whose object is the watched resource (the rest carry a bookmark or a Status).
    static let objectEventTypes: Set<String> = ["ADDED", "MODIFIED", "DELETED"]
}

extension JSONByteParser {
    /// The top-level watch event object; `object` masked when `type` came first and names a resource event.
    mutating func parseWatchEvent(objectMask: FieldMask) throws(JSONParseError) -> JSONValue {
        var maskedFrom: Int? = nil  // where the object masked while read starts
        guard var object = try Self.topLevelMembers(&self, { (parser, key, object) throws(JSONParseError) in
            if key == "object", let type = object["type"]?.stringValue, JSONValue.objectEventTypes.contains(type) {
                maskedFrom = parser.pos
                object[key] = try parser.parseMasked(depth: 1, mask: objectMask, isMetadata: false) ?? .emptyObject
            } else {
                object[key] = try parser.parseValue(depth: 1, isMetadata: false)
                if key == "object" { maskedFrom = nil }
            }
        }) else { return try parseValue(depth: 0) }
        let resourceEvent = object["type"]?.stringValue.map(JSONValue.objectEventTypes.contains) ?? false
        if maskedFrom == nil, resourceEvent, let whole = object["object"] {
            object["object"] = objectMask.project(whole)  // the object came before its type
        } else if let start = maskedFrom, !resourceEvent {
            // A later duplicate "type" made it a bookmark or an error after all: its object is read again, whole.
            let end = pos
            pos = start
            object["object"] = try parseValue(depth: 1, isMetadata: false)
            pos = end
        }
        return .object(object)
    }

    /// The top-level list object; `items` (when an array) projected element by element.
    mutating func parseList(itemMask: FieldMask) throws(JSONParseError) -> JSONValue {
        guard let object = try Self.topLevelMembers(&self, { (parser, key, object) throws(JSONParseError) in
            if key == "items", parser.pos < parser.buf.count, parser.buf[parser.pos] == UInt8(ascii: "[") {
                object[key] = try parser.parseItems(mask: itemMask)
            } else {
                object[key] = try parser.parseValue(depth: 1, isMetadata: parser.droppingManagedFields && key == "metadata")
            }
        }) else { return try parseValue(depth: 0) }
        return .object(object)
    }

    /// The members of a top-level object, each value read by `read` (the parser at the value, past its key and
    /// colon; the members so far at hand); nil when the document is not an object (nothing read but whitespace).
    static func topLevelMembers(_ parser: inout JSONByteParser,
                                _ read: (inout JSONByteParser, String, inout [String: JSONValue]) throws(JSONParseError) -> Void)
        throws(JSONParseError) -> [String: JSONValue]? {
        parser.skipWhitespace()
        guard parser.pos < parser.buf.count, parser.buf[parser.pos] == UInt8(ascii: "{") else { return nil }
        parser.pos += 1
        var object: [String: JSONValue] = [:]
        parser.skipWhitespace()
        if parser.pos < parser.buf.count, parser.buf[parser.pos] == UInt8(ascii: "}") { parser.pos += 1; return object }
        while true {
            let key = try parser.parseMemberKey()
            parser.skipWhitespace()
            try read(&parser, key, &object)
            if try !parser.continues(closingWith: UInt8(ascii: "}")) { return object }
        }
    }

    /// The `items` array, each element as `mask.project` leaves it.
    mutating func parseItems(mask: FieldMask) throws(JSONParseError) -> JSONValue {
        pos += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if pos < buf.count, buf[pos] == UInt8(ascii: "]") { pos += 1; return .array(items) }
        while true {
            items.append(try parseMasked(depth: 2, mask: mask, isMetadata: false) ?? .emptyObject)
            if try !continues(closingWith: UInt8(ascii: "]")) { return .array(items) }
        }
    }

    /// One value as `mask.apply` would leave it (nil: nothing kept), building only what is kept.
    mutating func parseMasked(depth: Int, mask: FieldMask, isMetadata: Bool) throws(JSONParseError) -> JSONValue? {
        if depth > Self.maxDepth { throw fail("nesting deeper than \(Self.maxDepth)") }
        skipWhitespace()
        guard pos < buf.count else { throw fail("unexpected end of input") }
        switch mask {
        case .all:
            return try parseValue(depth: depth, isMetadata: isMetadata)
        case let .object(keys, prefixes):
            guard buf[pos] == UInt8(ascii: "{") else { try skipValue(depth: depth); return nil }
            return try parseMaskedObject(depth: depth, keys: keys, prefixes: prefixes, isMetadata: isMetadata)
        case let .elements(element, filterKey, values):
            guard buf[pos] == UInt8(ascii: "[") else { try skipValue(depth: depth); return nil }
            pos += 1
            var kept: [JSONValue] = []
            skipWhitespace()
            if pos < buf.count, buf[pos] == UInt8(ascii: "]") { pos += 1; return nil }
            while true {
                if let filterKey {
                    // The filter reads a member the element's mask may not keep: the element is built whole
                    // (conditions: small) and filtered and projected as `FieldMask.apply` does.
                    let item = try parseValue(depth: depth + 1)
                    if values.contains(item[filterKey]?.stringValue ?? ""), let k = element.apply(item) { kept.append(k) }
                } else if let k = try parseMasked(depth: depth + 1, mask: element, isMetadata: false) {
                    kept.append(k)
                }
                if try !continues(closingWith: UInt8(ascii: "]")) { return kept.isEmpty ? nil : .array(kept) }
            }
        }
    }

    /// An object under `.object(keys:prefixes:)`: a member named in `keys` under its own mask, else (or when its
    /// own mask keeps nothing of it) under the first prefix it starts with, else stepped over. The last of
    /// duplicate keys wins, as in a parsed object.
    mutating func parseMaskedObject(depth: Int, keys: [String: FieldMask], prefixes: [String: FieldMask],
                                    isMetadata: Bool) throws(JSONParseError) -> JSONValue? {
        pos += 1
        var kept: [String: JSONValue] = [:]
        skipWhitespace()
        if pos < buf.count, buf[pos] == UInt8(ascii: "}") { pos += 1; return nil }
        while true {
            let key = try parseMemberKey()
            let own = keys[key]
            let prefixed = prefixes.isEmpty ? nil : prefixes.first(where: { key.hasPrefix($0.key) })?.value
            let metadata = droppingManagedFields && key == "metadata"
            if (own == nil && prefixed == nil) || (isMetadata && key == "managedFields") {
                try skipValue(depth: depth + 1)
                kept[key] = nil
            } else {
                let start = pos
                var value: JSONValue? = nil
                if let own { value = try parseMasked(depth: depth + 1, mask: own, isMetadata: metadata) }
                if value == nil, let prefixed {
                    pos = start
                    value = try parseMasked(depth: depth + 1, mask: prefixed, isMetadata: metadata)
                }
                kept[key] = value
            }
            if try !continues(closingWith: UInt8(ascii: "}")) { return kept.isEmpty ? nil : .object(kept) }
        }
    }
}
