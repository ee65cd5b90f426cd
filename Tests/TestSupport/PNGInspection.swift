import CPNG
import Foundation
import Reports

/// Helpers shared by the test targets that look inside PNG files (ReportsTests, EndToEndTests).

/// A PNG file that is not what a test expected.
public struct PNGInspectionError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

func check(_ condition: Bool, _ message: String) throws {
    if !condition { throw PNGInspectionError(message: message) }
}

/// Decodes a PNG through libpng's simplified read API into 8-bit RGBA.
public func decodePNG(_ bytes: [UInt8]) throws -> RGBAImage {
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
    try check(begun != 0, "png_image_begin_read_from_memory failed")
    image.format = 3  // PNG_FORMAT_RGBA (the macro does not import)
    let width = Int(image.width), height = Int(image.height)
    var pixels = [UInt8](repeating: 0, count: width * height * 4)
    let finished = bytes.withUnsafeBytes { _ in
        pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, Int32(width * 4), nil) }
    }
    png_image_free(&image)
    try check(finished != 0, "png_image_finish_read failed")
    return RGBAImage(width: width, height: height, pixels: pixels)
}

/// A PNG chunk as stored: type, data and whether its CRC is right.
public struct PNGChunk {
    public var type: String
    public var data: [UInt8]
    public var crcValid: Bool
}

/// Splits a PNG file into its chunks (after checking the signature).
public func pngChunks(_ bytes: [UInt8]) throws -> [PNGChunk] {
    try check(Array(bytes.prefix(8)) == [137, 80, 78, 71, 13, 10, 26, 10], "not a PNG signature")
    var chunks = [PNGChunk]()
    var at = 8
    func u32(_ o: Int) -> UInt32 { UInt32(bytes[o]) << 24 | UInt32(bytes[o + 1]) << 16 | UInt32(bytes[o + 2]) << 8 | UInt32(bytes[o + 3]) }
    while at + 12 <= bytes.count {
        let length = Int(u32(at))
        try check(at + 12 + length <= bytes.count, "chunk runs past the end")
        let typeBytes = Array(bytes[(at + 4)..<(at + 8)])
        let data = Array(bytes[(at + 8)..<(at + 8 + length)])
        let crc = u32(at + 8 + length)
        chunks.append(PNGChunk(type: String(decoding: typeBytes, as: UTF8.self), data: data, crcValid: crc32(typeBytes + data) == crc))
        at += 12 + length
    }
    return chunks
}

/// CRC-32 (ISO-HDLC), as PNG chunks use it.
public func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return c ^ 0xFFFF_FFFF
}

/// The tEXt chunks of a PNG as (keyword, text), Latin-1 decoded.
public func textChunks(_ bytes: [UInt8]) throws -> [(String, String)] {
    try pngChunks(bytes).filter { $0.type == "tEXt" }.map { chunk in
        guard let nul = chunk.data.firstIndex(of: 0) else { throw PNGInspectionError(message: "tEXt chunk without a NUL separator") }
        let latin1 = { (b: ArraySlice<UInt8>) in String(b.map { Character(Unicode.Scalar($0)) }) }
        return (latin1(chunk.data[..<nul]), latin1(chunk.data[(nul + 1)...]))
    }
}
