import Foundation
import KubeCore

/// What a simulated container does, from the `sim.gantry.dev/script` pod annotation or its image's default.
/// All times are seconds since the container (re)started; the format is documented in
/// docs/embedded-cluster.md, "Scripted containers".
struct ContainerScript: Sendable, Hashable {
    /// Time spent in `ContainerCreating` (image pull, sandbox) before the first start.
    var startDelay: TimeInterval = 1
    /// Seconds after start at which the container reports ready; nil means the default (see `readyDelay`).
    var readyAfter: TimeInterval?
    var logs: [LogEntry] = []
    /// nil: runs until deleted.
    var exit: ExitSpec?
    var terminate = TerminateSpec()
    /// Path pattern (`/v1/models/m`, `/v1/models/*`) → responses, each from its `after` on.
    var http: [String: [HTTPResponseSpec]] = [:]
    /// `/metrics` text over time (templated).
    var metrics: [TimedText] = []

    enum LogEntry: Sendable, Hashable {
        case once(at: TimeInterval, lines: [String])
        case series(LogSeries)
    }

    /// `count` lines (forever when nil) every `every` seconds from `at`, rendered from `template` (or cycling
    /// through `lines`) with `{i}`, `{step}` (= start + i × step), `{t}` and any curve variables.
    struct LogSeries: Sendable, Hashable {
        var at: TimeInterval = 0
        var every: TimeInterval
        var count: Int?
        var start: Double = 0
        var step: Double = 1
        var templates: [String]
        var curves: [String: Curve] = [:]
    }

    /// A value moving from `from` to `to` over the series (`loss: {from: 2.0, to: 0.1, curve: exp}`).
    struct Curve: Sendable, Hashable {
        enum Shape: String, Sendable, Hashable, CaseIterable { case linear, exp, flat, diverge }
        var from: Double
        var to: Double
        var shape: Shape = .exp
        /// Relative jitter (0.02 = ±2 %), deterministic per line.
        var noise: Double = 0
        /// `from`/`to` given as expressions of the container's environment (e.g. its hyperparameters).
        var fromExpression: ScriptExpression?
        var toExpression: ScriptExpression?

        /// The curve with its expressions evaluated in `env`.
        func resolved(_ env: [String: String]) -> Curve {
            var c = self
            if let e = fromExpression { c.from = e.evaluate(env) }
            if let e = toExpression { c.to = e.evaluate(env) }
            return c
        }
    }

    struct ExitSpec: Sendable, Hashable {
        var code: Int32 = 0
        /// nil: right after the last log line.
        var after: TimeInterval?
        /// Defaults to `Completed` (code 0), `OOMKilled` (137 with `oom: true`) or `Error`.
        var reason: String?
        var message: String?
    }

    /// On SIGTERM (pod deletion): log `lines`, then exit with `code` after `after` seconds, or be killed with 137
    /// when the grace period ends first. Real processes that trap SIGTERM exit 0 or 143; we default to 143.
    struct TerminateSpec: Sendable, Hashable {
        var after: TimeInterval = 0
        var code: Int32 = 143
        var lines: [String] = []
    }

    struct HTTPResponseSpec: Sendable, Hashable {
        var after: TimeInterval = 0
        var status: Int = 200
        /// A string is sent as text; anything else as JSON. Strings inside are templated.
        var body: JSONValue = .string("")
        var headers: [String: String] = [:]
        /// Answers only a request carrying these headers (names lowercased, values exact), e.g. an API key.
        var ifHeaders: [String: String] = [:]
    }

    struct TimedText: Sendable, Hashable {
        var after: TimeInterval = 0
        var text: String
    }

    /// When the container exits on its own (seconds after start), nil when it runs until deleted.
    var exitAfter: TimeInterval? {
        guard let exit else { return nil }
        if let after = exit.after { return after }
        return lastLogTime ?? 0
    }

    /// Time of the last log line, nil when logs never end.
    var lastLogTime: TimeInterval? {
        var last: TimeInterval = 0
        for entry in logs {
            switch entry {
            case .once(let at, _): last = max(last, at)
            case .series(let s):
                guard let count = s.count else { return nil }
                last = max(last, s.at + Double(max(0, count - 1)) * s.every)
            }
        }
        return last
    }

    /// Readiness delay: the script's `readyAfter`, else the container's readinessProbe `initialDelaySeconds`
    /// (real probes pass no earlier), else 0 (no probe means ready as soon as running).
    func readyDelay(container: JSONValue) -> TimeInterval {
        if let readyAfter { return readyAfter }
        if let probe = container["readinessProbe"] {
            return Double(probe["initialDelaySeconds"]?.intValue ?? 0)
        }
        return 0
    }
}

/// Scripts of one pod: a script for all containers and/or per container name.
struct PodScript: Sendable, Hashable {
    static let annotation = "sim.gantry.dev/script"

    var all: ContainerScript?
    var perContainer: [String: ContainerScript] = [:]

    /// The script for a container: its own, else the pod-wide one, else the image default.
    func script(for container: JSONValue, isInit: Bool = false) -> ContainerScript {
        if let name = container["name"]?.stringValue, let s = perContainer[name] { return s }
        if let all, !isInit { return all }
        return DefaultScripts.script(image: container["image"]?.stringValue ?? "", isInit: isInit)
    }
}
