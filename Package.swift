// swift-tools-version:6.0
import PackageDescription

// Targets follow DESIGN.md and are layered by how much they depend on:
// SyncModel (pure Swift, no I/O) is at the bottom; executables are thin shells.
let package = Package(
    name: "CaseSync",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SyncModel", targets: ["SyncModel"]),
        .executable(name: "casesync-bench", targets: ["casesync-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .target(name: "SyncModel"),
        .executableTarget(
            name: "casesync-bench",
            dependencies: [
                "SyncModel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/casesync-bench"
        ),
        .testTarget(
            name: "SyncModelTests",
            dependencies: ["SyncModel"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
