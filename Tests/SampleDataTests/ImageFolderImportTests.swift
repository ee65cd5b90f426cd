import Foundation
import Testing
@testable import SampleData

/// A small seeded generator (SplitMix64) for test pixels.
struct TestRNG: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Builds ImageFolder trees of PNGs (written with libpng's simplified API) in a temp directory.
final class PNGTree {
    let temp = TemporaryDirectory()
    var rng: TestRNG
    var root: String { temp.file("tree") }

    init(seed: UInt64 = 1) {
        rng = TestRNG(state: seed)
        try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    /// Random pixels for a width x height x channels image.
    func pixels(_ width: Int, _ height: Int, _ channels: Int) -> [UInt8] {
        (0..<(width * height * channels)).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// Writes `pixels` as `<root>/<identity>/<name>` and returns them.
    @discardableResult
    func add(_ identity: String, _ name: String, width: Int, height: Int, channels: Int = 1, pixels given: [UInt8]? = nil) throws -> [UInt8] {
        let folder = root + "/" + identity
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let values = given ?? pixels(width, height, channels)
        try PNGFile.write(path: folder + "/" + name, width: width, height: height, channels: channels, pixels: values)
        return values
    }

    /// Writes raw bytes as `<root>/<relative>`.
    func addFile(_ relative: String, _ bytes: [UInt8]) throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// Creates an empty folder `<root>/<relative>`.
    func addFolder(_ relative: String) throws {
        try FileManager.default.createDirectory(atPath: root + "/" + relative, withIntermediateDirectories: true)
    }

    /// The output path used by the tests.
    var out: String { temp.file("out.h5") }

    /// Names in the temp directory other than the tree (the output and any leftovers).
    func leftovers() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: temp.path)) ?? []).filter { $0 != "tree" }.sorted()
    }
}

@Suite("dataset import: ImageFolder PNG trees to alaverify-samples")
struct ImageFolderImportTests {
    @Test("gray images round-trip exactly, identities and files in byte order")
    func grayRoundTrip() throws {
        let tree = PNGTree(seed: 7)
        // Written out of order; byte order puts "c10" before "c9" and "B" before "a".
        var expected: [String: [UInt8]] = [:]
        for (identity, files) in [("c9", ["x.png"]), ("a", ["2.png", "10.png", "1.png"]), ("c10", ["only.png"]), ("B", ["z.png", "y.png"])] {
            for name in files { expected[identity + "/" + name] = try tree.add(identity, name, width: 5, height: 4) }
        }
        try tree.addFile("README.txt", Array("not an identity".utf8))
        try tree.addFile("a/.DS_Store", [0, 1, 2])
        let folder = try ImageFolder(scanning: tree.root)
        #expect(folder.identityNames == ["B", "a", "c10", "c9"])
        let order = ["B/y.png", "B/z.png", "a/1.png", "a/10.png", "a/2.png", "c10/only.png", "c9/x.png"]
        #expect(folder.images.map(\.relativePath) == order)
        #expect(folder.channels == 1 && folder.size == ImageSize(width: 5, height: 4) && !folder.resizes)
        try folder.write(to: tree.out, description: "four identities")

        let file = try SamplesFile(path: tree.out)
        #expect(file.kind == .images(height: 4, width: 5, channels: 1))
        #expect(file.count == 7)
        #expect(file.identityNames == ["B", "a", "c10", "c9"])
        #expect(file.identities == [0, 0, 1, 1, 1, 2, 3])
        #expect(file.fileDescription == "four identities")
        #expect(try file.readImages(0..<7) == order.flatMap { expected[$0]! })
        #expect(try file.sampleAttribute("file") == .strings(order))
        #expect(tree.leftovers() == ["out.h5"])
    }

    @Test("RGB images round-trip exactly; gray images beside them are expanded to R=G=B")
    func rgbAndMixed() throws {
        let tree = PNGTree(seed: 11)
        let color = try tree.add("id1", "c.png", width: 3, height: 2, channels: 3)
        let gray = try tree.add("id2", "g.png", width: 3, height: 2, channels: 1)
        let folder = try ImageFolder(scanning: tree.root)
        #expect(folder.channels == 3)
        try folder.write(to: tree.out)
        let file = try SamplesFile(path: tree.out)
        #expect(file.kind == .images(height: 2, width: 3, channels: 3))
        let images = try file.readImages(0..<2)
        #expect(Array(images[0..<18]) == color)
        #expect(Array(images[18..<36]) == gray.flatMap { [$0, $0, $0] })
    }

    @Test("--channels gray turns R=G=B color pixels into the same gray values")
    func forcedGray() throws {
        let tree = PNGTree(seed: 3)
        let values: [UInt8] = [0, 17, 128, 200, 255, 90]
        try tree.add("id", "c.png", width: 3, height: 2, channels: 3, pixels: values.flatMap { [$0, $0, $0] })
        let folder = try ImageFolder(scanning: tree.root, channels: .gray)
        #expect(folder.channels == 1)
        try folder.write(to: tree.out)
        #expect(try SamplesFile(path: tree.out).readImages(0..<1) == values)
    }

    @Test("resize: images of different sizes are resampled and their source sizes recorded")
    func resizedImport() throws {
        let tree = PNGTree(seed: 5)
        let small = try tree.add("a", "small.png", width: 4, height: 4)
        let large = try tree.add("b", "large.png", width: 8, height: 6)
        let same = try tree.add("c", "same.png", width: 2, height: 2)
        #expect(throws: DataError.self) { try ImageFolder(scanning: tree.root) }
        let target = ImageSize(width: 2, height: 2)
        let folder = try ImageFolder(scanning: tree.root, resize: target)
        try folder.write(to: tree.out)
        let file = try SamplesFile(path: tree.out)
        #expect(file.kind == .images(height: 2, width: 2, channels: 1))
        let images = try file.readImages(0..<3)
        // 4x4 -> 2x2 by area: each output pixel is the rounded mean of a 2x2 block.
        let blocks: [UInt8] = [(0, 0), (0, 2), (2, 0), (2, 2)].map { (y, x) in
            let sum = [small[y * 4 + x], small[y * 4 + x + 1], small[(y + 1) * 4 + x], small[(y + 1) * 4 + x + 1]].reduce(0) { $0 + Int($1) }
            return UInt8((Double(sum) / 4 + 0.5).rounded(.down))
        }
        #expect(Array(images[0..<4]) == blocks)
        #expect(Array(images[4..<8]) == ImageResizer(from: ImageSize(width: 8, height: 6), to: target, channels: 1).resize(large))
        #expect(Array(images[8..<12]) == same)
        #expect(try file.sampleAttribute("source_width") == .integers([4, 8, 2]))
        #expect(try file.sampleAttribute("source_height") == .integers([4, 6, 2]))
    }

    @Test("the same tree gives a byte-identical file")
    func deterministic() throws {
        let tree = PNGTree(seed: 9)
        for k in 0..<5 { try tree.add("id\(k % 2)", "\(k).png", width: 6, height: 6) }
        let first = tree.temp.file("first.h5"), second = tree.temp.file("second.h5")
        try ImageFolder(scanning: tree.root).write(to: first)
        Thread.sleep(forTimeInterval: 1.1)  // HDF5 timestamps have one-second resolution
        try ImageFolder(scanning: tree.root).write(to: second)
        let a = try Data(contentsOf: URL(fileURLWithPath: first)), b = try Data(contentsOf: URL(fileURLWithPath: second))
        #expect(a == b)
    }

    @Test("many images span several write batches")
    func manyBatches() throws {
        let tree = PNGTree(seed: 13)
        // 64x64 gray = 4 KiB per image: 64 rows per 256 KiB chunk, 1024 rows per batch.
        var expected: [UInt8] = []
        for k in 0..<1100 {
            let value = UInt8(k % 251)
            expected += try tree.add("id\(k / 550)", String(format: "%04d.png", k), width: 64, height: 64, pixels: [UInt8](repeating: value, count: 4096))
        }
        var reports: [Int] = []
        try ImageFolder(scanning: tree.root).write(to: tree.out, progress: { done, total in
            #expect(total == 1100)
            reports.append(done)
        })
        #expect(reports == [1024, 1100])
        #expect(try SamplesFile(path: tree.out).readImages(0..<1100) == expected)
    }
}

@Suite("ImageResizer: area averaging down, bilinear up")
struct ImageResizerTests {
    @Test("equal sizes copy")
    func identity() {
        let input: [UInt8] = [1, 2, 3, 4, 5, 6]
        #expect(ImageResizer(from: ImageSize(width: 3, height: 2), to: ImageSize(width: 3, height: 2), channels: 1).resize(input) == input)
    }

    @Test("3 -> 2 by area: [0, 30, 60] -> [10, 50]")
    func areaFractional() {
        let r = ImageResizer(from: ImageSize(width: 3, height: 1), to: ImageSize(width: 2, height: 1), channels: 1)
        #expect(r.resize([0, 30, 60]) == [10, 50])
    }

    @Test("2 -> 4 bilinear with centres aligned: [0, 100] -> [0, 25, 75, 100]")
    func bilinearUp() {
        let r = ImageResizer(from: ImageSize(width: 2, height: 1), to: ImageSize(width: 4, height: 1), channels: 1)
        #expect(r.resize([0, 100]) == [0, 25, 75, 100])
        // The same along the vertical axis, per channel.
        let v = ImageResizer(from: ImageSize(width: 1, height: 2), to: ImageSize(width: 1, height: 4), channels: 2)
        #expect(v.resize([0, 200, 100, 0]) == [0, 200, 25, 150, 75, 50, 100, 0])
    }

    @Test("constant images stay constant at any size", arguments: [(7, 5, 3, 4), (3, 4, 7, 5), (10, 10, 1, 1), (1, 1, 9, 2), (5, 3, 5, 8)])
    func constant(_ sizes: (Int, Int, Int, Int)) {
        let (w, h, tw, th) = sizes
        for value: UInt8 in [0, 1, 127, 254, 255] {
            let r = ImageResizer(from: ImageSize(width: w, height: h), to: ImageSize(width: tw, height: th), channels: 3)
            #expect(r.resize([UInt8](repeating: value, count: w * h * 3)) == [UInt8](repeating: value, count: tw * th * 3))
        }
    }

    @Test("sizes parse as WxH", arguments: [("32x32", ImageSize(width: 32, height: 32)), ("64X48", ImageSize(width: 64, height: 48)),
                                              ("0x4", nil), ("4x", nil), ("x4", nil), ("4", nil), ("4x4x4", nil), ("-1x3", nil), ("65536x1", nil)])
    func parsing(_ text: String, _ size: ImageSize?) {
        #expect(ImageSize(text) == size)
    }
}

@Suite("dataset import: bad input is one clear error naming the file, and nothing is left behind")
struct ImageFolderBadInputTests {
    /// Scans and writes the tree; returns the error.
    func importError(_ tree: PNGTree, resize: ImageSize? = nil) -> DataError? {
        dataError { try ImageFolder(scanning: tree.root, resize: resize).write(to: tree.out) }
    }

    @Test("a missing folder, and a file where the folder should be")
    func missingRoot() throws {
        let tree = PNGTree()
        let missing = tree.temp.file("nope")
        #expect(dataError { _ = try ImageFolder(scanning: missing) } == DataError(file: missing, "no such folder"))
        try tree.addFile("../plain", [1])
        let plain = tree.temp.file("plain")
        #expect(dataError { _ = try ImageFolder(scanning: plain) }?.message.contains("is not a folder") == true)
    }

    @Test("no identity folders: an empty root, or only plain and hidden entries")
    func noIdentities() throws {
        let tree = PNGTree()
        #expect(importError(tree) == DataError(file: tree.root, "no identity folders (expected DIR/<identity>/*.png)"))
        try tree.addFile("notes.png", [1, 2])
        try tree.addFolder(".git")
        #expect(importError(tree)?.message.hasPrefix("no identity folders") == true)
        #expect(tree.leftovers() == [])
    }

    @Test("an identity with zero images, also when it holds only hidden files")
    func emptyIdentity() throws {
        let tree = PNGTree()
        try tree.add("a", "1.png", width: 2, height: 2)
        try tree.addFolder("b")
        #expect(importError(tree) == DataError(file: tree.root + "/b", "identity folder has no PNG images"))
        try tree.addFile("b/.hidden.png", [0])
        #expect(importError(tree)?.file == tree.root + "/b")
        #expect(tree.leftovers() == [])
    }

    @Test("a file that is not a PNG, named .png or not")
    func notPNG() throws {
        for name in ["fake.png", "notes.txt", "empty.png"] {
            let tree = PNGTree()
            try tree.add("a", "1.png", width: 2, height: 2)
            try tree.addFile("a/" + name, name == "empty.png" ? [] : Array("hello, world".utf8))
            let error = importError(tree)
            #expect(error == DataError(file: tree.root + "/a/" + name, "not a PNG file (no PNG signature)"))
            #expect(tree.leftovers() == [])
        }
    }

    @Test("a PNG whose header is damaged after the signature")
    func damagedHeader() throws {
        let tree = PNGTree()
        try tree.add("a", "1.png", width: 2, height: 2)
        try tree.addFile("a/2.png", PNGFile.signature + [0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 9, 9, 9])
        let error = importError(tree)
        #expect(error?.file == tree.root + "/a/2.png")
        #expect(error?.message.hasPrefix("cannot read the PNG header:") == true, "\(String(describing: error))")
    }

    @Test("a PNG cut short inside its pixel data fails while writing; the temp file is removed")
    func truncatedPixels() throws {
        let tree = PNGTree()
        try tree.add("a", "1.png", width: 64, height: 64)
        try tree.add("a", "2.png", width: 64, height: 64)
        let path = tree.root + "/a/2.png"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: path))
        let folder = try ImageFolder(scanning: tree.root)  // the header is intact
        var temporary: String?
        let error = dataError { try folder.write(to: tree.out, started: { temporary = $0 }) }
        #expect(error?.file == path)
        #expect(error?.message.hasPrefix("cannot decode the PNG:") == true, "\(String(describing: error))")
        #expect(temporary != nil && !FileManager.default.fileExists(atPath: temporary!))
        #expect(tree.leftovers() == [])
    }

    @Test("a failed import leaves an existing output file as it was")
    func existingOutputKept() throws {
        let tree = PNGTree()
        try tree.add("a", "1.png", width: 64, height: 64)
        let path = tree.root + "/a/1.png"
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        try bytes.prefix(bytes.count - 40).write(to: URL(fileURLWithPath: path))
        try Data("old".utf8).write(to: URL(fileURLWithPath: tree.out))
        #expect(importError(tree)?.file == path)
        #expect(try Data(contentsOf: URL(fileURLWithPath: tree.out)) == Data("old".utf8))
        #expect(tree.leftovers() == ["out.h5"])
    }

    @Test("16-bit PNGs are refused")
    func sixteenBit() throws {
        let tree = PNGTree()
        try tree.add("a", "1.png", width: 2, height: 2)
        try PNGFile.write16(path: tree.root + "/a/2.png", width: 2, height: 2, pixels: [0, 1000, 40000, 65535])
        #expect(importError(tree) == DataError(file: tree.root + "/a/2.png", "16-bit PNG; expected 8-bit gray or RGB (convert it, e.g. to 8-bit, first)"))
        #expect(tree.leftovers() == [])
    }

    @Test("PNGs with alpha are refused", arguments: [2, 4])
    func alpha(_ channels: Int) throws {
        let tree = PNGTree()
        try tree.add("a", "1.png", width: 2, height: 2, channels: channels)
        #expect(importError(tree)?.message.hasPrefix("PNG has an alpha channel") == true)
    }

    @Test("mixed sizes without --resize name both files")
    func mixedSizes() throws {
        let tree = PNGTree()
        try tree.add("a", "1.png", width: 4, height: 3)
        try tree.add("b", "1.png", width: 4, height: 3)
        try tree.add("b", "2.png", width: 3, height: 4)
        let error = importError(tree)
        #expect(error == DataError(
            file: tree.root + "/b/2.png",
            "is 3x4 but \(tree.root)/a/1.png is 4x3; resize them to one size (WxH) to import images of different sizes"))
        #expect(importError(tree, resize: ImageSize(width: 4, height: 3)) == nil)
    }

    @Test("a folder inside an identity folder")
    func nested() throws {
        let tree = PNGTree()
        try tree.add("a", "1.png", width: 2, height: 2)
        try tree.addFolder("a/sub")
        #expect(importError(tree)?.file == tree.root + "/a/sub")
    }

    @Test("unreadable files: a dangling link, and a file without read permission")
    func unreadable() throws {
        let tree = PNGTree()
        try tree.add("a", "1.png", width: 2, height: 2)
        try FileManager.default.createSymbolicLink(atPath: tree.root + "/a/2.png", withDestinationPath: tree.root + "/missing.png")
        #expect(importError(tree) == DataError(file: tree.root + "/a/2.png", "no such file"))
        try FileManager.default.removeItem(atPath: tree.root + "/a/2.png")
        try tree.add("a", "3.png", width: 2, height: 2)
        chmod(tree.root + "/a/3.png", 0)
        defer { chmod(tree.root + "/a/3.png", 0o644) }
        if getuid() != 0 {  // root reads any file
            #expect(importError(tree)?.file == tree.root + "/a/3.png")
        }
    }
}
