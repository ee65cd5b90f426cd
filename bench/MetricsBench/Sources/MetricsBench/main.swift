// MetricsBench: in-process timings of the metric engine on raw little-endian float32 files.
//
//   MetricsBench oppoints IMPOSTOR.f32 GENUINE.f32 [--far A]... [--repeats R]
//       operating points without sorting (ScoreSet.operatingPointsOnly), rule roc, no intervals
//   MetricsBench sort SCORES.f32 [--repeats R]
//       the full-curve sort: SortedScores(set) (NaN removal + radix sort on order-preserving keys),
//       run on a fresh copy of the scores (np.sort, its peer, also sorts a copy; the copy is
//       made before the timing here, so numpy's time includes a copy that ours does not)
//
// Prints one JSON object: the task, every repeat's seconds, the median and the results.
// Data loading is not timed.
import Foundation
import ScoreMetrics

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("MetricsBench: \(message)\n".utf8))
    exit(64)
}

func readFloats(_ path: String) -> [Float] {
    guard let data = FileManager.default.contents(atPath: path) else { fail("cannot read \(path)") }
    guard data.count % 4 == 0 else { fail("\(path): size \(data.count) is not a multiple of 4") }
    return [Float](unsafeUninitializedCapacity: data.count / 4) { buffer, count in
        _ = data.copyBytes(to: buffer)
        count = data.count / 4
    }
}

func seconds(_ body: () -> Void) -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
}

func json(_ x: Double?) -> String {
    guard let x else { return "null" }
    if x == .infinity { return "\"inf\"" }
    if x == -.infinity { return "\"-inf\"" }
    return "\(x)"
}

var args = Array(CommandLine.arguments.dropFirst())
guard let task = args.first else { fail("usage: MetricsBench oppoints|sort FILE... [--far A]... [--repeats R]") }
args.removeFirst()
var files = [String](), fars = [Double](), repeats = 3
var k = 0
while k < args.count {
    switch args[k] {
    case "--far":
        guard k + 1 < args.count, let a = Double(args[k + 1]) else { fail("--far needs a number") }
        fars.append(a); k += 2
    case "--repeats":
        guard k + 1 < args.count, let r = Int(args[k + 1]), r > 0 else { fail("--repeats needs a count") }
        repeats = r; k += 2
    default:
        files.append(args[k]); k += 1
    }
}

switch task {
case "oppoints":
    guard files.count == 2 else { fail("oppoints IMPOSTOR.f32 GENUINE.f32") }
    let impostor = readFloats(files[0]), genuine = readFloats(files[1])
    if fars.isEmpty { fars = [1e-4, 1e-3] }
    let set: ScoreSet<Float>
    do { set = try ScoreSet(genuine: genuine, impostor: impostor) } catch { fail("\(error)") }
    let options = EvaluationOptions(metrics: fars.map { .frrAtFAR($0) }, interval: .none, curveMetrics: false)
    // Through AnyScoreSet: its switch runs inside ScoreMetrics, where the generic engine is
    // specialised for Float (a direct generic call from this module would run unspecialised code).
    let any = AnyScoreSet.float(set)
    var times = [Double](), result: SystemMetrics?
    for _ in 0..<repeats {
        times.append(seconds { result = try? any.operatingPointsOnly(options) })
    }
    guard let result else { fail("evaluation failed") }
    let points = result.operatingPoints.map {
        "{\"name\": \"\($0.metric)\", \"threshold\": \(json($0.threshold)), \"false_accepts\": \($0.falseAccepts ?? -1), "
            + "\"false_rejects\": \($0.falseRejects ?? -1), \"frr\": \(json($0.frr))}"
    }
    print("""
        {"task": "oppoints", "impostor": \(impostor.count), "genuine": \(genuine.count), \
        "seconds": \(times), "median": \(median(times)), "operating_points": [\(points.joined(separator: ", "))]}
        """)
case "sort":
    guard files.count == 1 else { fail("sort SCORES.f32") }
    let scores = readFloats(files[0])
    var times = [Double](), checksum = 0.0, sortedCount = 0
    for _ in 0..<repeats {
        // Timed like numpy's np.sort (which returns a sorted copy): a fresh copy of the scores,
        // handed to the set as a temporary so that the sort then runs in place as in `metrics`.
        // evaluate() with nothing to compute = SortedScores(set), i.e. the sort, specialised inside
        // ScoreMetrics; the sorted order is then checked on a plain SortedScores outside the timing.
        let fresh = AnyScoreSet.float(try! ScoreSet(
            genuine: [0],
            impostor: [Float](unsafeUninitializedCapacity: scores.count) { buffer, count in
                _ = buffer.initialize(from: scores)
                count = scores.count
            }))
        let options = EvaluationOptions(metrics: [], interval: .none, curveMetrics: false)
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try? (consume fresh).evaluate(options)  // the only reference: the sort runs in place
        times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        let s = SortedScores(try! ScoreSet(genuine: [0], impostor: Array(scores.prefix(1 << 20)))).impostor
        sortedCount = s.count
        checksum = Double(s[0]) + Double(s[s.count / 2]) + Double(s[s.count - 1])
        for j in stride(from: 1, to: s.count, by: max(1, s.count / 4096)) where s[j - 1] > s[j] {
            fail("not sorted at \(j)")
        }
    }
    print("""
        {"task": "sort", "n": \(sortedCount), "seconds": \(times), "median": \(median(times)), \
        "min_median_max_sum": \(checksum)}
        """)
default:
    fail("unknown task \(task)")
}
