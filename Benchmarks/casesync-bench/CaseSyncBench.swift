import ArgumentParser

/// Benchmarks of DESIGN.md's numbers. Each subcommand prints progress to stderr-like human
/// lines and one JSON object on its last line, for scripts and BENCHMARKS.md.
@main
struct CaseSyncBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "casesync-bench",
        abstract: "Measure CaseSync against the numbers in DESIGN.md (build with -c release).",
        subcommands: [SealBenchmark.self, MergeBenchmark.self, StoreBenchmark.self, SyncBenchmark.self, ExportBenchmark.self, LoadBenchmark.self, MemoryBenchmark.self]
    )
}
