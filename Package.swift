// swift-tools-version:6.0
// 6.0: the code uses typed throws (SE-0413) and Swift Testing, which need the Swift 6 compiler;
// it is written in the Swift 5 language mode.
import PackageDescription

let package = Package(
    name: "alaverify",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "alaverify", targets: ["alaverify"]),
        .library(name: "AlaverifyBase", targets: ["AlaverifyBase"]),
        .library(name: "ScoreMetrics", targets: ["ScoreMetrics"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "SampleData", targets: ["SampleData"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        // The ONNX export's message types (its generated code is committed; no build plugin).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // System libraries: module map + shim.h only, located through pkg-config.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Pure Swift helpers every target may use: ordered JSON, SHA-256, the seeded generator,
        // atomic file writes, exit statuses. Depends on nothing.
        .target(name: "AlaverifyBase"),
        // Pure Swift metric engine: depends on the base only.
        .target(name: "ScoreMetrics", dependencies: ["AlaverifyBase"]),
        // HDF5 wrapper, samples/pairs/scores files, score file parsers.
        .target(name: "SampleData", dependencies: ["AlaverifyBase", "ScoreMetrics", "CHDF5", "CPNG", "CZlib"]),
        // Tensors on BLAS, layers, optimizers, parametric verification losses, training loop.
        .target(name: "Training", dependencies: ["AlaverifyBase", "CBLAS", "CKernels", "ScoreMetrics"]),
        // Elementwise kernels compiled for AVX2 and the baseline, chosen at load time; their
        // floating-point settings are pragmas in the C file, not flags in this manifest, so the
        // library products stay usable as dependencies.
        .target(name: "CKernels"),

        // The ALA controller: policy network, REINFORCE, state features. Pure: no I/O, no training code.
        .target(name: "LossAlignment", dependencies: ["AlaverifyBase"]),
        // A run's folder layout and its history.jsonl records: what train writes and report reads.
        .target(name: "RunRecords", dependencies: ["AlaverifyBase", "ScoreMetrics"]),
        // Training runs: config, data, children, reward and selection, callbacks, checkpoints, scoring.
        .target(name: "Runs", dependencies: [
            "AlaverifyBase", "ScoreMetrics", "SampleData", "Training", "LossAlignment", "RunRecords",
        ]),

        // A trained embedding network as an ONNX model. onnx.pb.swift is generated once from onnx.proto
        // (scripts/generate_onnx_swift.sh) and committed.
        .target(name: "ONNXExport", dependencies: [
            "AlaverifyBase", "Training", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        // Sharded scoring: the pair matrix cut into shards, shard summaries, their exact merge,
        // Slurm job scripts.
        .target(name: "Shards", dependencies: ["AlaverifyBase", "ScoreMetrics", "SampleData", "Training", "Runs"]),

        // Protocol files (YAML) and CI gates against baselines.
        .target(name: "Protocols", dependencies: [
            "AlaverifyBase", "ScoreMetrics", "SampleData", .product(name: "Yams", package: "Yams"),
        ]),

        // libpng's classic API (tEXt chunks) behind a C function that owns the setjmp.
        .target(name: "CPNGText", dependencies: ["CPNG"]),
        // Plots (Cairo), PNG encoding (libpng), summary.md / metrics.json.
        .target(name: "Reports", dependencies: ["AlaverifyBase", "ScoreMetrics", "RunRecords", "CCairo", "CPNGText"]),

        .target(name: "AlaverifyCLI", dependencies: [
            "AlaverifyBase", "ScoreMetrics", "SampleData", "Protocols", "Reports", "Training", "LossAlignment", "RunRecords",
            "Runs", "ONNXExport", "Shards", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "alaverify", dependencies: ["AlaverifyCLI"]),

        // Helpers and fixtures shared by test targets (PNG inspection, degraded score files, a hand-written
        // history); not a product.
        .target(name: "TestSupport", dependencies: ["AlaverifyBase", "Reports", "CPNG"], path: "Tests/TestSupport"),
        .testTarget(name: "AlaverifyBaseTests", dependencies: ["AlaverifyBase"]),
        .testTarget(name: "ScoreMetricsTests", dependencies: ["ScoreMetrics", "AlaverifyBase"]),
        .testTarget(name: "SampleDataTests", dependencies: ["SampleData", "ScoreMetrics", "AlaverifyBase"]),
        .testTarget(name: "LossAlignmentTests", dependencies: ["LossAlignment", "AlaverifyBase"]),
        .testTarget(name: "RunRecordsTests", dependencies: ["RunRecords", "ScoreMetrics", "AlaverifyBase", "TestSupport"]),
        .testTarget(name: "RunsTests", dependencies: ["Runs", "RunRecords", "LossAlignment", "Training", "SampleData", "ScoreMetrics", "AlaverifyBase"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "ScoreMetrics", "AlaverifyBase"]),
        .testTarget(name: "ONNXExportTests", dependencies: [
            "ONNXExport", "Training", "AlaverifyBase", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        ]),
        .testTarget(name: "ShardsTests", dependencies: ["Shards", "ScoreMetrics", "SampleData", "AlaverifyBase"]),
        // Every test that runs the built binary (ALAVERIFY_BIN, else the one beside the tests).
        .testTarget(name: "EndToEndTests", dependencies: [
            "alaverify", "SampleData", "Runs", "RunRecords", "Training", "ScoreMetrics", "AlaverifyBase", "TestSupport", "Shards",
        ]),
        .testTarget(name: "ProtocolsTests", dependencies: ["Protocols", "ScoreMetrics", "SampleData", "AlaverifyBase", "TestSupport"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "RunRecords", "ScoreMetrics", "AlaverifyBase", "CCairo", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
