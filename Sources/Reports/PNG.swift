import CPNGText

/// An 8-bit RGBA image, rows top to bottom, not premultiplied.
public struct RGBAImage: Sendable, Equatable {
    /// Width in pixels.
    public var width: Int
    /// Height in pixels.
    public var height: Int
    /// `width * height * 4` bytes: R, G, B, A per pixel.
    public var pixels: [UInt8]

    /// Creates an image from its pixel bytes.
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 4, "RGBA buffer size does not match \(width)x\(height)")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The (R, G, B, A) of the pixel in column x, row y (0-based, row 0 at the top).
    public func pixel(_ x: Int, _ y: Int) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
        let o = (y * width + x) * 4
        return (pixels[o], pixels[o + 1], pixels[o + 2], pixels[o + 3])
    }
}

/// One tEXt chunk of a PNG file.
public struct PNGText: Sendable, Equatable {
    /// Keyword: 1 to 79 Latin-1 characters, e.g. `Software`.
    public var key: String
    /// The text (Latin-1; other characters are written as `?`).
    public var text: String

    /// Creates a chunk.
    public init(_ key: String, _ text: String) {
        self.key = key
        self.text = text
    }
}

/// PNG encoding through libpng.
public enum PNGEncoder {
    /// Encodes an image with tEXt chunks (written before the image data, in the given order).
    ///
    /// The output has no time chunk and uses fixed compression settings: equal input gives
    /// equal bytes.
    public static func encode(_ image: RGBAImage, text: [PNGText] = [], compressionLevel: Int = 6) throws(ReportError) -> [UInt8] {
        for t in text where t.key.isEmpty || t.key.unicodeScalars.count > 79 {
            throw ReportError("PNG text keyword '\(t.key)' must have 1 to 79 characters")
        }
        // All strings in one buffer, so their pointers stay valid for the call.
        var blob = [CChar]()
        var offsets = [(key: Int, text: Int)]()
        for t in text {
            let k = blob.count
            blob += latin1CString(t.key)
            let v = blob.count
            blob += latin1CString(t.text)
            offsets.append((k, v))
        }
        var out: UnsafeMutablePointer<UInt8>?
        var size = 0
        var message = [CChar](repeating: 0, count: 256)
        let status: Int32 = blob.withUnsafeBufferPointer { b in
            var chunks = offsets.map { alav_png_text(key: b.baseAddress! + $0.key, text: b.baseAddress! + $0.text) }
            return image.pixels.withUnsafeBufferPointer { px in
                chunks.withUnsafeMutableBufferPointer { c in
                    message.withUnsafeMutableBufferPointer { m in
                        alav_png_encode_rgba(
                            px.baseAddress, UInt32(image.width), UInt32(image.height), image.width * 4,
                            c.baseAddress, Int32(c.count), Int32(compressionLevel), &out, &size, m.baseAddress, m.count)
                    }
                }
            }
        }
        guard status == 0, let out else {
            let text = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw ReportError("PNG encoding failed: \(text.isEmpty ? "libpng error" : text)")
        }
        defer { alav_png_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: size))
    }

    /// NUL-terminated Latin-1 bytes; characters beyond U+00FF and control characters other
    /// than newline become `?`.
    static func latin1CString(_ s: String) -> [CChar] {
        var bytes = [CChar]()
        for scalar in s.unicodeScalars {
            let v = scalar.value
            if v == 0x0A || (v >= 0x20 && v < 0x7F) || (v >= 0xA1 && v <= 0xFF) {
                bytes.append(CChar(bitPattern: UInt8(v)))
            } else {
                bytes.append(CChar(bitPattern: UInt8(ascii: "?")))
            }
        }
        bytes.append(0)
        return bytes
    }
}
