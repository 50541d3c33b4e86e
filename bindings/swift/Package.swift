// swift-tools-version:5.9
// The Swift package of libmacp: `CMacp` is the C header as a Swift module,
// `Macp` the Swift API over it. An installed libmacp is found through
// pkg-config (`macp.pc`); a build against a checkout passes the header and
// library directories instead (see scripts/swift-test.sh):
//   swift build -Xcc -I<checkout>/include -Xlinker -L<checkout>/target/release
import PackageDescription

let strict: [SwiftSetting] = [.enableExperimentalFeature("StrictConcurrency")]

let package = Package(
    name: "Macp",
    platforms: [.macOS(.v13)],
    products: [
        .library(name: "Macp", targets: ["Macp"]),
        .executable(name: "macp-decision-agent", targets: ["macp-decision-agent"]),
    ],
    targets: [
        .systemLibrary(
            name: "CMacp",
            pkgConfig: "macp",
            providers: [.brew(["libmacp"])]
        ),
        .target(name: "Macp", dependencies: ["CMacp"], swiftSettings: strict),
        .executableTarget(
            name: "macp-decision-agent",
            dependencies: ["Macp"],
            path: "Examples/decision-agent",
            swiftSettings: strict
        ),
        .testTarget(name: "MacpTests", dependencies: ["Macp"], swiftSettings: strict),
    ]
)
