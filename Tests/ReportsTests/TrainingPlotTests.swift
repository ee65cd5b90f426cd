import AlaverifyBase
import Foundation
import ScoreMetrics
import TestSupport
import Testing
@testable import Reports
import RunRecords

func parsedHand() throws -> TrainingHistory { try TrainingHistory.parse(Array(handHistory.utf8)) }

/// The same records without the controller's fields, as a fixed-loss run writes them.
func fixedHistory() throws -> TrainingHistory {
    var h = try parsedHand()
    for k in h.records.indices {
        h.records[k].actions = nil
        h.records[k].reward = nil
        h.records[k].baseline = nil
        h.records[k].policyEntropy = nil
    }
    return h
}

/// The RGB of a colour as 8-bit components.
func rgb(_ c: Color) -> (UInt8, UInt8, UInt8) { c.rgb8 }

/// The pixel whose square lies inside a 2-pixel-wide stroke through (x, y).
func covered(_ image: RGBAImage, _ x: Double, _ y: Double) -> (r: UInt8, g: UInt8, b: UInt8, a: UInt8) {
    image.pixel(Int(x.rounded(.down)), Int(y.rounded(.down)))
}

@Suite("Training history in the figures")
struct TrainingHistoryFigureTests {
    @Test("parameter groups: scale alone, other scalars together, bin families by name and index")
    func groups() throws {
        let g = ParameterGroups(try parsedHand().parameterNames)
        #expect(g.scale == [0] && g.scalars == [1, 2])
        #expect(g.binned.map(\.name) == ["genuine_weight", "impostor_weight"])
        #expect(g.binned.map(\.indices) == [[3, 4], [5, 6]])
        #expect(ParameterGroups(["w[1]", "w[0]"]).binned.map(\.indices) == [[1, 0]])
        #expect(ParameterGroups([]) == ParameterGroups([]))
    }

    @Test("each child's best validation, by the rule of the whole history, is the one its plot marks")
    func bestPerChild() throws {
        let h = try parsedHand()
        #expect(h.bestRecord(child: 0)?.step == 20)
        #expect(h.bestRecord(child: 1)?.step == 30)
    }

    @Test("a null loss is not drawn")
    func nullLoss() throws {
        let text = #"{"step":5,"child":0,"loss":null,"validation":{"target":"eer","value":1,"eer":null},"loss_parameters":{"a":1}}"#
        let h = try TrainingHistory.parse(Array(text.utf8))
        #expect(try TrainingTargetPlot(history: h, run: "r", index: 0).render().width == 1040)
    }
}

@Suite("Training figures: axes and cells")
struct TrainingAxisTests {
    @Test("linear axes end on round ticks covering the data; the margin widens past the end ticks")
    func linearAxis() {
        let a = LinearAxis(covering: 0.3, 0.55, count: 6)
        #expect(a.lower == 0.3 && a.upper == 0.55 && a.ticks == [0.3, 0.35, 0.4, 0.45, 0.5, 0.55])
        let b = LinearAxis(covering: 0.3, 0.55, count: 6, margin: 0.04)
        #expect(b.ticks == a.ticks && abs(b.lower - 0.29) < 1e-12 && abs(b.upper - 0.56) < 1e-12)
        let c = LinearAxis(covering: 0, 30, count: 7, minimumSpan: 1)
        #expect(c.lower == 0 && c.upper == 30 && c.ticks == [0, 5, 10, 15, 20, 25, 30])
        // A flat series gets the minimum span around its value.
        let d = LinearAxis(covering: 2, 2, count: 3, minimumSpan: 1)
        #expect(d.lower <= 1.5 && d.upper >= 2.5 && d.ticks.contains(2))
        #expect(LinearAxis(covering: -1, 1, count: 4).ticks == [-1, -0.5, 0, 0.5, 1])
    }

    @Test("validation cells: centred on each step, edges halfway between neighbours", arguments: [
        ([10, 20, 30], [5.0, 15, 25, 35]), ([30, 60, 80], [15.0, 45, 70, 90]), ([40], [20.0, 60]), ([20, 20, 10], [5.0, 15, 25]),
    ])
    func cells(_ c: ([Int], [Double])) {
        let cells = StepCells(c.0)
        #expect(cells.edges == c.1)
        #expect(cells.steps == Array(Set(c.0)).sorted())
    }

    @Test("weight colours: neutral near-white, the extremes full blue and full red")
    func weightColours() {
        let s = WeightColorScale(minimum: 0.4, maximum: 1.6)
        #expect(s.lower == 0.4 && s.upper == 1.6)
        #expect(s.color(1) == TrainingColors.neutral && s.color(0.4) == TrainingColors.low && s.color(1.6) == TrainingColors.high)
        // Small changes stay faint: at least neutral +- 0.5 is used.
        let t = WeightColorScale(minimum: 0.9, maximum: 1.1)
        #expect(t.lower == 0.5 && t.upper == 1.5)
    }
}

@Suite("Training figures: pixels where the math puts them")
struct TrainingPlotTests {
    @Test("target figure: values and losses on their axes, the best step marked in both panels")
    func targetFigure() throws {
        let plot = TrainingTargetPlot(history: try parsedHand(), run: "run", index: 0)
        let image = try plot.render()
        #expect(image.width == 1040 && image.height == 760)
        // Steps 0...30 across 620 px; values 0.30...0.55 widened by 4% of the span at each end.
        #expect(plot.stepAxis.lower == 0 && plot.stepAxis.upper == 30)
        #expect(abs(plot.valueAxis.lower - 0.29) < 1e-12 && abs(plot.valueAxis.upper - 0.56) < 1e-12)
        let p = plot.pixel(step: 20, value: 0.3)
        #expect(abs(p.x - (90 + 20.0 / 30 * 620)) < 1e-9)
        #expect(abs(p.y - (454 - (0.3 - 0.29) / 0.27 * 390)) < 1e-9)
        // Every validation is a dot in its child's colour.
        let h = try parsedHand()
        for r in h.records where !(r.step == 20 && r.child == 0) {
            let q = plot.pixel(step: Double(r.step), value: r.value)
            let l = plot.lossPixel(step: Double(r.step), loss: r.loss)
            let color = rgb(Color.series[r.child])
            #expect(near(image.pixel(Int(q.x.rounded()), Int(q.y.rounded())), color, tolerance: 30), "value of child \(r.child) at \(r.step)")
            #expect(near(image.pixel(Int(l.x.rounded()), Int(l.y.rounded())), color, tolerance: 30), "loss of child \(r.child) at \(r.step)")
            // No best ring around the other points (7.5 px above is the ring's radius).
            #expect(!near(image.pixel(Int(q.x.rounded()), Int((q.y - 7.5).rounded())), rgb(TrainingColors.best), tolerance: 40))
        }
        // The best point (child 0, step 20): filled in child 0's colour, ringed in near-black.
        #expect(near(image.pixel(Int(p.x.rounded()), Int(p.y.rounded())), rgb(Color.series[0]), tolerance: 30))
        #expect(near(image.pixel(Int(p.x.rounded()), Int((p.y - 7.5).rounded())), rgb(TrainingColors.best), tolerance: 60))
        // The dashed best-step line runs through the loss panel at x = best step (first dash: 5 px).
        let lineX = Int(p.x.rounded())
        let dash = image.pixel(lineX, Int(plot.lossPanel.y) + 3)
        #expect(dash.r < 170 && dash.r == dash.g && dash.g == dash.b, "\(dash)")
        let elsewhere = image.pixel(Int(plot.lossPixel(step: 17, loss: 0).x), Int(plot.lossPanel.y) + 3)
        #expect(elsewhere.r > 200, "\(elsewhere)")
    }

    @Test("parameter figure: staircases at the chosen values, heat-map cells in the weight's colour, bin 0 at the bottom")
    func parameterFigure() throws {
        let h = try parsedHand()
        let plot = TrainingParametersPlot(history: h, run: "run", index: 0)
        let image = try plot.render()
        #expect(image.width == plot.width && image.height == plot.height)
        #expect(plot.rows.map(\.kind) == [.scale, .scalars, .bins(0), .bins(1)])
        #expect(plot.shownChildren == [0, 1])
        #expect(plot.scalarDashes == [0: [], 1: [], 2: [7, 4]])
        // Two columns, side by side, equal width.
        let panels = plot.rows[0].panels
        #expect(panels.count == 2 && panels[0].width == panels[1].width && panels[1].x > panels[0].maxX)
        for r in h.records {
            let column = r.child
            // The scale (series colour 0) and the genuine margin (series colour 1), each the first and
            // solid line of its panel, at the cell's centre.
            for (k, scale) in [(0, true), (1, false)] where !plot.groups.scalars.contains(where: { $0 != k && r.parameters[$0] == r.parameters[k] }) {
                let q = try #require(plot.pixel(step: Double(r.step), value: r.parameters[k], scale: scale, column: column))
                #expect(near(covered(image, q.x, q.y), rgb(Color.series[k]), tolerance: 12), "parameter \(k), child \(r.child), step \(r.step)")
            }
            for (g, family) in plot.groups.binned.enumerated() {
                for (b, k) in family.indices.enumerated() {
                    let c = try #require(plot.cellCentre(family: g, step: r.step, bin: b, column: column))
                    #expect(near(image.pixel(Int(c.x), Int(c.y)), rgb(plot.weights.color(r.parameters[k])), tolerance: 2),
                            "\(h.parameterNames[k]), child \(r.child), step \(r.step)")
                }
            }
        }
        // The extremes: genuine bin 0 of child 0 at step 30 is 0.4 (full blue), impostor bin 1 is 1.6 (full red).
        let blue = try #require(plot.cellCentre(family: 0, step: 30, bin: 0, column: 0))
        let red = try #require(plot.cellCentre(family: 1, step: 30, bin: 1, column: 0))
        #expect(near(image.pixel(Int(blue.x), Int(blue.y)), rgb(TrainingColors.low), tolerance: 2))
        #expect(near(image.pixel(Int(red.x), Int(red.y)), rgb(TrainingColors.high), tolerance: 2))
        // Bin 0 (similarity -1...0) is the lower half of its heat map.
        let row = plot.rows[2].panels[0]
        #expect(abs(blue.y - (row.maxY - row.height / 4)) < 1e-9)
        // Step 30's cell is the last third of the column.
        #expect(abs(blue.x - (row.x + row.width * 5 / 6)) < 1e-9)
    }

    @Test("controller figure: action cells in their colours, reward bars from zero, entropy points")
    func controllerFigure() throws {
        let h = try parsedHand()
        let plot = TrainingControllerPlot(history: h, run: "run", index: 0)
        let image = try plot.render()
        #expect(image.width == 1040 && image.height == plot.height)
        #expect(plot.rasters.count == 2)
        for r in h.records {
            for (p, a) in r.actions!.enumerated() {
                let c = try #require(plot.cellCentre(step: r.step, parameter: p, column: r.child))
                let color = a > 0 ? TrainingColors.raise : a < 0 ? TrainingColors.lower : TrainingColors.keep
                #expect(near(image.pixel(Int(c.x), Int(c.y)), rgb(color), tolerance: 2), "child \(r.child), step \(r.step), parameter \(p)")
            }
            let bar = try #require(plot.rewardBar(step: r.step, child: r.child, of: 2))
            let zero = plot.rewardPixel(step: 0, reward: 0).y
            let x = Int(bar.x + bar.width / 2)
            if let reward = r.reward {
                // Halfway between zero and the reward lies inside the bar.
                let y = (zero + plot.rewardPixel(step: 0, reward: reward).y) / 2
                #expect(near(image.pixel(x, Int(y)), rgb(Color.series[r.child]), tolerance: 2), "reward of child \(r.child) at \(r.step)")
                // ... and the other side of zero does not.
                let other = plot.rewardPixel(step: 0, reward: -reward / 2).y
                #expect(!near(image.pixel(x, Int(other)), rgb(Color.series[r.child]), tolerance: 30))
            } else {
                // No reward yet at the first validation: no bar.
                for reward in [0.5, -0.5] {
                    #expect(!near(image.pixel(x, Int(plot.rewardPixel(step: 0, reward: reward).y)), rgb(Color.series[r.child]), tolerance: 30))
                }
            }
        }
        for (step, entropy) in [(10, 1.09), (20, 1.0), (30, 0.9)] {
            let e = plot.entropyPixel(step: Double(step), entropy: entropy)
            #expect(near(image.pixel(Int(e.x.rounded()), Int(e.y.rounded())), (0x6A, 0x3D, 0x9A), tolerance: 30), "entropy at \(step)")
        }
        #expect(plot.entropyAxis.lower == 0 && plot.entropyAxis.upper >= log(3.0))
    }

    @Test("a fixed-loss run has no controller figure; an ALA run has one")
    func figureSets() throws {
        #expect(trainingFigures(try fixedHistory(), run: "f", index: 2).map(\.fileName) == ["train-3-f-target.png", "train-3-f-parameters.png"])
        #expect(trainingFigures(try parsedHand(), run: "a b", index: 0).map(\.fileName)
            == ["train-1-a_b-target.png", "train-1-a_b-parameters.png", "train-1-a_b-controller.png"])
    }

    @Test("more than four children: the first four get columns, the rest are named in the legend")
    func manyChildren() throws {
        var h = try parsedHand()
        let base = h.records
        h.records = []
        for step in [10, 20, 30] {
            for c in 0..<6 {
                var r = base.first { $0.step == step }!
                r.child = c
                h.records.append(r)
            }
        }
        let parameters = TrainingParametersPlot(history: h, run: "r", index: 0)
        #expect(parameters.shownChildren == [0, 1, 2, 3] && parameters.rows[0].panels.count == 4)
        #expect(parameters.width > 1040)
        _ = try parameters.render()
        let controller = TrainingControllerPlot(history: h, run: "r", index: 0)
        #expect(controller.rasters.count == 4)
        _ = try controller.render()
    }

    @Test("equal history gives byte-identical PNGs and summary; the summary has the training section")
    func reportDeterminism() throws {
        let series = [try demoSeries(name: "run")]
        let training = [TrainingRunHistory(name: "run", index: 0, history: try parsedHand())]
        let a = try Report.build(series: series, axes: .probit, training: training, provenance: EncodingTests.provenance)
        let b = try Report.build(series: series, axes: .probit, training: training, provenance: EncodingTests.provenance)
        #expect(a.files.map(\.name) == ["det.png", "roc.png", "hist-1-run.png", "train-1-run-target.png", "train-1-run-parameters.png",
                                        "train-1-run-controller.png", "metrics.json", "summary.md"])
        for (x, y) in zip(a.files, b.files) { #expect(x.bytes == y.bytes, "\(x.name)") }
        let png = try #require(a.files.first { $0.name == "train-1-run-parameters.png" })
        let decoded = try decodePNG(png.bytes)
        #expect(decoded.pixels == (try TrainingParametersPlot(history: try parsedHand(), run: "run", index: 0).render()).pixels)
        let text = Dictionary(try textChunks(png.bytes), uniquingKeysWith: { a, _ in a })
        #expect(text["Title"] == "Loss parameters over training: run")
        let metrics = try JSONValue.parse(Data(try #require(text["alaverify:metrics"]).utf8))
        #expect(metrics["final_loss_parameters"] != nil)
        let summary = String(decoding: try #require(a.files.last).bytes, as: UTF8.self)
        #expect(summary.contains("## Training: run"))
        #expect(summary.contains("**Best validation:** 30.0% (frr@far=1e-3) at step 20, child 0"))
        #expect(summary.contains("| scale | 3 | 1.5 |"))
        #expect(summary.contains("| genuine_weight[0…1] | 0.4 1.2 | 1 1 |"))
        #expect(summary.contains("![ALA controller: actions, reward, policy entropy: run](train-1-run-controller.png)"))
        // Without training runs the summary has no training section.
        let plain = try Report.build(series: series, axes: .probit, provenance: EncodingTests.provenance)
        #expect(!String(decoding: plain.files.last!.bytes, as: UTF8.self).contains("## Training"))
    }
}
