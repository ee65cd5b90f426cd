import CPNG
import Foundation

/// What a PNG file holds, as read from its header (no pixels decoded).
public struct PNGHeader: Sendable, Equatable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// True for color (RGB or palette) images, false for grayscale.
    public var isColor: Bool
    /// True when the image has an alpha channel or transparency (tRNS).
    public var hasAlpha: Bool
    /// True for 16-bit samples.
    public var is16Bit: Bool
    /// True for palette (color-mapped) images.
    public var isPalette: Bool
}

/// Reads 8-bit gray and RGB PNG files through libpng's simplified API.
///
/// The simplified API reports errors in `png_image.message` instead of longjmp, so no C code is
/// needed and no longjmp crosses Swift frames. Every failure is a `DataError` naming the file.
public enum PNGFile {
    // png.h format flags (the PNG_FORMAT_* macros are plain numbers; named here for clarity).
    static let flagAlpha: UInt32 = 0x01
    static let flagColor: UInt32 = 0x02
    static let flagLinear: UInt32 = 0x04
    static let flagColormap: UInt32 = 0x08
    /// PNG_FORMAT_GRAY: one 8-bit channel.
    static let formatGray: UInt32 = 0
    /// PNG_FORMAT_RGB: three 8-bit channels, R G B.
    static let formatRGB: UInt32 = flagColor
    /// The PNG file signature.
    static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    /// Reads the header of the PNG at `path`; fails for unreadable and non-PNG files.
    public static func header(path: String) throws(DataError) -> PNGHeader {
        try withImage(path: path) { image throws(DataError) in
            let format = image.pointee.format
            return PNGHeader(
                width: Int(image.pointee.width), height: Int(image.pointee.height),
                isColor: format & flagColor != 0, hasAlpha: format & flagAlpha != 0,
                is16Bit: format & flagLinear != 0, isPalette: format & flagColormap != 0)
        }
    }

    /// Decodes the PNG at `path` as `channels` (1 gray, 3 RGB) 8-bit samples, row-major, into `buffer`.
    ///
    /// `buffer` must hold exactly width x height x channels bytes of `expected`'s size. libpng
    /// converts between gray and RGB when the file's color type differs from `channels`.
    public static func decode(
        path: String, expected: PNGHeader, channels: Int, into buffer: UnsafeMutableBufferPointer<UInt8>
    ) throws(DataError) {
        precondition(channels == 1 || channels == 3, "channels must be 1 or 3")
        try withImage(path: path) { image throws(DataError) in
            let width = Int(image.pointee.width), height = Int(image.pointee.height)
            guard width == expected.width, height == expected.height else {
                throw DataError(file: path, "changed while importing: now \(width)x\(height), was \(expected.width)x\(expected.height)")
            }
            guard buffer.count == width * height * channels, let base = buffer.baseAddress else {
                throw DataError(file: path, "internal: buffer of \(buffer.count) bytes for a \(width)x\(height)x\(channels) image")
            }
            image.pointee.format = channels == 1 ? formatGray : formatRGB
            if png_image_finish_read(image, nil, base, Int32(width * channels), nil) == 0 {
                throw DataError(file: path, "cannot decode the PNG: \(message(image.pointee))")
            }
        }
    }

    /// Runs `body` on a `png_image` whose header has been read from `path`, then frees libpng's state.
    ///
    /// The `png_image` lives on the heap for the whole read: libpng keeps a pointer to it as the
    /// error context, so it must not move between `begin_read` and `finish_read`.
    private static func withImage<R>(
        path: String, _ body: (UnsafeMutablePointer<png_image>) throws(DataError) -> R
    ) throws(DataError) -> R {
        try checkSignature(path: path)
        let image = UnsafeMutablePointer<png_image>.allocate(capacity: 1)
        image.initialize(to: png_image())
        defer {
            png_image_free(image)  // a no-op when finish_read already released it
            image.deallocate()
        }
        image.pointee.version = UInt32(PNG_IMAGE_VERSION)
        if png_image_begin_read_from_file(image, path) == 0 {
            throw DataError(file: path, "cannot read the PNG header: \(message(image.pointee))")
        }
        return try body(image)
    }

    /// Fails unless the file exists, is readable and starts with the PNG signature.
    private static func checkSignature(path: String) throws(DataError) {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DataError(file: path, FileManager.default.fileExists(atPath: path) ? "cannot be read (permission denied?)" : "no such file")
        }
        defer { try? handle.close() }
        let head: Data
        do { head = try handle.read(upToCount: 8) ?? Data() } catch {
            throw DataError(file: path, "cannot be read: \(error.localizedDescription)")
        }
        guard head.elementsEqual(signature) else { throw DataError(file: path, "not a PNG file (no PNG signature)") }
    }

    private static func message(_ image: png_image) -> String {
        var copy = image.message
        let text = withUnsafeBytes(of: &copy) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        return text.isEmpty ? "unknown libpng error" : text
    }

    /// Writes 8-bit gray (1), RGB (3) or RGBA (4) samples, or 16-bit gray when `sixteenBit`, as a PNG at `path`.
    ///
    /// For exports and test data; pixels are row-major, `width * channels` samples per row.
    public static func write(
        path: String, width: Int, height: Int, channels: Int, pixels: [UInt8]
    ) throws(DataError) {
        let format: UInt32
        switch channels {
        case 1: format = formatGray
        case 2: format = flagAlpha
        case 3: format = formatRGB
        case 4: format = formatRGB | flagAlpha
        default: throw DataError(file: path, "cannot write \(channels) channels")
        }
        guard pixels.count == width * height * channels else {
            throw DataError(file: path, "\(pixels.count) samples do not fill \(width)x\(height)x\(channels)")
        }
        try write(path: path, width: width, height: height, format: format, rowStride: width * channels, pixels)
    }

    /// Writes 16-bit linear gray samples as a PNG (used to test that 16-bit input is refused).
    public static func write16(path: String, width: Int, height: Int, pixels: [UInt16]) throws(DataError) {
        guard pixels.count == width * height else {
            throw DataError(file: path, "\(pixels.count) samples do not fill \(width)x\(height)")
        }
        try write(path: path, width: width, height: height, format: flagLinear, rowStride: width, pixels)
    }

    private static func write<T>(path: String, width: Int, height: Int, format: UInt32, rowStride: Int, _ pixels: [T]) throws(DataError) {
        let image = UnsafeMutablePointer<png_image>.allocate(capacity: 1)
        image.initialize(to: png_image())
        defer {
            png_image_free(image)
            image.deallocate()
        }
        image.pointee.version = UInt32(PNG_IMAGE_VERSION)
        image.pointee.width = UInt32(width)
        image.pointee.height = UInt32(height)
        image.pointee.format = format
        let ok = pixels.withUnsafeBytes { raw in
            png_image_write_to_file(image, path, 0, raw.baseAddress, Int32(rowStride), nil)
        }
        if ok == 0 { throw DataError(file: path, "cannot write the PNG: \(message(image.pointee))") }
    }
}
