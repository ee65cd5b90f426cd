import AlaverifyBase
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

/// True when the pixel is within `tolerance` of the colour in every channel.
func near(_ p: (r: UInt8, g: UInt8, b: UInt8, a: UInt8), _ c: (UInt8, UInt8, UInt8), tolerance: Int = 24) -> Bool {
    abs(Int(p.r) - Int(c.0)) <= tolerance && abs(Int(p.g) - Int(c.1)) <= tolerance && abs(Int(p.b) - Int(c.2)) <= tolerance
}
