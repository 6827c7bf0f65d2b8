// swift-tools-version:6.0
import PackageDescription

// Targets follow DESIGN.md and are layered by how much they depend on:
// SyncModel (pure Swift, no I/O) is at the bottom; executables are thin shells.
let package = Package(
    name: "CaseSync",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "SyncModel", targets: ["SyncModel"]),
        .library(name: "SyncStore", targets: ["SyncStore"]),
        .executable(name: "casesync", targets: ["casesync"]),
        .executable(name: "casesync-bench", targets: ["casesync-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        .target(name: "SyncModel"),
        .target(
            name: "SyncStore",
            dependencies: ["SyncModel", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The mediator CLI's commands and output, as a library so tests can run them in-process;
        // `casesync` is the thin executable over it.
        .target(
            name: "CaseSyncCLI",
            dependencies: ["SyncModel", "SyncStore", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "casesync", dependencies: ["CaseSyncCLI"]),
        .executableTarget(
            name: "casesync-bench",
            dependencies: [
                "SyncModel",
                "SyncStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/casesync-bench"
        ),
        .testTarget(
            name: "SyncModelTests",
            dependencies: ["SyncModel"]
        ),
        .testTarget(
            name: "SyncStoreTests",
            dependencies: ["SyncStore", "SyncModel", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // Drives the built `casesync` binary (it depends on the executable so it is built first).
        .testTarget(
            name: "CaseSyncCLITests",
            dependencies: ["CaseSyncCLI", "SyncStore", "SyncModel", "casesync"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
