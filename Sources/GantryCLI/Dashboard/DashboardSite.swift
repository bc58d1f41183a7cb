import Foundation
import GantryAPI
import GantryControllers
import KubeCore

/// What each page reads and how it is built: reads through `DashboardReader`, builds view models with the pure
/// `*Views`, renders with `DashboardPages`. The HTTP layer only maps routes to these.
struct DashboardSite: Sendable {
    struct Page: Sendable { var status: Int; var html: String }

    let reader: DashboardReader
    let pages: DashboardPages
    /// Injected, so a page's relative times ("in 4m") can be tested.
    let now: @Sendable () -> Date

    static let recordSelector = "gantry.dev/record=true"

    func overview() async throws -> Page {
        async let experiments = reader.list(.experiments)
        async let jobs = reader.list(.trainingJobs)
        async let services = reader.list(.inferenceServices)
        async let notebooks = reader.list(.notebooks)
        async let gpus = gpuPage()
        func card(_ name: String, _ link: String, _ listing: Listing) -> DashboardPages.OverviewCard {
            let phases = Dictionary(grouping: listing.items.compactMap { $0[path: "status", "phase"]?.stringValue }, by: { $0 })
            let detail = phases.keys.sorted().map { "\(phases[$0]?.count ?? 0) \($0)" }.joined(separator: " · ")
            return .init(name: name, link: link, count: listing.unavailable == nil ? String(listing.items.count) : "–",
                         detail: detail.isEmpty ? nil : detail, unavailable: listing.unavailable,
                         scope: listing.narrowedTo.map { "namespace \($0) only" })
        }
        let gpu = try await gpus
        let allocated = gpu.nodes.rows.compactMap { Int($0.allocated) }.reduce(0, +)
        let capacity = gpu.nodes.rows.compactMap { Int($0.capacity) }.reduce(0, +)
        let cards = [card("Experiments", "/experiments", try await experiments), card("TrainingJobs", "/trainingjobs", try await jobs),
                     card("InferenceServices", "/inferenceservices", try await services), card("Notebooks", "/notebooks", try await notebooks),
                     DashboardPages.OverviewCard(name: "GPUs allocated", link: "/gpus", count: gpu.nodes.unavailable == nil ? "\(allocated)/\(capacity)" : "–",
                                                 detail: gpu.idlePods.rows.isEmpty ? nil : "\(gpu.idlePods.rows.count) pods with idle GPUs",
                                                 unavailable: gpu.nodes.unavailable, scope: nil)]
        return Page(status: 200, html: pages.render("overview", title: "Overview", DashboardPages.Overview(cards: cards)))
    }

    func experiments() async throws -> Page {
        async let experiments = reader.list(.experiments)
        async let records = reader.list(.configMaps, labelSelector: Self.recordSelector)
        let (e, r) = try await (experiments, records)
        let rows = ExperimentViews.list(experiments: e.items, records: ExperimentViews.recordRows(r.items))
        // Either part unreadable: the other is still listed, with a notice of what is missing.
        let section = Section(rows, from: e.unavailable != nil ? e : r)
        return Page(status: 200, html: pages.list("experiments", title: "Experiments", section))
    }

    func experiment(_ namespace: String, _ name: String) async throws -> Page {
        let selector = "\(GantryLabels.experiment)=\(name)"
        let here = reader.scoped(to: namespace)
        async let object = here.get(.experiments, namespace, name)
        async let jobs = here.list(.trainingJobs, labelSelector: selector)
        async let records = here.list(.configMaps, labelSelector: "\(Self.recordSelector),\(selector)")
        let (o, j, r) = try await (object, jobs, records)
        guard let page = ExperimentViews.page(namespace: namespace, name: name, experiment: try? o.get(), jobs: j.items,
                                              records: ExperimentViews.recordRows(r.items)) else {
            if case .failure(let denied) = o { return Page(status: 403, html: pages.message(title: "Experiment \(name)", "\(denied.unavailable.title): \(denied.unavailable.detail)")) }
            return Page(status: 404, html: pages.message(title: "Experiment \(name)", "No Experiment \(namespace)/\(name), and no TrainingJob or record labelled \(selector) there."))
        }
        return Page(status: 200, html: pages.render("experiment", title: page.title, page))
    }

    func trainingJobs() async throws -> Page {
        let listing = try await reader.list(.trainingJobs)
        return Page(status: 200, html: pages.list("trainingjobs", title: "TrainingJobs", Section(TrainingJobViews.list(listing.items), from: listing)))
    }

    func trainingJob(_ namespace: String, _ name: String) async throws -> Page {
        try await detail(.trainingJobs, "TrainingJob", namespace, name) { object in
            let page = try TrainingJobViews.page(object)
            return pages.render("trainingjob", title: page.title, page)
        }
    }

    func inferenceServices() async throws -> Page {
        let listing = try await reader.list(.inferenceServices)
        return Page(status: 200, html: pages.list("inferenceservices", title: "InferenceServices",
                                                  Section(InferenceServiceViews.list(listing.items), from: listing)))
    }

    func inferenceService(_ namespace: String, _ name: String) async throws -> Page {
        try await detail(.inferenceServices, "InferenceService", namespace, name) { object in
            let page = try InferenceServiceViews.page(object, events: try await reader.scoped(to: namespace).list(.events))
            return pages.render("inferenceservice", title: page.title, page)
        }
    }

    func notebooks() async throws -> Page {
        let listing = try await reader.list(.notebooks)
        return Page(status: 200, html: pages.list("notebooks", title: "Notebooks", Section(NotebookViews.rows(listing.items, now: now()), from: listing)))
    }

    func gpus() async throws -> Page {
        Page(status: 200, html: pages.render("gpus", title: "GPUs", try await gpuPage()))
    }

    private func gpuPage() async throws -> GPUPage {
        async let nodes = reader.list(.nodes)
        async let pods = reader.list(.pods, labelSelector: "\(GantryLabels.managedBy)=\(GantryLabels.managedByValue)")
        async let platform = reader.platformConfig()
        return GPUViews.page(nodes: try await nodes, pods: try await pods, platform: try await platform)
    }

    /// One object's page: 404 naming it when it does not exist, 403 saying so when the user may not read it.
    private func detail(_ type: ResourceType, _ kind: String, _ namespace: String, _ name: String,
                        _ render: (JSONValue) async throws -> String) async throws -> Page {
        switch try await reader.get(type, namespace, name) {
        case .failure(let denied):
            return Page(status: 403, html: pages.message(title: "\(kind) \(name)", "\(denied.unavailable.title): \(denied.unavailable.detail)"))
        case .success(nil):
            return Page(status: 404, html: pages.message(title: "\(kind) \(name)", "No \(kind) \(namespace)/\(name)."))
        case .success(let object?):
            do {
                return Page(status: 200, html: try await render(object))
            } catch let error as CustomObjectDecodeError {
                return Page(status: 500, html: pages.message(title: "\(kind) \(name)", "\(kind) \(namespace)/\(name) cannot be read: \(error)"))
            }
        }
    }
}
