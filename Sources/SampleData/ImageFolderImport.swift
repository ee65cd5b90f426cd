import Foundation

/// How many channels `dataset import` writes.
public enum ImportChannels: String, Sendable, CaseIterable {
    /// Gray when every image is gray, RGB when any image is color (gray images are expanded).
    case auto
    /// One channel: color images are converted to gray by libpng.
    case gray
    /// Three channels: gray images are expanded to RGB.
    case rgb
}

/// An ImageFolder tree (`DIR/<identity>/*.png`) scanned and checked, ready to be written as an
/// `alaverify-samples` v1 file.
///
/// Scanning reads every PNG header and checks the whole tree before anything is written:
/// identities are the folders directly under `DIR`, sorted by name in byte order; each
/// identity's images are its files, sorted the same way. Entries whose name starts with `.` are
/// skipped, as are plain files directly in `DIR` (a README or LICENSE). Every other file in an
/// identity folder must be an 8-bit (or lower) gray, RGB or palette PNG without transparency.
public struct ImageFolder: Sendable {
    /// One image of the tree.
    public struct Image: Sendable, Equatable {
        /// `<identity>/<file>` relative to the tree's root.
        public var relativePath: String
        /// The path to open (the root as given, joined with `relativePath`).
        public var path: String
        /// The identity index (into `identityNames`).
        public var identity: Int32
        /// The PNG header.
        public var header: PNGHeader
    }

    /// The root folder as given.
    public let directory: String
    /// Identity names: the folder names, in byte order.
    public let identityNames: [String]
    /// Every image, grouped by identity in `identityNames` order, files in byte order.
    public let images: [Image]
    /// The size written to the file (the common size, or the `resize` size).
    public let size: ImageSize
    /// Channels written (1 gray, 3 RGB).
    public let channels: Int
    /// True when images are resampled to `size` (an explicit resize was asked for).
    public let resizes: Bool

    /// Images larger than this many samples (width x height x 3) are refused before decoding.
    public static let maximumImageSamples = 1 << 28

    /// Scans `directory`; `resize` makes differently sized images acceptable.
    public init(scanning directory: String, resize: ImageSize? = nil, channels: ImportChannels = .auto) throws(DataError) {
        self.directory = directory
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: directory, isDirectory: &isDirectory) else {
            throw DataError(file: directory, "no such folder")
        }
        guard isDirectory.boolValue else {
            throw DataError(file: directory, "is not a folder (expected DIR/<identity>/*.png)")
        }
        let root = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        let entries = try Self.list(directory)
        var names: [String] = []
        for name in entries {
            var sub: ObjCBool = false
            if fm.fileExists(atPath: root + "/" + name, isDirectory: &sub), sub.boolValue { names.append(name) }
        }
        guard !names.isEmpty else {
            throw DataError(file: directory, "no identity folders (expected DIR/<identity>/*.png)")
        }
        guard names.count <= Int(Int32.max) else { throw DataError(file: directory, "too many identity folders") }
        var images: [Image] = []
        for (k, name) in names.enumerated() {
            let folder = root + "/" + name
            let files = try Self.list(folder)
            guard !files.isEmpty else {
                throw DataError(file: folder, "identity folder has no PNG images")
            }
            for file in files {
                let path = folder + "/" + file
                var sub: ObjCBool = false
                if fm.fileExists(atPath: path, isDirectory: &sub), sub.boolValue {
                    throw DataError(file: path, "is a folder inside an identity folder; expected only PNG files (DIR/<identity>/*.png)")
                }
                let header = try PNGFile.header(path: path)
                try Self.check(header, path: path)
                images.append(Image(relativePath: name + "/" + file, path: path, identity: Int32(k), header: header))
            }
        }
        identityNames = names
        self.images = images
        guard images.count <= Int(Int32.max) else { throw DataError(file: directory, "too many images") }

        let first = images[0]
        let firstSize = ImageSize(width: first.header.width, height: first.header.height)
        if let resize {
            size = resize
            resizes = true
        } else {
            if let other = images.first(where: { $0.header.width != firstSize.width || $0.header.height != firstSize.height }) {
                throw DataError(
                    file: other.path,
                    "is \(other.header.width)x\(other.header.height) but \(first.path) is \(firstSize); resize them to one size (WxH) to import images of different sizes")
            }
            size = firstSize
            resizes = false
        }
        switch channels {
        case .gray: self.channels = 1
        case .rgb: self.channels = 3
        case .auto: self.channels = images.contains(where: \.header.isColor) ? 3 : 1
        }
        guard size.width * size.height * self.channels <= Self.maximumImageSamples else {
            throw DataError(file: directory, "output images of \(size)x\(self.channels) are too large")
        }
    }

    /// The non-hidden entries of `folder`, in byte order.
    private static func list(_ folder: String) throws(DataError) -> [String] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw DataError(file: folder, "cannot list the folder: \((error as NSError).localizedDescription)")
        }
        return names.filter { !$0.hasPrefix(".") }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }

    private static func check(_ header: PNGHeader, path: String) throws(DataError) {
        if header.is16Bit {
            throw DataError(file: path, "16-bit PNG; expected 8-bit gray or RGB (convert it, e.g. to 8-bit, first)")
        }
        if header.hasAlpha {
            throw DataError(file: path, "PNG has an alpha channel or transparency; expected 8-bit gray or RGB without alpha")
        }
        guard header.width > 0, header.height > 0, header.width * header.height * 3 <= maximumImageSamples else {
            throw DataError(file: path, "image of \(header.width)x\(header.height) is too large to import")
        }
    }

    /// The number of images per identity, in `identityNames` order.
    public var imagesPerIdentity: [Int] {
        var counts = [Int](repeating: 0, count: identityNames.count)
        for image in images { counts[Int(image.identity)] += 1 }
        return counts
    }

    /// Decodes (and resamples) every image and writes the samples file at `path`.
    ///
    /// The file is written under a temporary name beside `path` and renamed into place only when
    /// complete; on any error the temporary file is removed and `path` is left as it was.
    /// `/samples/images` is uint8 [N, H, W] (gray) or [N, H, W, 3], chunked and gzip-compressed;
    /// `/samples/identity`, `/identities/name` and `/samples/attributes/file` (the relative paths)
    /// follow; resized imports also record `source_width` and `source_height`. The output
    /// depends only on the tree's content, names and the options.
    ///
    /// - Parameters:
    ///   - started: called once with the temporary path, before the first image is decoded.
    ///   - progress: called with (images done, total) after each written batch.
    public func write(
        to path: String, description: String? = nil, source: String? = nil,
        started: (String) -> Void = { _ in }, progress: (Int, Int) -> Void = { _, _ in }
    ) throws(DataError) {
        let n = images.count
        let rowBytes = size.width * size.height * channels
        let writer = try SamplesWriter(
            path: path, kind: .images(height: size.height, width: size.width, channels: channels), count: n,
            identityNames: identityNames, description: description,
            source: source ?? "alaverify dataset import of \((directory as NSString).lastPathComponent)")
        started(writer.temporaryPath)
        // Batches of whole 256 KiB chunks (the writer's chunking), about 4 MiB each.
        let chunkRows = min(n, max(1, (256 << 10) / rowBytes))
        let batchRows = chunkRows * max(1, (4 << 20) / (chunkRows * rowBytes))
        var batch = [UInt8](repeating: 0, count: min(n, batchRows) * rowBytes)
        var resizers: [ImageSize: ImageResizer] = [:]
        var decoded: [UInt8] = []
        var start = 0
        while start < n {
            let rows = min(batchRows, n - start)
            for r in 0..<rows {
                let image = images[start + r]
                let source = ImageSize(width: image.header.width, height: image.header.height)
                try batch.withUnsafeMutableBufferPointer { b throws(DataError) in
                    let slot = UnsafeMutableBufferPointer(rebasing: b[(r * rowBytes)..<((r + 1) * rowBytes)])
                    if source == size {
                        try PNGFile.decode(path: image.path, expected: image.header, channels: channels, into: slot)
                        return
                    }
                    let count = source.width * source.height * channels
                    if decoded.count != count { decoded = [UInt8](repeating: 0, count: count) }
                    try decoded.withUnsafeMutableBufferPointer { d throws(DataError) in
                        try PNGFile.decode(path: image.path, expected: image.header, channels: channels, into: d)
                    }
                    let resizer = resizers[source] ?? ImageResizer(from: source, to: size, channels: channels)
                    resizers[source] = resizer
                    decoded.withUnsafeBufferPointer { resizer.resize($0, into: slot) }
                }
            }
            if rows == batchRows {
                try writer.writeImages(at: start, batch)
            } else {
                try writer.writeImages(at: start, Array(batch[0..<(rows * rowBytes)]))
            }
            start += rows
            progress(start, n)
        }
        try writer.writeIdentities(images.map(\.identity))
        try writer.writeSampleStrings("file", images.map(\.relativePath))
        if resizes {
            try writer.writeSampleAttribute("source_width", images.map { Int32($0.header.width) })
            try writer.writeSampleAttribute("source_height", images.map { Int32($0.header.height) })
        }
        try writer.close()
    }
}
