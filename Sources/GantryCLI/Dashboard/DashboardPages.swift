import Mustache

/// Turns view models into whole HTML pages. Pure: the same model renders the same bytes.
struct DashboardPages: Sendable {
    let library: MustacheLibrary
    /// Shown in the header: whose credentials the pages are read with (`user@cluster` of the kubeconfig context).
    let identity: String

    init(identity: String) throws {
        var library = MustacheLibrary()
        for (name, text) in DashboardTemplates.all { try library.register(text, named: name) }
        self.library = library
        self.identity = identity
    }

    struct Layout { var title: String; var identity: String; var body: String }

    /// `model` through the template `name`, inside the layout.
    func render(_ name: String, title: String, _ model: Any) -> String {
        let body = library.render(model, withTemplate: name) ?? ""
        return library.render(Layout(title: title, identity: identity, body: body), withTemplate: "layout") ?? ""
    }

    struct Message { var text: String }
    func message(title: String, _ text: String) -> String { render("message", title: title, Message(text: text)) }

    struct Listed<Row: Sendable & Hashable> { var section: Section<Row> }
    func list<Row: Sendable & Hashable>(_ name: String, title: String, _ section: Section<Row>) -> String { render(name, title: title, Listed(section: section)) }

    struct OverviewCard: Sendable, Hashable {
        var name: String
        var link: String
        var count: String
        /// How many are in each phase (`9 Succeeded · 3 EarlyStopped`).
        var detail: String?
        var unavailable: Unavailable?
        var scope: String?
    }
    struct Overview { var cards: [OverviewCard] }
}
