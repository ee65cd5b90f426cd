// swift-tools-version:5.9
// Training throughput benchmark (kept outside `swift test`); see README.md.
import PackageDescription

let package = Package(
    name: "train-bench",
    platforms: [.macOS(.v13)],
    dependencies: [.package(name: "alaverify", path: "../..")],
    targets: [
        .executableTarget(name: "train-bench", dependencies: [
            .product(name: "Training", package: "alaverify"),
            .product(name: "AlaverifyBase", package: "alaverify"),
            .product(name: "ScoreMetrics", package: "alaverify"),
        ]),
    ]
)
