import AlaverifyBase
import ScoreMetrics
@testable import Training

/// Relative error `|a - b| / max(|a|, |b|, floor)` of two gradient vectors (Euclidean norms).
func relativeError(_ a: [Double], _ b: [Double], floor: Double = 1e-6) -> Double {
    var diff = 0.0, na = 0.0, nb = 0.0
    for i in a.indices {
        diff += (a[i] - b[i]) * (a[i] - b[i])
        na += a[i] * a[i]
        nb += b[i] * b[i]
    }
    return diff.squareRoot() / max(na.squareRoot(), nb.squareRoot(), floor)
}

/// Random normal values of the given count.
func randomValues(_ count: Int, scale: Double = 1, rng: inout SeededGenerator) -> [Float] {
    (0..<count).map { _ in Float(rng.normal() * scale) }
}

/// Central-difference check of a layer against `f(x) = sum(r * forward(x))` for a fixed random `r`.
/// Returns the relative errors of the input gradient and of each parameter gradient.
func checkLayer(_ layer: any Layer, input shape: Shape, seed: UInt64, eps: Float = 1e-2, training: Bool = true)
    -> (input: Double, parameters: [(String, Double)])
{
    var rng = SeededGenerator(seed: seed)
    let x = Tensor(shape, values: randomValues(shape.count, rng: &rng))
    let contextSeed = rng.next()
    func run() -> Tensor {
        var ctx = ForwardContext(training: training, rng: SeededGenerator(seed: contextSeed))
        return layer.forward(x, &ctx)
    }
    let y0 = run()
    let r = randomValues(y0.count, rng: &rng)
    func objective() -> Double {
        let y = run()
        var s = 0.0
        for i in 0..<y.count { s += Double(r[i]) * Double(y[i]) }
        return s
    }
    for p in layer.parameters { p.gradient.fill(0) }
    _ = run()
    let dy = Tensor(y0.shape, values: r)
    let dx = layer.backward(dy).array.map(Double.init)
    let analyticParams = layer.parameters.map { $0.gradient.array.map(Double.init) }

    func numeric(_ t: Tensor) -> [Double] {
        (0..<t.count).map { i in
            let old = t[i]
            t[i] = old + eps
            let fp = objective()
            t[i] = old - eps
            let fm = objective()
            t[i] = old
            return (fp - fm) / (2 * Double(eps))
        }
    }
    let inputError = relativeError(dx, numeric(x))
    let paramErrors = zip(layer.parameters, analyticParams).map { p, a in (p.name, relativeError(a, numeric(p.value))) }
    return (inputError, paramErrors)
}
