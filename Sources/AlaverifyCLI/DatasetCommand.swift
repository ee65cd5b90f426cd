import ArgumentParser
import Foundation
import SampleData

extension ImageSize: ExpressibleByArgument {
    public init?(argument: String) { self.init(argument) }
}

extension ImportChannels: ExpressibleByArgument {}

/// `alaverify dataset`: building samples files.
struct DatasetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dataset",
        abstract: "Build alaverify-samples files from other layouts.",
        subcommands: [DatasetImportCommand.self])
}

/// `alaverify dataset import DIR --out F.h5`: an ImageFolder tree of PNGs to a samples file.
struct DatasetImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import an ImageFolder tree (DIR/<identity>/*.png) as an alaverify-samples file.",
        discussion: """
            Identities are the folders directly under DIR, sorted by name (byte order); each \
            identity's images are its files, sorted the same way. Names starting with '.' are \
            skipped, and so are plain files directly in DIR. Every other file in an identity \
            folder must be a PNG: gray (8-bit or less), RGB or palette, without alpha or \
            transparency; 16-bit PNGs are refused. Pixels are read through libpng's simplified API \
            (which applies the file's gamma when it is not sRGB).

            All images must have the same size unless --resize WxH is given: then each image is \
            resampled (area average when shrinking, bilinear when enlarging). Channels: gray when \
            every image is gray, else RGB (gray images expanded); --channels overrides.

            Output: /samples/images uint8 [N, H, W] or [N, H, W, 3] (chunked, gzip), /samples/identity, \
            /identities/name, /samples/attributes/file (relative paths); with --resize also \
            source_width and source_height. The whole tree is checked before anything is written; \
            the file is written under a temporary name beside --out and renamed when complete, so \
            no half-written file is left behind. The same tree and options give the same content.

            Progress goes to stderr: a bar on a terminal, else a line per 10%.

            Exit codes: 0 done; 64 bad flags, or --out exists without --force, or its folder is \
            missing; 65 bad input (missing DIR, no identity folders, an identity without images, \
            an unreadable, non-PNG, 16-bit or transparent file, mixed sizes without --resize), with \
            one stderr line naming the file.

            Examples:
              alaverify dataset import crops/ --out crops.h5
              alaverify dataset import crops/ --out crops.h5 --resize 64x64 --force
            """)

    @Argument(help: "The ImageFolder root: DIR/<identity>/*.png.")
    var directory: String

    @Option(help: "The samples file to write.")
    var out: String

    @Option(help: "Resample every image to this size.")
    var resize: ImageSize?

    @Option(help: "auto (gray unless any image is color), gray or rgb.")
    var channels: ImportChannels = .auto

    @Option(help: "The file's description attribute.")
    var description: String?

    @Flag(help: "Replace --out if it exists (only once the new file is complete).")
    var force = false

    @Flag(help: "No progress output.")
    var quiet = false

    func run() throws {
        try checkOut()
        let folder = try ImageFolder(scanning: directory, resize: resize, channels: channels)
        let progress = quiet ? nil : ProgressReporter(label: "importing", total: folder.images.count)
        progress?.note("found \(folder.images.count) images in \(folder.identityNames.count) identity folders")
        let cleanup = TemporaryFileCleanup()
        defer { cleanup.disarm() }
        try folder.write(
            to: out, description: description,
            started: { cleanup.arm($0) },
            progress: { done, total in progress?.update(done, of: total) })
        progress?.finish()
        let perIdentity = folder.imagesPerIdentity
        print("wrote \(out): \(folder.images.count) images of \(folder.size) \(folder.channels == 1 ? "gray" : "RGB"), "
              + "\(folder.identityNames.count) identities (\(perIdentity.min() ?? 0) to \(perIdentity.max() ?? 0) images each)"
              + (folder.resizes ? ", resized" : ""))
    }

    /// --out must be a file in an existing folder, and absent unless --force.
    private func checkOut() throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: out, isDirectory: &isDirectory) {
            if isDirectory.boolValue { throw UsageError("--out \(out): is a folder; give a file name") }
            if !force { throw UsageError("--out \(out): exists; give --force to replace it") }
        }
        let parent = URL(fileURLWithPath: out).deletingLastPathComponent().path
        guard fm.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw UsageError("--out \(out): folder \(parent) does not exist")
        }
    }
}
