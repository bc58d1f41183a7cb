// swift-tools-version:6.1
// Gantry: a Kubernetes operator for ML workloads on GPU clusters.
// Module layout and dependency direction: docs/architecture.md.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "gantry",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gantry", targets: ["gantry"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.45.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        // Default traits off: we need neither swift-configuration nor the Foundation extras.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.5.0", traits: []),
        // The dashboard's HTML templates: every value escaped unless a template says otherwise.
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.0.0"),
    ],
    targets: [
        // Thin C shims: typed wrappers over variadic calls and callback trampolines, no logic.
        // COpenSSL keeps OpenSSL's state alive until the process ends (copenssl.c); libcurl's TLS depends on that.
        .target(name: "COpenSSL", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .target(name: "CCurl", dependencies: ["COpenSSL"], linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "CYAML", linkerSettings: [.linkedLibrary("yaml")]),
        .target(name: "CMalloc"),

        .target(name: "KubeCore", swiftSettings: strict),
        .target(name: "KubeYAML", dependencies: ["CYAML", "KubeCore"], swiftSettings: strict),
        .target(name: "KubeClient", dependencies: [
            "CCurl", "KubeCore", "KubeYAML",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ], exclude: ["README.md"], swiftSettings: strict),
        .target(name: "KubeRuntime", dependencies: [
            "KubeClient", "KubeCore", "CMalloc",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "DequeModule", package: "swift-collections"),
        ], swiftSettings: strict),
        .target(name: "Telemetry", dependencies: [
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ], swiftSettings: strict),
        .target(name: "GantryAPI", dependencies: ["KubeCore"], swiftSettings: strict),
        .target(name: "GantryControllers", dependencies: [
            "GantryAPI", "KubeRuntime", "KubeClient", "KubeCore", "COpenSSL",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Metrics", package: "swift-metrics"),
        ], swiftSettings: strict),
        .target(name: "EmbeddedCluster", dependencies: [
            "KubeCore", "KubeYAML", "COpenSSL",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOHTTP2", package: "swift-nio-http2"),
            .product(name: "NIOHPACK", package: "swift-nio-http2"),
            .product(name: "DequeModule", package: "swift-collections"),
        ],
        // Upstream schemas of the built-in kinds (scripts/vendor-openapi.sh), compiled into the binary: an installed
        // `gantry` has no resource bundle beside it.
        resources: [.embedInCode("Resources/openapi-builtin.json")],
        swiftSettings: strict),
        // Benchmarks (`gantry bench`, docs/benchmarks.md): speed and memory targets live here, not in unit tests.
        .target(name: "GantryBench", dependencies: [
            "GantryControllers", "GantryAPI", "EmbeddedCluster", "KubeRuntime", "KubeClient", "KubeYAML", "KubeCore",
        ], swiftSettings: strict),
        .target(name: "GantryCLI", dependencies: [
            "GantryBench", "GantryControllers", "GantryAPI", "EmbeddedCluster", "Telemetry", "KubeRuntime", "KubeClient", "KubeYAML", "KubeCore",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Metrics", package: "swift-metrics"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Mustache", package: "swift-mustache"),
        ], swiftSettings: strict),
        .executableTarget(name: "gantry", dependencies: [
            "GantryCLI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], swiftSettings: strict),

        .testTarget(name: "KubeCoreTests", dependencies: ["KubeCore"]),
        .testTarget(name: "KubeYAMLTests", dependencies: ["KubeYAML"]),
        .testTarget(name: "KubeClientTests", dependencies: ["KubeClient", "EmbeddedCluster", "KubeYAML", "GantryTestSupport"]),
        .testTarget(name: "KubeRuntimeTests", dependencies: ["KubeRuntime", "KubeClient", "EmbeddedCluster", "GantryTestSupport"]),
        .testTarget(name: "GantryAPITests", dependencies: ["GantryAPI", "KubeYAML"]),
        .testTarget(name: "TelemetryTests", dependencies: [
            "Telemetry", "GantryTestSupport",
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "Metrics", package: "swift-metrics"),
        ]),
        .testTarget(name: "GantryControllersTests", dependencies: [
            "GantryControllers", "GantryAPI", "GantryTestSupport",
            .product(name: "MetricsTestKit", package: "swift-metrics"),
        ]),
        .testTarget(name: "GantryBenchTests", dependencies: ["GantryBench", "KubeClient", "KubeCore"]),
        .testTarget(name: "EmbeddedClusterTests", dependencies: ["EmbeddedCluster", "KubeYAML", "GantryTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: [
            "GantryTestSupport", "GantryControllers", "GantryAPI", "GantryCLI", "EmbeddedCluster", "KubeRuntime", "KubeClient", "KubeYAML",
        ]),
        // Fuzzing (docs/testing.md#fuzzing): the entry points the libFuzzer targets and FuzzTests feed.
        .target(name: "FuzzEntries", dependencies: [
            "KubeYAML", "KubeClient", "KubeCore", "GantryAPI", "GantryControllers", "EmbeddedCluster",
        ], path: "Fuzz/Entries"),
        .testTarget(name: "FuzzTests", dependencies: ["FuzzEntries", "GantryControllers"]),
        // A process that exits while another thread is inside OpenSSL (ProcessExitTests).
        .executableTarget(name: "OpenSSLExitProbe", dependencies: ["CCurl"], path: "Tests/OpenSSLExitProbe"),
        // Shared test harness: a DevCluster on a free port, real kubectl and curl, waiting on conditions.
        .target(name: "GantryTestSupport", dependencies: [
            "EmbeddedCluster", "KubeCore", .product(name: "Hummingbird", package: "hummingbird"),
        ], path: "Tests/Support"),
    ]
)

// libFuzzer executables, one per input kind, only under `make fuzz` (GANTRY_FUZZ=1), which builds them with
// `-sanitize=fuzzer,address`: they call libFuzzer's driver, which only that flag links, so an ordinary build
// never sees them.
if Context.environment["GANTRY_FUZZ"] == "1" {
    package.targets.append(.target(name: "CFuzzerDriver", path: "Fuzz/Driver"))
    for name in ["YAML", "Kubeconfig", "WatchStream", "MetricLines", "ContainerScript", "CEL"] {
        package.targets.append(.executableTarget(name: "Fuzz\(name)", dependencies: ["FuzzEntries", "CFuzzerDriver"],
                                                 path: "Fuzz/Targets/\(name)"))
    }
}
