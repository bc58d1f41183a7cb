/// Options of LIST and WATCH requests, as query parameters.
public struct ListOptions: Sendable, Hashable {
    public var labelSelector: String?
    public var fieldSelector: String?
    public var limit: Int?
    public var continueToken: String?
    public var resourceVersion: String?
    public var timeoutSeconds: Int?
    public var allowWatchBookmarks: Bool

    public init(labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil, continueToken: String? = nil,
                resourceVersion: String? = nil, timeoutSeconds: Int? = nil, allowWatchBookmarks: Bool = false) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
        self.timeoutSeconds = timeoutSeconds
        self.allowWatchBookmarks = allowWatchBookmarks
    }

    public var queryItems: [(String, String)] {
        var items: [(String, String)] = []
        if let labelSelector { items.append(("labelSelector", labelSelector)) }
        if let fieldSelector { items.append(("fieldSelector", fieldSelector)) }
        if let limit { items.append(("limit", String(limit))) }
        if let continueToken { items.append(("continue", continueToken)) }
        if let resourceVersion { items.append(("resourceVersion", resourceVersion)) }
        if let timeoutSeconds { items.append(("timeoutSeconds", String(timeoutSeconds))) }
        if allowWatchBookmarks { items.append(("allowWatchBookmarks", "true")) }
        return items
    }
}

/// The content types of PATCH (rule 12).
public enum PatchType: String, Sendable, Hashable {
    case merge = "application/merge-patch+json"
    case json = "application/json-patch+json"
    case strategicMerge = "application/strategic-merge-patch+json"
    case apply = "application/apply-patch+yaml"
}

public enum PropagationPolicy: String, Sendable, Hashable {
    case background = "Background"
    case foreground = "Foreground"
    case orphan = "Orphan"
}

/// Options of DELETE, sent as a `DeleteOptions` body.
public struct DeleteOptions: Sendable, Hashable {
    public var propagationPolicy: PropagationPolicy?
    public var gracePeriodSeconds: Int?
    public var preconditionUID: String?
    public var preconditionResourceVersion: String?
    public var dryRun: Bool

    public init(propagationPolicy: PropagationPolicy? = nil, gracePeriodSeconds: Int? = nil, preconditionUID: String? = nil,
                preconditionResourceVersion: String? = nil, dryRun: Bool = false) {
        self.propagationPolicy = propagationPolicy
        self.gracePeriodSeconds = gracePeriodSeconds
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
        self.dryRun = dryRun
    }

    public var body: JSONValue {
        var v: JSONValue = ["apiVersion": "v1", "kind": "DeleteOptions"]
        if let propagationPolicy { v["propagationPolicy"] = .string(propagationPolicy.rawValue) }
        if let gracePeriodSeconds { v["gracePeriodSeconds"] = .int(Int64(gracePeriodSeconds)) }
        if let preconditionUID { v[path: "preconditions", "uid"] = .string(preconditionUID) }
        if let preconditionResourceVersion { v[path: "preconditions", "resourceVersion"] = .string(preconditionResourceVersion) }
        if dryRun { v["dryRun"] = ["All"] }
        return v
    }
}
