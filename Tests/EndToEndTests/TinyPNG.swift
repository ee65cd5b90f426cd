import Foundation
import TestSupport

/// A minimal PNG encoder for end-to-end tests (stored deflate blocks, no filtering), independent
/// of libpng so the importer is checked against files it did not write itself.
enum TinyPNG {
    /// Color types: 0 gray, 2 RGB, 3 palette (`palette`: RGB triples), 4 gray+alpha, 6 RGBA.
    /// `samples` are packed rows (bit depths below 8 pack several pixels per byte, MSB first).
    static func encode(width: Int, height: Int, colorType: UInt8, bitDepth: UInt8 = 8, palette: [UInt8]? = nil, samples: [UInt8]) -> [UInt8] {
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][Int(colorType)]!
        let rowBytes = (width * channels * Int(bitDepth) + 7) / 8
        precondition(samples.count == rowBytes * height, "samples do not fill the image")
        var raw: [UInt8] = []
        for y in 0..<height {
            raw.append(0)  // filter: none
            raw += samples[(y * rowBytes)..<((y + 1) * rowBytes)]
        }
        var header: [UInt8] = []
        header += bigEndian(UInt32(width)) + bigEndian(UInt32(height))
        header += [bitDepth, colorType, 0, 0, 0]
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
            + chunk("IHDR", header) + (palette.map { chunk("PLTE", $0) } ?? [])
            + chunk("IDAT", zlibStored(raw)) + chunk("IEND", [])
    }

    /// Writes an encoded PNG to `path`.
    static func write(_ path: String, width: Int, height: Int, colorType: UInt8 = 0, bitDepth: UInt8 = 8, palette: [UInt8]? = nil, samples: [UInt8]) throws {
        let bytes = encode(width: width, height: height, colorType: colorType, bitDepth: bitDepth, palette: palette, samples: samples)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    private static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return bigEndian(UInt32(data.count)) + body + bigEndian(crc32(body))
    }

    private static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var offset = 0
        repeat {
            let n = min(65535, data.count - offset)
            let final: UInt8 = offset + n == data.count ? 1 : 0
            out.append(final)
            out += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[offset..<(offset + n)]
            offset += n
        } while offset < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for x in data {
            a = (a + UInt32(x)) % 65521
            b = (b + a) % 65521
        }
        return out + bigEndian(b << 16 | a)
    }

    private static func bigEndian(_ x: UInt32) -> [UInt8] {
        [UInt8(x >> 24), UInt8((x >> 16) & 0xFF), UInt8((x >> 8) & 0xFF), UInt8(x & 0xFF)]
    }
}
