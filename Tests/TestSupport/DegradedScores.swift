import AlaverifyBase
import Foundation

/// Writes a copy of a CSV score file with genuine scores lowered by `genuineShift` and Gaussian
/// noise of `sigma` added to every score (a deliberately degraded system on the same
/// comparisons); `keep` filters rows by line number.
public func degradedCopy(
    of source: String, to path: String, genuineShift: Double = 0, sigma: Double, seed: UInt64,
    keep: (Int) -> Bool = { _ in true }
) throws {
    let text = try String(contentsOfFile: source, encoding: .utf8)
    var rng = SeededGenerator(seed: seed)
    var out = ""
    for (k, line) in text.split(separator: "\n").enumerated() {
        if k == 0 { out += line + "\n"; continue }
        guard keep(k) else { continue }
        var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let score = Double(fields[1])!
        // Box-Muller.
        let u1 = max(rng.unit(), 1e-300), u2 = rng.unit()
        let z = (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
        let shift = fields[0] == "1" ? genuineShift : 0
        fields[1] = String(format: "%.6f", score - shift + sigma * z)
        out += fields.joined(separator: ",") + "\n"
    }
    try out.write(toFile: path, atomically: true, encoding: .utf8)
}
