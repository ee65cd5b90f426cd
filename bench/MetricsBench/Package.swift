// swift-tools-version:5.9
// Micro-benchmarks of the metric engine (outside `swift test`): operating points without sorting
// and the radix sort, timed in-process on score files that bench/*.py also time with numpy.
import PackageDescription

let package = Package(
    name: "MetricsBench",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "alaverify", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "MetricsBench",
            dependencies: [.product(name: "ScoreMetrics", package: "alaverify")]),
    ]
)
