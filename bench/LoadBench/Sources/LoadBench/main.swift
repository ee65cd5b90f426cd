// LoadBench: in-process timings of loading every image of an alaverify-samples file.
//
//   LoadBench FILE.h5 [--repeats R] [--batch ROWS]
//
// Modes, each timed from opening the file (SamplesFile validates it: attributes, identities,
// attribute columns) to having all N images in memory:
//   whole    one readImages(0..<N) call (one H5Dread of the whole dataset; h5py's `[:]`)
//   open     SamplesFile(path:) alone (validation, identities), no image data
//   batched  chunk-aligned readImages(batch) calls of about ROWS rows (default 4096), the way a
//            trainer streams the file, copied into one N-row buffer
// Prints one JSON object: N, the shape, every repeat's seconds per mode, medians, and a byte sum
// of the loaded images (computed outside the timing) so the peer can check it read the same data.
import Foundation
import SampleData

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("LoadBench: \(message)\n".utf8))
    exit(64)
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func byteSum(_ bytes: [UInt8]) -> UInt64 {
    bytes.withUnsafeBufferPointer { b in
        var total: UInt64 = 0
        for x in b { total &+= UInt64(x) }
        return total
    }
}

var args = Array(CommandLine.arguments.dropFirst())
guard let path = args.first, !path.hasPrefix("--") else { fail("usage: LoadBench FILE.h5 [--repeats R] [--batch ROWS]") }
args.removeFirst()
var repeats = 3, batchRows = 4096
while let flag = args.first {
    guard args.count >= 2, let value = Int(args[1]), value > 0 else { fail("\(flag) needs a positive count") }
    switch flag {
    case "--repeats": repeats = value
    case "--batch": batchRows = value
    default: fail("unknown flag \(flag)")
    }
    args.removeFirst(2)
}

do {
    var shape: [Int] = []
    var sums: [String: UInt64] = [:]
    var times: [String: [Double]] = ["open": [], "whole": [], "batched": []]
    for _ in 0..<repeats {
        var images: [UInt8] = []
        times["open"]!.append(try seconds { _ = try SamplesFile(path: path) })
        sums["open"] = 0
        times["whole"]!.append(try seconds {
            let file = try SamplesFile(path: path)
            images = try file.readImages(0..<file.count)
        })
        sums["whole"] = byteSum(images)
        images = []
        times["batched"]!.append(try seconds {
            let file = try SamplesFile(path: path)
            let row = file.rowElements
            images = [UInt8](repeating: 0, count: file.count * row)
            for range in file.rowBatches(batchRows: batchRows) {
                let block = try file.readImages(range)
                images.withUnsafeMutableBufferPointer { dst in
                    block.withUnsafeBufferPointer { src in
                        (dst.baseAddress! + range.lowerBound * row).update(from: src.baseAddress!, count: src.count)
                    }
                }
            }
        })
        sums["batched"] = byteSum(images)
        if shape.isEmpty {
            let file = try SamplesFile(path: path)
            if case .images(let h, let w, let c) = file.kind { shape = c == 1 ? [file.count, h, w] : [file.count, h, w, c] }
        }
    }
    let modes = ["open", "whole", "batched"]
    let body = modes.map { m in
        "\"\(m)\": {\"seconds\": [\(times[m]!.map { "\($0)" }.joined(separator: ", "))], \"median\": \(median(times[m]!)), \"byte_sum\": \(sums[m]!)}"
    }.joined(separator: ", ")
    print("{\"file\": \"\(path)\", \"shape\": [\(shape.map(String.init).joined(separator: ", "))], \"batch_rows\": \(batchRows), \(body)}")
} catch let error as DataError {
    fail(error.description)
}
