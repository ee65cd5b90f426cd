import Foundation
import SampleData
import Testing

/// A tree of PNGs written with TinyPNG (not libpng) inside a fresh temp directory.
private struct Tree {
    let dir: URL
    var root: String { dir.appendingPathComponent("tree").path }
    var out: String { dir.appendingPathComponent("out.h5").path }

    init() throws { dir = try temporaryDirectory() }

    func png(_ relative: String, width: Int, height: Int, colorType: UInt8 = 0, bitDepth: UInt8 = 8, palette: [UInt8]? = nil, samples: [UInt8]) throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try TinyPNG.write(path, width: width, height: height, colorType: colorType, bitDepth: bitDepth, palette: palette, samples: samples)
    }

    func file(_ relative: String, _ text: String) throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// Everything in the temp directory except the tree.
    func leftovers() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0 != "tree" }.sorted()
    }

    func remove() { try? FileManager.default.removeItem(at: dir) }
}

/// Pixels 0, 1, 2, ... offset by `seed`, wrapping at 256.
private func ramp(_ count: Int, _ seed: Int) -> [UInt8] { (0..<count).map { UInt8(($0 * 7 + seed) % 256) } }

@Suite("alaverify dataset import (end to end)")
struct DatasetImportEndToEndTests {
    @Test("a gray tree imports; pixels, identities and inspect agree; a second run is byte-identical")
    func grayTree() throws {
        let tree = try Tree()
        defer { tree.remove() }
        // Identity "b" written first; byte order puts "a" first.
        try tree.png("b/1.png", width: 4, height: 3, samples: ramp(12, 50))
        try tree.png("a/2.png", width: 4, height: 3, samples: ramp(12, 20))
        try tree.png("a/1.png", width: 4, height: 3, samples: ramp(12, 10))
        let r = try CLI.run(["dataset", "import", tree.root, "--out", tree.out, "--description", "three glyphs"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "wrote \(tree.out): 3 images of 4x3 gray, 2 identities (1 to 2 images each)\n")
        // Not a terminal: plain progress lines, the last one at 100%.
        #expect(r.stderr.split(separator: "\n").last?.hasPrefix("importing: 3/3 (100%)") == true, "\(r.stderr)")

        let file = try SamplesFile(path: tree.out)
        #expect(file.identityNames == ["a", "b"])
        #expect(file.identities == [0, 0, 1])
        #expect(try file.readImages(0..<3) == ramp(12, 10) + ramp(12, 20) + ramp(12, 50))
        #expect(file.fileDescription == "three glyphs")

        let inspect = try CLI.run(["inspect", tree.out])
        #expect(inspect.status == 65)  // identity b has a single sample: a validation problem
        #expect(inspect.stdout.contains("N: 3 samples (images 3x4x1)"))
        #expect(inspect.stdout.contains("K: 2 identities (2 with samples)"))
        #expect(inspect.stdout.contains("samples per identity: 1: 1, 2: 1"))
        #expect(inspect.stdout.contains("all pairs: 1 genuine, 2 impostor"))
        #expect(inspect.stdout.contains("problem: 1 identities have a single sample (no genuine pairs)"))
        #expect(inspect.stderr == "alaverify: \(tree.out): 1 validation problem (listed above); first: 1 identities have a single sample (no genuine pairs)\n")

        let again = tree.dir.appendingPathComponent("again.h5").path
        Thread.sleep(forTimeInterval: 1.1)  // HDF5 timestamps would differ by now
        let second = try CLI.run(["dataset", "import", tree.root, "--out", again, "--description", "three glyphs", "--quiet"])
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stderr.isEmpty)
        #expect(FileManager.default.contents(atPath: again) == FileManager.default.contents(atPath: tree.out))
    }

    @Test("RGB and gray together give RGB; --resize scales; --force replaces")
    func rgbResizeForce() throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.png("x/c.png", width: 2, height: 2, colorType: 2, samples: ramp(12, 0))
        try tree.png("y/g.png", width: 4, height: 4, samples: [UInt8](repeating: 90, count: 16))
        let mixed = try CLI.run(["dataset", "import", tree.root, "--out", tree.out])
        #expect(mixed.status == 65)
        #expect(mixed.stderr == "alaverify: \(tree.root)/y/g.png: is 4x4 but \(tree.root)/x/c.png is 2x2; resize them to one size (WxH) to import images of different sizes\n")
        #expect(tree.leftovers() == [])

        let r = try CLI.run(["dataset", "import", tree.root, "--out", tree.out, "--resize", "2x2", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let file = try SamplesFile(path: tree.out)
        #expect(file.kind == .images(height: 2, width: 2, channels: 3))
        #expect(try file.readImages(0..<2) == ramp(12, 0) + [UInt8](repeating: 90, count: 12))

        let refused = try CLI.run(["dataset", "import", tree.root, "--out", tree.out, "--resize", "2x2"])
        #expect(refused.status == 64)
        #expect(refused.stderr == "alaverify: --out \(tree.out): exists; give --force to replace it\n")
        let forced = try CLI.run(["dataset", "import", tree.root, "--out", tree.out, "--resize", "1x1", "--force", "--quiet"])
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(try SamplesFile(path: tree.out).kind == .images(height: 1, width: 1, channels: 3))
        #expect(tree.leftovers() == ["out.h5"])
    }

    @Test("palette PNGs import as RGB, 1-bit gray as 0/255")
    func paletteAndLowBitDepth() throws {
        let tree = try Tree()
        defer { tree.remove() }
        // 4x1 palette image, indices 0 1 1 0 of (10, 20, 30) and (200, 100, 0).
        try tree.png("p/1.png", width: 4, height: 1, colorType: 3, palette: [10, 20, 30, 200, 100, 0], samples: [0, 1, 1, 0])
        try tree.png("p/2.png", width: 4, height: 1, colorType: 2, samples: ramp(12, 1))
        let r = try CLI.run(["dataset", "import", tree.root, "--out", tree.out, "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try SamplesFile(path: tree.out).readImages(0..<2) == [10, 20, 30, 200, 100, 0, 200, 100, 0, 10, 20, 30] + ramp(12, 1))

        let bits = try Tree()
        defer { bits.remove() }
        // 8x1 at 1 bit: 0b10110001 -> 255 0 255 255 0 0 0 255.
        try bits.png("g/1.png", width: 8, height: 1, bitDepth: 1, samples: [0b1011_0001])
        let b = try CLI.run(["dataset", "import", bits.root, "--out", bits.out, "--quiet"])
        #expect(b.status == 0, "\(b.stderr)")
        #expect(try SamplesFile(path: bits.out).readImages(0..<1) == [255, 0, 255, 255, 0, 0, 0, 255])
    }

    /// Bad trees: exit 65, one stderr line naming the file, no output and no temp file left.
    @Test("bad input", arguments: ["no identity folders", "empty identity", "not a PNG", "16-bit", "alpha", "truncated", "missing folder"])
    func badInput(_ name: String) throws {
        let tree = try Tree()
        defer { tree.remove() }
        try FileManager.default.createDirectory(atPath: tree.root, withIntermediateDirectories: true)
        var named = tree.root
        switch name {
        case "no identity folders":
            try tree.file("README.md", "just a file")
        case "empty identity":
            try tree.png("a/1.png", width: 2, height: 2, samples: ramp(4, 0))
            try FileManager.default.createDirectory(atPath: tree.root + "/b", withIntermediateDirectories: true)
            named = tree.root + "/b"
        case "not a PNG":
            try tree.png("a/1.png", width: 2, height: 2, samples: ramp(4, 0))
            try tree.file("a/2.png", "GIF89a...")
            named = tree.root + "/a/2.png"
        case "16-bit":
            try tree.png("a/1.png", width: 2, height: 2, bitDepth: 16, samples: ramp(8, 0))
            named = tree.root + "/a/1.png"
        case "alpha":
            try tree.png("a/1.png", width: 2, height: 2, colorType: 6, samples: ramp(16, 0))
            named = tree.root + "/a/1.png"
        case "truncated":
            try tree.png("a/1.png", width: 40, height: 40, samples: ramp(1600, 3))
            let path = tree.root + "/a/1.png"
            let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            try bytes.prefix(bytes.count - 100).write(to: URL(fileURLWithPath: path))
            named = path
        default:
            named = tree.root + "/missing"
        }
        let source = name == "missing folder" ? named : tree.root
        let r = try CLI.run(["dataset", "import", source, "--out", tree.out])
        #expect(r.status == 65, "\(r.stderr)")
        // Progress lines may precede it; the error is one line, the last.
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.filter { $0.hasPrefix("alaverify:") }.count == 1, "\(r.stderr)")
        #expect(lines.last?.hasPrefix("alaverify: \(named): ") == true, "\(r.stderr)")
        #expect(lines.dropLast().allSatisfy { $0.hasPrefix("found ") || $0.hasPrefix("importing") }, "\(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(tree.leftovers() == [])
    }

    @Test("usage errors exit 64", arguments: [["--resize", "0x4"], ["--resize", "big"], ["--channels", "cmyk"], []])
    func usage(_ extra: [String]) throws {
        let tree = try Tree()
        defer { tree.remove() }
        try tree.png("a/1.png", width: 2, height: 2, samples: ramp(4, 0))
        let args = extra.isEmpty
            ? ["dataset", "import", tree.root, "--out", tree.dir.appendingPathComponent("no/such/dir/out.h5").path]
            : ["dataset", "import", tree.root, "--out", tree.out] + extra
        let r = try CLI.run(args)
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(tree.leftovers() == [])
    }
}

@Suite("alaverify inspect (end to end)")
struct InspectEndToEndTests {
    @Test("the samples fixture: a clean summary, exit 0")
    func fixture() throws {
        let r = try CLI.run(["inspect", "fixtures/fonts-mini.h5"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.isEmpty)
        for line in [
            "format: alaverify-samples v1", "  /samples/images uint8 [7440, 32, 32] chunks [256, 32, 32]",
            "N: 7440 samples (images 32x32x1)", "K: 120 identities (120 with samples)", "samples per identity: 62: 120",
            "all pairs: 226920 genuine, 27446160 impostor",
            "smallest FAR estimable (rule of 3): 1.09e-07 by comparisons, 0.00042 by identity pairs (7140)",
            "attribute /samples/attributes/char: integers 48...122, 62 distinct",
        ] {
            #expect(r.stdout.split(separator: "\n").contains(Substring(line)), "missing: \(line)")
        }
        #expect(!r.stdout.contains("problem:"))
    }

    @Test("CSV and bob score files: counts, ranges, identity pairs")
    func textScores() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = try write("label,score,left_id,right_id\n1,0.9,a,a\n1,nan,b,b\n0,-2.5,a,b\n0,0.25,a,c\n0,0.1,b,a\n", "s.csv", in: dir)
        let r = try CLI.run(["inspect", csv])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("format: csv scores"))
        #expect(r.stdout.contains("scores: float64, 2 genuine, 3 impostor"))
        #expect(r.stdout.contains("genuine range: 0.9 ... 0.9, 1 NaN (failed comparisons)"))
        #expect(r.stdout.contains("impostor range: -2.5 ... 0.25"))
        #expect(r.stdout.contains("identities: known; 2 impostor identity pairs"))
        #expect(r.stdout.contains("smallest FAR estimable (rule of 3): 1 by comparisons, 1.5 by identity pairs"))

        let bob = try write("a a p1 0.8\na b p2 0.3\nb b p3 0.7\nb a p4 0.1\n", "s.txt", in: dir)
        let b = try CLI.run(["inspect", bob])
        #expect(b.status == 0, "\(b.stderr)")
        #expect(b.stdout.contains("format: bob4 scores"))
        #expect(b.stdout.contains("scores: float64, 2 genuine, 2 impostor"))
        #expect(b.stdout.contains("genuine range: 0.7 ... 0.8"))
    }

    @Test("an HDF5 scores file: counts, ranges, identity pairs; a problem exits 65 after the summary")
    func hdf5Scores() throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("s.h5").path
        try ScoresHDF5.write(
            path: path, scores: [Float(0.75), 0.5, -1, 0.25, .nan], labels: [1, 1, 0, 0, 0],
            leftIdentity: [0, 1, 0, 1, 2], rightIdentity: [0, 1, 1, 2, 2])
        let r = try CLI.run(["inspect", path])
        #expect(r.stdout.contains("format: alaverify-scores v1"))
        #expect(r.stdout.contains("scores: float32, 2 genuine, 3 impostor"))
        #expect(r.stdout.contains("genuine range: 0.5 ... 0.75"))
        #expect(r.stdout.contains("impostor range: -1.0 ... 0.25, 1 NaN (failed comparisons)"))
        #expect(r.stdout.contains("identities: known; 3 impostor identity pairs"))
        // The impostor comparison (2, 2) has equal identities.
        #expect(r.stdout.contains("problem: 1 impostor comparisons have equal identities"))
        #expect(r.status == 65)
        #expect(r.stderr == "alaverify: \(path): 1 validation problem (listed above); first: 1 impostor comparisons have equal identities\n")
    }

    @Test("unreadable files: one stderr line, nothing on stdout, exit 65", arguments: ["missing", "garbage.h5", "truncated.h5", "empty.csv", "scores.h5 as samples"])
    func unreadable(_ name: String) throws {
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var path = dir.appendingPathComponent(name).path
        switch name {
        case "garbage.h5":
            try Data(repeating: 7, count: 4096).write(to: URL(fileURLWithPath: path))
        case "truncated.h5":
            let bytes = try Data(contentsOf: URL(fileURLWithPath: CLI.packageRoot.appendingPathComponent("fixtures/fonts-mini.h5").path))
            try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: path))
        case "empty.csv":
            try Data().write(to: URL(fileURLWithPath: path))
        case "scores.h5 as samples":
            // An HDF5 file with another format attribute.
            path = dir.appendingPathComponent("other.h5").path
            let writer = try HDF5Writer(path: path)
            try writer.setAttribute("format", "something-else")
            try writer.write("/x", [Int32(1), 2])
            try writer.close()
        default:
            break
        }
        let r = try CLI.run(["inspect", path])
        #expect(r.status == 65, "\(r.stdout)\(r.stderr)")
        #expect(r.stdout.isEmpty)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(r.stderr.hasPrefix("alaverify: \(path)"), "\(r.stderr)")
    }
}
