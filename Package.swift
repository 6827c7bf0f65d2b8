// swift-tools-version:6.0
import PackageDescription

// Targets follow DESIGN.md and are layered by how much they depend on:
// SyncModel (pure Swift, no I/O) is at the bottom; executables are thin shells.
let package = Package(
    name: "CaseSync",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SyncModel", targets: ["SyncModel"]),
        .library(name: "SyncProtocol", targets: ["SyncProtocol"]),
        .library(name: "NodeStorage", targets: ["NodeStorage"]),
        .library(name: "SyncStore", targets: ["SyncStore"]),
        .library(name: "PostgresNodeStore", targets: ["PostgresNodeStore"]),
        .executable(name: "casesync", targets: ["casesync"]),
        .library(name: "SyncServer", targets: ["SyncServer"]),
        .executable(name: "casesyncd", targets: ["casesyncd"]),
        .library(name: "SyncClient", targets: ["SyncClient"]),
        .executable(name: "casesync-bench", targets: ["casesync-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio", from: "1.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        // `swift package generate-documentation`: the DocC catalogs of the client core.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .target(name: "SyncModel"),
        // What server, client and command lines share about the wire: error codes with
        // their HTTP and exit statuses, the node's typed error.
        .target(name: "SyncProtocol", dependencies: ["SyncModel"]),
        // The sync node's storage API (one protocol, two implementations: SQLite here,
        // PostgreSQL later) and the pure rules every implementation applies.
        .target(name: "NodeStorage", dependencies: ["SyncModel", "SyncProtocol", .product(name: "Crypto", package: "swift-crypto")]),
        .target(
            name: "SyncStore",
            dependencies: [
                "SyncModel", "SyncProtocol", "NodeStorage", "CRecordCipher", "CSQLiteConfig",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's C API, for the few statements bound directly (`StatementBindings`).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                // Encryption at rest of device replicas: AES-GCM, and scrypt (`_CryptoExtras`).
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // The sync node's storage in PostgreSQL (postgres-nio's pooled `PostgresClient`), the
        // second implementation of `NodeStore`: several stateless nodes on one database.
        .target(
            name: "PostgresNodeStore",
            dependencies: [
                "SyncModel", "SyncProtocol", "NodeStorage",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // `sslmode`: the TLS settings of the database connections.
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Node backups sealed to a public key (HPKE), and the key files that go with them.
        .target(
            name: "SealedBackup",
            dependencies: ["SyncProtocol", .product(name: "Crypto", package: "swift-crypto")]
        ),
        .target(
            name: "SyncServer",
            dependencies: [
                "SyncModel", "SyncProtocol", "NodeStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                // `casesyncd serve --tls-cert --tls-key` (swift-nio-ssl).
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ]
        ),
        .executableTarget(
            name: "casesyncd",
            dependencies: [
                "SyncServer", "SyncStore", "PostgresNodeStore", "NodeStorage", "SyncProtocol", "SyncModel", "SealedBackup", "CMalloc",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // OpenSSL's AES-GCM with a context kept per key, for `RecordSealer` (see its shim).
        .systemLibrary(name: "CRecordCipher", providers: [.apt(["libssl-dev"])]),
        // `sqlite3_config`, for SQLite's process-wide settings (see `ReplicaStore.configuration`).
        .systemLibrary(name: "CSQLiteConfig", providers: [.apt(["libsqlite3-dev"])]),
        // glibc's `mallopt`, for the node's arena limit.
        .systemLibrary(name: "CMalloc"),
        // The Linux kernel keyring's system calls, where `casesync unlock` keeps a data key.
        .systemLibrary(name: "CKeyring"),
        .target(name: "SyncClient", dependencies: ["CCurl", "SyncModel", "SyncProtocol", "SyncStore"]),
        // The mediator CLI's commands and output, as a library so tests can run them in-process;
        // `casesync` is the thin executable over it.
        .target(
            name: "CaseSyncCLI",
            dependencies: ["SyncModel", "SyncProtocol", "SyncStore", "SyncClient", "CKeyring", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        .executableTarget(name: "casesync", dependencies: ["CaseSyncCLI"]),
        .executableTarget(
            name: "casesync-bench",
            dependencies: [
                "SyncModel",
                "SyncStore",
                "NodeStorage",
                "SyncClient",
                "PostgresNodeStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
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
            dependencies: ["SyncStore", "NodeStorage", "SyncProtocol", "SyncModel", .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto")]
        ),
        // Starts the real binaries for end-to-end tests.
        .target(name: "CaseSyncTestSupport", path: "Tests/Support"),
        .testTarget(
            name: "SyncServerTests",
            dependencies: [
                "SyncServer", "SyncStore", "PostgresNodeStore", "NodeStorage", "SyncProtocol", "SyncModel", "SyncClient", "casesyncd", "CaseSyncTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The sync engine over scripted and in-process transports: no network, no binaries.
        .testTarget(
            name: "SyncClientTests",
            dependencies: [
                "SyncClient", "SyncStore", "SyncModel", "SyncProtocol", "SyncServer", "NodeStorage",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Drives the built `casesync` binary (it depends on the executable so it is built first).
        .testTarget(
            name: "CaseSyncCLITests",
            dependencies: ["CaseSyncCLI", "SyncStore", "SyncModel", "SyncClient", "CaseSyncTestSupport", "casesync", "casesyncd",
                           .product(name: "GRDB", package: "GRDB.swift")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
