// swift-tools-version:5.9
// Load benchmark of the SampleData reader (outside `swift test`): every image of a samples file,
// timed in-process; bench/load_bench.py times h5py on the same file in the same run.
import PackageDescription

let package = Package(
    name: "LoadBench",
    platforms: [.macOS(.v13)],
    dependencies: [
        .package(name: "alaverify", path: "../.."),
    ],
    targets: [
        .executableTarget(
            name: "LoadBench",
            dependencies: [.product(name: "SampleData", package: "alaverify")]),
    ]
)
