// swift-tools-version:5.9
import PackageDescription

let package = Package(
    name: "alaverify",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "alaverify", targets: ["alaverify"]),
        .library(name: "ScoreMetrics", targets: ["ScoreMetrics"]),
        .library(name: "Training", targets: ["Training"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // System libraries: module map + shim.h only, located through pkg-config.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CCairo", pkgConfig: "cairo", providers: [.apt(["libcairo2-dev"])]),

        // Pure Swift metric engine: depends on nothing.
        .target(name: "ScoreMetrics"),
        // HDF5 wrapper, samples/pairs/scores files, score file parsers.
        .target(name: "SampleData", dependencies: ["ScoreMetrics", "CHDF5"]),
        // Tensors on BLAS, layers, optimizers, parametric verification losses, training loop.
        .target(name: "Training", dependencies: ["CBLAS", "ScoreMetrics"]),

        .target(name: "AlaverifyCLI", dependencies: [
            "ScoreMetrics", "SampleData",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "alaverify", dependencies: ["AlaverifyCLI"]),

        .testTarget(name: "ScoreMetricsTests", dependencies: ["ScoreMetrics"]),
        .testTarget(name: "SampleDataTests", dependencies: ["SampleData", "ScoreMetrics"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "ScoreMetrics"]),
        .testTarget(name: "EndToEndTests", dependencies: ["alaverify"]),
    ]
)
