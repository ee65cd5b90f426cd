// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "alaverify",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "alaverify", targets: ["alaverify"]),
        .library(name: "ScoreMetrics", targets: ["ScoreMetrics"]),
        .library(name: "Training", targets: ["Training"]),
        .library(name: "SampleData", targets: ["SampleData"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        // System libraries: module map + shim.h only, located through pkg-config.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Pure Swift metric engine: depends on nothing.
        .target(name: "ScoreMetrics"),
        // HDF5 wrapper, samples/pairs/scores files, score file parsers.
        .target(name: "SampleData", dependencies: ["ScoreMetrics", "CHDF5", "CPNG", "CZlib"]),
        // Tensors on BLAS, layers, optimizers, parametric verification losses, training loop.
        .target(name: "Training", dependencies: ["CBLAS", "CKernels", "ScoreMetrics"]),
        // Elementwise kernels compiled for AVX2 and the baseline, chosen at load time.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3", "-fno-math-errno", "-ffp-contract=off"])]),

        // The ALA controller: policy network, REINFORCE, state features.
        .target(name: "LossAlignment", dependencies: ["ScoreMetrics", "Training", "SampleData"]),

        // Protocol files (YAML) and CI gates against baselines.
        .target(name: "Protocols", dependencies: [
            "ScoreMetrics", "SampleData", .product(name: "Yams", package: "Yams"),
        ]),

        // libpng's classic API (tEXt chunks) behind a C function that owns the setjmp.
        .target(name: "CPNGText", dependencies: ["CPNG"]),
        // Plots (Cairo), PNG encoding (libpng), summary.md / metrics.json.
        .target(name: "Reports", dependencies: ["ScoreMetrics", "CCairo", "CPNGText"]),

        .target(name: "AlaverifyCLI", dependencies: [
            "ScoreMetrics", "SampleData", "Protocols", "Reports", "Training", "LossAlignment",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "alaverify", dependencies: ["AlaverifyCLI"]),

        .testTarget(name: "ScoreMetricsTests", dependencies: ["ScoreMetrics"]),
        .testTarget(name: "SampleDataTests", dependencies: ["SampleData", "ScoreMetrics"]),
        .testTarget(name: "LossAlignmentTests", dependencies: ["LossAlignment", "ScoreMetrics", "SampleData", "Training"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "ScoreMetrics"]),
        .testTarget(name: "EndToEndTests", dependencies: ["alaverify", "SampleData", "LossAlignment", "Training"]),
        .testTarget(name: "ProtocolsTests", dependencies: ["Protocols", "ScoreMetrics", "SampleData", "alaverify"]),
        .testTarget(name: "ReportsTests", dependencies: ["Reports", "ScoreMetrics", "CPNG"]),
    ]
)
