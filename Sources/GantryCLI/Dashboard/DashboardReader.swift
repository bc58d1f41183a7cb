import GantryAPI
import KubeClient
import KubeCore

/// Why a section of a page has nothing to show: the user may not read it, or the server does not serve it. A
/// page shows this in place of the section; it is not an error page.
struct Unavailable: Sendable, Hashable {
    enum Reason: Sendable, Hashable { case forbidden, notServed }
    var reason: Reason
    /// What the page says ("No access", "Not installed").
    var title: String
    var detail: String

    static func forbidden(_ message: String) -> Unavailable { Unavailable(reason: .forbidden, title: "No access", detail: message) }

    static func from(_ error: APIError, _ type: ResourceType) -> Unavailable? {
        if error.isForbidden { return .forbidden(error.message) }
        // A 404 on a list is a kind the server does not serve (the CRDs are not installed).
        if error.isNotFound {
            let resource = type.group.isEmpty ? type.plural : "\(type.plural).\(type.group)"
            return Unavailable(reason: .notServed, title: "Not installed", detail: "the API server does not serve \(resource): \(error.message)")
        }
        return nil
    }
}

/// The objects of one kind a user may read, or why there are none.
struct Listing: Sendable {
    var items: [JSONValue] = []
    var unavailable: Unavailable?
    /// Set when the list fell back to the context's namespace because the user may not list across namespaces
    /// (not when a namespace was asked for).
    var narrowedTo: String?
}

/// Reads the cluster with the user's own credentials. A kind the user may not list across namespaces is read in
/// the kubeconfig context's namespace, as kubectl would; a 403 there too becomes "no access" for that kind.
struct DashboardReader: Sendable {
    let client: KubeClient
    /// `--namespace`: only this namespace, whatever the user may list.
    let namespace: String?
    /// The context's namespace: where a user who may not list across namespaces looks.
    let contextNamespace: String

    func list(_ type: ResourceType, labelSelector: String? = nil) async throws -> Listing {
        let options = ListOptions(labelSelector: labelSelector)
        guard type.namespaced else { return try await listing(type, nil, options) }
        if let namespace { return try await listing(type, namespace, options) }
        let all = try await listing(type, nil, options)
        guard all.unavailable?.reason == .forbidden else { return all }
        var narrowed = try await listing(type, contextNamespace, options)
        narrowed.narrowedTo = contextNamespace
        return narrowed
    }

    private func listing(_ type: ResourceType, _ namespace: String?, _ options: ListOptions) async throws -> Listing {
        do {
            return Listing(items: try await client.listAll(type, namespace: namespace, options: options).items)
        } catch let error as APIError {
            guard let unavailable = Unavailable.from(error, type) else { throw error }
            return Listing(unavailable: unavailable)
        }
    }

    /// The same user, reading `namespace` only (an object's own page reads its namespace).
    func scoped(to namespace: String) -> DashboardReader {
        DashboardReader(client: client, namespace: namespace, contextNamespace: namespace)
    }

    /// One object; `.unavailable` for a 403, nil for a 404.
    func get(_ type: ResourceType, _ namespace: String?, _ name: String) async throws -> Result<JSONValue?, UnavailableError> {
        do {
            return .success(try await client.get(type, namespace: namespace, name: name))
        } catch let error as APIError where error.isNotFound {
            return .success(nil)
        } catch let error as APIError where error.isForbidden {
            return .failure(UnavailableError(.forbidden(error.message)))
        }
    }

    /// The PlatformConfig, nil when there is none or the user may not read it (GPU allocation is still shown).
    func platformConfig() async throws -> JSONValue? {
        if case .success(let object) = try await get(.platformConfigs, nil, PlatformConfigSpec.singletonName) { return object }
        return nil
    }
}

struct UnavailableError: Error, Sendable {
    var unavailable: Unavailable
    init(_ unavailable: Unavailable) { self.unavailable = unavailable }
}
