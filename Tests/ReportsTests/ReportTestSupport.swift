import AlaverifyBase
import CPNG
import Foundation
import ScoreMetrics
import Testing
@testable import Reports

/// Gaussian scores from a fixed seed (Box-Muller on SplitMix64).
func gaussian(_ n: Int, mean: Double, sd: Double = 1, seed: UInt64) -> [Double] {
    var rng = SeededGenerator(seed: seed)
    return (0..<n).map { _ in
        let u1 = max(rng.unit(), 1e-300), u2 = rng.unit()
        return mean + sd * (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }
}

/// One system: 1,000 genuine N(3.5, 1) and 100,000 impostor N(0, 1) scores.
func demoSeries(
    name: String = "sys", targets: [Double] = [1e-3, 1e-2], genuineMean: Double = 3.5, seed: UInt64 = 1, axes: DETAxes = .probit
) throws -> PlotSeries {
    let set = try ScoreSet(genuine: gaussian(1000, mean: genuineMean, seed: seed), impostor: gaussian(100_000, mean: 0, seed: seed + 100))
    return try PlotSeries.make(
        name: name, source: "\(name).csv", scores: .double(set),
        options: EvaluationOptions(metrics: targets.map { .frrAtFAR($0) }, interval: .wilson), axes: axes)
}

/// The DET range's upper end for `demoSeries()`, derived from the raw scores: the FRR at the
/// curve's first false accept (genuine scores below the top impostor score) rounded up to the
/// next of 40, 60, 80, 90, 95, 98, 99 ... %.
func demoUpper(genuineMean: Double = 3.5, seed: UInt64 = 1) -> Double {
    let g = gaussian(1000, mean: genuineMean, seed: seed), top = gaussian(100_000, mean: 0, seed: seed + 100).max()!
    let frr = Double(g.filter { $0 < top }.count) / 1000
    return [0.4, 0.6, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999].first { $0 >= frr }!
}

/// The standard normal quantile by bisection on `erfc`, independent of `ScoreMetrics.probit`.
func normalQuantile(_ p: Double) -> Double {
    var lo = -40.0, hi = 40.0
    for _ in 0..<200 {
        let mid = (lo + hi) / 2
        if 0.5 * erfc(-mid / 2.0.squareRoot()) < p { lo = mid } else { hi = mid }
    }
    return (lo + hi) / 2
}

/// Decodes a PNG through libpng's simplified read API into 8-bit RGBA.
func decodePNG(_ bytes: [UInt8]) throws -> RGBAImage {
    var image = png_image()
    image.version = UInt32(PNG_IMAGE_VERSION)
    let begun = bytes.withUnsafeBytes { png_image_begin_read_from_memory(&image, $0.baseAddress, $0.count) }
    try #require(begun != 0, "png_image_begin_read_from_memory failed")
    image.format = 3  // PNG_FORMAT_RGBA (the macro does not import)
    let width = Int(image.width), height = Int(image.height)
    var pixels = [UInt8](repeating: 0, count: width * height * 4)
    let finished = bytes.withUnsafeBytes { _ in
        pixels.withUnsafeMutableBytes { png_image_finish_read(&image, nil, $0.baseAddress, Int32(width * 4), nil) }
    }
    png_image_free(&image)
    try #require(finished != 0, "png_image_finish_read failed")
    return RGBAImage(width: width, height: height, pixels: pixels)
}

/// A PNG chunk as stored: type, data and whether its CRC is right.
struct PNGChunk {
    var type: String
    var data: [UInt8]
    var crcValid: Bool
}

/// Splits a PNG file into its chunks (after checking the signature).
func pngChunks(_ bytes: [UInt8]) throws -> [PNGChunk] {
    try #require(Array(bytes.prefix(8)) == [137, 80, 78, 71, 13, 10, 26, 10], "not a PNG signature")
    var chunks = [PNGChunk]()
    var at = 8
    func u32(_ o: Int) -> UInt32 { UInt32(bytes[o]) << 24 | UInt32(bytes[o + 1]) << 16 | UInt32(bytes[o + 2]) << 8 | UInt32(bytes[o + 3]) }
    while at + 12 <= bytes.count {
        let length = Int(u32(at))
        try #require(at + 12 + length <= bytes.count, "chunk runs past the end")
        let typeBytes = Array(bytes[(at + 4)..<(at + 8)])
        let data = Array(bytes[(at + 8)..<(at + 8 + length)])
        let crc = u32(at + 8 + length)
        chunks.append(PNGChunk(type: String(decoding: typeBytes, as: UTF8.self), data: data, crcValid: crc32(typeBytes + data) == crc))
        at += 12 + length
    }
    return chunks
}

/// CRC-32 (ISO-HDLC), as PNG chunks use it.
func crc32(_ bytes: [UInt8]) -> UInt32 {
    var c: UInt32 = 0xFFFF_FFFF
    for b in bytes {
        c ^= UInt32(b)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }
    return c ^ 0xFFFF_FFFF
}

/// The tEXt chunks of a PNG as (keyword, text), Latin-1 decoded.
func textChunks(_ bytes: [UInt8]) throws -> [(String, String)] {
    try pngChunks(bytes).filter { $0.type == "tEXt" }.map { chunk in
        let nul = try #require(chunk.data.firstIndex(of: 0))
        let latin1 = { (b: ArraySlice<UInt8>) in String(b.map { Character(Unicode.Scalar($0)) }) }
        return (latin1(chunk.data[..<nul]), latin1(chunk.data[(nul + 1)...]))
    }
}

/// True when the pixel is within `tolerance` of the colour in every channel.
func near(_ p: (r: UInt8, g: UInt8, b: UInt8, a: UInt8), _ c: (UInt8, UInt8, UInt8), tolerance: Int = 24) -> Bool {
    abs(Int(p.r) - Int(c.0)) <= tolerance && abs(Int(p.g) - Int(c.1)) <= tolerance && abs(Int(p.b) - Int(c.2)) <= tolerance
}
