import Foundation
import ScoreMetrics
import Testing
@testable import Reports

@Suite("DET, ROC and histogram figures")
struct PlotTests {
    @Test("the independent quantile matches published normal deviates")
    func quantileReference() {
        #expect(abs(normalQuantile(0.01) - (-2.3263478740408408)) < 1e-12)
        #expect(abs(normalQuantile(1e-4) - (-3.7190164854556804)) < 1e-12)
        #expect(abs(normalQuantile(0.4) - (-0.2533471031357997)) < 1e-12)
    }

    @Test("DET range: a round rate below 1/nI up to where the curve starts, ticks from the percent list")
    func detRange() throws {
        let plot = DETPlot(series: [try demoSeries()])
        // nI = 100,000: 1/nI = 1e-5, the round rate below it is 5e-6; the top keeps the curve in view.
        #expect(plot.axis.scale == .probit)
        #expect(plot.axis.lower == 5e-6)
        #expect(demoUpper() == 0.9)
        #expect(plot.axis.upper == demoUpper())
        #expect(plot.axis.ticks == [1e-5, 1e-4, 1e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9])
        #expect(plot.axis.ticks.map(RateAxis.percentLabel) == ["0.001", "0.01", "0.1", "1", "2", "5", "10", "20", "40", "60", "80", "90"])
    }

    @Test("DET range: a good system's range ends at 40%")
    func detRangeGood() throws {
        let plot = DETPlot(series: [try demoSeries(genuineMean: 8)])
        #expect(demoUpper(genuineMean: 8) == 0.4)
        #expect(plot.axis.upper == 0.4)
    }

    @Test("probit of known rates lands on the expected pixel", arguments: [(0.01, 0.1), (1e-4, 0.2), (1e-5, 0.4), (0.05, 1e-3), (0.9, 0.9)])
    func probitMapping(_ rates: (Double, Double)) throws {
        let plot = DETPlot(series: [try demoSeries()])
        let r = plot.layout.plot
        #expect(r == Rect(x: 90, y: 64, width: 620, height: 620))
        let z0 = normalQuantile(5e-6), z1 = normalQuantile(demoUpper())
        let x = 90 + (normalQuantile(rates.0) - z0) / (z1 - z0) * 620
        let y = 64 + 620 - (normalQuantile(rates.1) - z0) / (z1 - z0) * 620
        let p = plot.pixel(far: rates.0, frr: rates.1)
        #expect(abs(p.x - x) < 1e-6 && abs(p.y - y) < 1e-6, "\(p) vs (\(x), \(y))")
    }

    @Test("log axes: a decade below 1/nI to 100%, log10 mapping")
    func logMapping() throws {
        let plot = DETPlot(series: [try demoSeries(axes: .log)], axes: .log)
        #expect(plot.axis.scale == .log && plot.axis.lower == 1e-6 && plot.axis.upper == 1)
        let p = plot.pixel(far: 1e-3, frr: 0.1)
        #expect(abs(p.x - (90 + 3.0 / 6 * 620)) < 1e-9)
        #expect(abs(p.y - (684 - 5.0 / 6 * 620)) < 1e-9)
    }

    @Test("image size, tick marks where the axis puts them, shaded unresolvable band")
    func detTicksAndShade() throws {
        let plot = DETPlot(series: [try demoSeries()])
        let image = try plot.render()
        #expect(image.width == 1040 && image.height == 760)
        let z0 = normalQuantile(5e-6), z1 = normalQuantile(demoUpper())
        func fx(_ rate: Double) -> Double { 90 + (normalQuantile(rate) - z0) / (z1 - z0) * 620 }
        let dark: (UInt8, UInt8, UInt8) = (0x40, 0x40, 0x40)
        let ticks = [1e-5, 1e-4, 1e-3, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.9]
        for t in ticks {
            let x = Int(fx(t).rounded())
            #expect(near(image.pixel(x, 684 + 3), dark, tolerance: 40), "x tick \(t) at column \(x)")
            let y = Int((684 - (fx(t) - 90)).rounded())
            #expect(near(image.pixel(90 - 3, y), dark, tolerance: 40), "y tick \(t) at row \(y)")
        }
        // Between two ticks there is no tick mark.
        for (a, b) in zip(ticks, ticks.dropFirst()) {
            let mid = Int(((fx(a) + fx(b)) / 2).rounded())
            #expect(near(image.pixel(mid, 684 + 3), (255, 255, 255), tolerance: 4), "between \(a) and \(b)")
        }
        // FAR < 1/nI = 1e-5 is shaded (#E6E6E6) across the height; right of it the plot is white.
        let band = fx(1e-5)
        #expect(band - 90 > 15)
        let row = Int((684 - (fx(0.03) - 90)).rounded()) + 7
        #expect(near(image.pixel(93, row), (0xE6, 0xE6, 0xE6), tolerance: 3))
        #expect(near(image.pixel(Int(band) + 8, row), (255, 255, 255), tolerance: 3))
    }

    @Test("curve pixels lie where the rates put them")
    func curvePixels() throws {
        let series = try demoSeries()
        let plot = DETPlot(series: [series])
        let image = try plot.render()
        let blue: (UInt8, UInt8, UInt8) = (0x1F, 0x77, 0xB4)
        let z0 = normalQuantile(5e-6), z1 = normalQuantile(demoUpper())
        let markers = series.metrics.operatingPoints.map { plot.pixel(far: $0.far!, frr: $0.frr!) }
        let c = series.detCurve
        var checked = 0
        for j in c.points.indices where c.points[j].falseAccepts > 0 && c.points[j].falseRejects > 0 {
            let far = Double(c.points[j].falseAccepts) / 100_000, frr = Double(c.points[j].falseRejects) / 1000
            let x = 90 + (normalQuantile(far) - z0) / (z1 - z0) * 620
            let y = 684 - (normalQuantile(frr) - z0) / (z1 - z0) * 620
            guard x > 100, x < 700, y > 74, y < 674, markers.allSatisfy({ hypot($0.x - x, $0.y - y) > 14 }) else { continue }
            #expect(near(image.pixel(Int(x), Int(y)), blue, tolerance: 70), "curve point \(j) of \(c.points.count) at (\(x), \(y)) \(c.points[j])")
            // Up and to the right of a falling curve there is no curve.
            #expect(!near(image.pixel(Int(x) + 30, Int(y) - 30), blue, tolerance: 70))
            checked += 1
        }
        #expect(checked > 20)
    }

    @Test("operating points: filled marker when estimable, hollow when not")
    func markers() throws {
        let series = try demoSeries(targets: [1e-3, 1e-6])
        let plot = DETPlot(series: [series])
        let image = try plot.render()
        let estimable = try #require(series.metrics.operatingPoints.first { $0.estimable })
        let not = try #require(series.metrics.operatingPoints.first { !$0.estimable })
        #expect(not.falseAccepts == 0)
        let a = plot.pixel(far: estimable.far!, frr: estimable.frr!)
        #expect(near(image.pixel(Int(a.x), Int(a.y)), (0x1F, 0x77, 0xB4), tolerance: 30))
        // With no false accepts the marker sits at the target FAR.
        let b = plot.pixel(far: not.target, frr: not.frr!)
        #expect(near(image.pixel(Int(b.x), Int(b.y)), (255, 255, 255), tolerance: 30))
        #expect(near(image.pixel(Int(b.x + 5), Int(b.y)), (0x1F, 0x77, 0xB4), tolerance: 60))
    }

    @Test("ROC: log FAR axis and linear true accept rate")
    func roc() throws {
        let plot = ROCPlot(series: [try demoSeries()])
        #expect(plot.farAxis.lower == 1e-6 && plot.farAxis.upper == 1)
        #expect(plot.tarAxis.upper == 1 && plot.tarAxis.lower >= 0 && plot.tarAxis.lower < 0.66)
        let p = plot.pixel(far: 1e-2, tar: 1)
        #expect(abs(p.x - (90 + 4.0 / 6 * 620)) < 1e-9 && abs(p.y - 64) < 1e-9)
        let image = try plot.render()
        #expect(image.width == 1040 && image.height == 760)
    }

    @Test("histogram counts every non-failed score once and spans the thresholds")
    func histogram() throws {
        let series = try demoSeries()
        let h = series.histogram
        #expect(h.genuine.reduce(0, +) == 1000 && h.impostor.reduce(0, +) == 100_000)
        #expect(h.genuineTotal == 1000 && h.impostorTotal == 100_000)
        for p in series.metrics.operatingPoints { #expect(p.threshold! >= h.lower && p.threshold! <= h.upper) }
        let image = try HistogramPlot(series: series, index: 0).render()
        #expect(image.width == 1040 && image.height == 600)
    }

    @Test("histogram of distances keeps the input's units")
    func histogramDistance() throws {
        let set = try ScoreSet(genuine: gaussian(500, mean: 1, seed: 3), impostor: gaussian(5000, mean: 4, seed: 4), polarity: .distance)
        let sorted = SortedScores(set)
        let h = sorted.histogram(bins: 50)
        #expect(h.lower < 0 && h.upper > 5)
        // Genuine distances are small: most genuine mass lies in the lower half of the bins.
        #expect(h.genuine[..<25].reduce(0, +) > 450)
        #expect(h.impostor[25...].reduce(0, +) > 4500)
    }
}
