// Training throughput of the Training target's MLP and CNN (samples/s, sgemm share, heap
// allocations per step) and, with `quality`, a short training run evaluated on held-out
// identities. Reads the raw arrays written by export_data.py.
import Foundation
import ScoreMetrics
import Training

struct Options {
    var data = "bench/out"
    var model = "mlp"
    var batch = 256
    var warmup = 5
    var steps = 10
    var repeats = 5
    var threads = 2
    var mode = "throughput"
    var trainSteps = 1000
}

var options = Options()
var args = CommandLine.arguments.dropFirst().makeIterator()
while let a = args.next() {
    guard let v = args.next() else { fatalError("missing value for \(a)") }
    switch a {
    case "--data": options.data = v
    case "--model": options.model = v
    case "--batch": options.batch = Int(v)!
    case "--warmup": options.warmup = Int(v)!
    case "--steps": options.steps = Int(v)!
    case "--repeats": options.repeats = Int(v)!
    case "--threads": options.threads = Int(v)!
    case "--mode": options.mode = v
    case "--train-steps": options.trainSteps = Int(v)!
    default: fatalError("unknown option \(a)")
    }
}

func load() throws -> (train: ImageSet, test: ImageSet) {
    let pixels = [UInt8](try Data(contentsOf: URL(fileURLWithPath: options.data + "/images.u8")))
    let raw = try Data(contentsOf: URL(fileURLWithPath: options.data + "/labels.i32"))
    let labels = raw.withUnsafeBytes { Array($0.bindMemory(to: Int32.self)) }
    // Identity-disjoint split: every 5th identity (in sorted order) is held out.
    let ids = Array(Set(labels)).sorted()
    let held = Set(ids.enumerated().filter { $0.offset % 5 == 4 }.map(\.element))
    var tp: [UInt8] = [], tl: [Int32] = [], hp: [UInt8] = [], hl: [Int32] = []
    for (i, l) in labels.enumerated() {
        let img = pixels[(i * 1024)..<((i + 1) * 1024)]
        if held.contains(l) { hp += img; hl.append(l) } else { tp += img; tl.append(l) }
    }
    // At most 16 glyphs per held-out identity (seeded choice) keep all-pairs scoring small.
    var rng = SeededGenerator(seed: 17)
    var byId: [Int32: [Int]] = [:]
    for (i, l) in hl.enumerated() { byId[l, default: []].append(i) }
    var sp: [UInt8] = [], sl: [Int32] = []
    for id in byId.keys.sorted() {
        var list = byId[id]!
        list.shuffle(using: &rng)
        for i in list.prefix(16) { sp += hp[(i * 1024)..<((i + 1) * 1024)]; sl.append(id) }
    }
    return (try ImageSet(pixels: tp, labels: tl), try ImageSet(pixels: sp, labels: sl))
}

func build(_ name: String) throws -> EmbeddingNetwork {
    switch name {
    case "mlp": return try MLPConfiguration(hidden: [512, 256], embedding: 128).build(seed: 1)
    case "cnn": return try CNNConfiguration(width: 32, stages: 3, embedding: 128).build(seed: 1)
    default: fatalError("unknown model \(name)")
    }
}

typealias Counter = @convention(c) () -> UInt
let allocCount: Counter? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "alaverify_alloc_count").map {
    unsafeBitCast($0, to: Counter.self)
}

Compute.threads = options.threads
let (train, test) = try load()
let model = try build(options.model)
let k = 8
let source = try PKSampler(data: train, identitiesPerBatch: options.batch / k, samplesPerIdentity: k, seed: 2)
let trainer = try Trainer(model: model, loss: PairwiseBinnedLoss(), optimizer: .adamW(weightDecay: 1e-4),
                          schedule: LearningRateSchedule(base: 1e-3, warmupSteps: 100, totalSteps: max(options.trainSteps, 1)),
                          source: source, seed: 3)

if options.mode == "probe" {
    // Where do allocations come from? Count them around pieces of a step.
    let a = Tensor(Shape(256, 1024)), b = Tensor(Shape(512, 1024)), c = Tensor(Shape(256, 512))
    func count(_ label: String, _ body: () -> Void) {
        body()
        let before = allocCount?() ?? 0
        for _ in 0..<10 { body() }
        print(label, Double((allocCount?() ?? 0) - before) / 10)
    }
    count("sgemm 256x512x1024") { BLAS.gemm(transB: true, m: 256, n: 512, k: 1024, a.pointer, lda: 1024, b.pointer, ldb: 1024, c.pointer, ldc: 512) }
    count("sgemm 8x8x8") { BLAS.gemm(m: 8, n: 8, k: 8, a.pointer, lda: 8, b.pointer, ldb: 8, c.pointer, ldc: 8) }
    var batch = Batch()
    var s2 = source
    count("sampler") { s2.next(into: &batch) }
    var ctx = ForwardContext(training: true)
    count("forward") { _ = model.forward(batch.inputs, &ctx) }
    let g = Tensor()
    let loss = PairwiseBinnedLoss()
    let e = model.forward(batch.inputs, &ctx)
    count("loss") { _ = loss.compute(embeddings: e, labels: batch.labels, gradient: g) }
    count("backward") { model.backward(g) }
    count("step") { _ = try! trainer.trainStep() }
    exit(0)
}

if options.mode == "throughput" {
    for _ in 0..<options.warmup { try trainer.trainStep() }
    var rates: [Double] = [], shares: [Double] = []
    var allocations: [UInt] = []
    for _ in 0..<options.repeats {
        BLAS.gemmNanoseconds = 0
        BLAS.profiling = true
        let before = allocCount?() ?? 0
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<options.steps { try trainer.trainStep() }
        let t1 = DispatchTime.now().uptimeNanoseconds
        let after = allocCount?() ?? 0
        BLAS.profiling = false
        let seconds = Double(t1 - t0) * 1e-9
        rates.append(Double(options.steps * options.batch) / seconds)
        shares.append(Double(BLAS.gemmNanoseconds) * 1e-9 / seconds)
        allocations.append(after - before)
    }
    func median(_ v: [Double]) -> Double { let s = v.sorted(); return s[s.count / 2] }
    let alloc = allocCount == nil ? "null" : String(Double(allocations.max()!) / Double(options.steps))
    print("""
    {"impl": "swift", "model": "\(options.model)", "batch": \(options.batch), "threads": \(options.threads), \
    "parameters": \(model.parameterCount), "median_samples_per_s": \(median(rates)), \
    "samples_per_s": \(rates), "sgemm_share": \(median(shares)), "max_allocations_per_step": \(alloc), \
    "loss": \(trainer.lastReport!.loss)}
    """)
} else {
    let metrics = [try Metric.parse("frr@far=1e-3"), try Metric.parse("frr@far=1e-2")]
    func report(_ label: String) throws {
        let m = try Verification.evaluate(model: model, images: test, metrics: metrics)
        let f3 = m.value(of: metrics[0]) ?? .nan, f2 = m.value(of: metrics[1]) ?? .nan
        print("\(label): step \(trainer.step) FRR@1e-3 \(f3) FRR@1e-2 \(f2) EER \(m.eer?.value ?? .nan) AUC \(m.rocAUC ?? .nan)")
    }
    print("train \(train.count) samples / \(train.identities.count) ids, test \(test.count) / \(test.identities.count) ids")
    try report("untrained")
    let t0 = Date()
    try trainer.run(steps: options.trainSteps, callbacks: [ProgressCallback(every: 100) { p in
        print(String(format: "step %d/%d loss %.4f %.0f samples/s eta %.0fs", p.step, p.endStep, p.loss, p.samplesPerSecond, p.eta))
    }])
    print(String(format: "trained %d steps in %.0f s", options.trainSteps, Date().timeIntervalSince(t0)))
    try report("trained")
}
