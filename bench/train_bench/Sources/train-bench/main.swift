// Training throughput of the Training target's MLP and CNN (samples/s, sgemm share, heap
// allocations per step) and, with `quality`, a short training run evaluated on held-out
// identities. Reads the raw arrays written by export_data.py.
import AlaverifyBase
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
    var loss = "pairwise"
    var sampler = "pk"
    var scale: Float = 30
    var margin: Float = 0.35
    var tailWeight: Float = 0
    var tailFraction = 1e-3
    var memory = 8192
    var lr: Float = 1e-3
    var warmupSteps = 100
    var weightDecay: Float = -1
    var heldPerIdentity = 16
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
    case "--loss": options.loss = v
    case "--sampler": options.sampler = v
    case "--scale": options.scale = Float(v)!
    case "--margin": options.margin = Float(v)!
    case "--tail-weight": options.tailWeight = Float(v)!
    case "--tail-fraction": options.tailFraction = Double(v)!
    case "--memory": options.memory = Int(v)!
    case "--lr": options.lr = Float(v)!
    case "--warmup-steps": options.warmupSteps = Int(v)!
    case "--weight-decay": options.weightDecay = Float(v)!
    case "--held-per-identity": options.heldPerIdentity = Int(v)!
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
        for i in list.prefix(options.heldPerIdentity) { sp += hp[(i * 1024)..<((i + 1) * 1024)]; sl.append(id) }
    }
    return (try ImageSet(pixels: tp, labels: tl), try ImageSet(pixels: sp, labels: sl))
}

func build(_ name: String) throws -> EmbeddingNetwork {
    switch name {
    case "mlp": return try MLPConfiguration(hidden: [512, 256], embedding: 128).build(seed: 1)
    case "cnn": return try CNNConfiguration(width: 32, stages: 3, embedding: 128).build(seed: 1)
    case "resnet": return try ResNetConfiguration().build(seed: 1)
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
let source: any BatchSource = options.sampler == "random"
    ? try ShuffledSampler(data: train, batchSize: options.batch, seed: 2)
    : try PKSampler(data: train, identitiesPerBatch: options.batch / k, samplesPerIdentity: k, seed: 2)
var lossRNG = SeededGenerator(seed: 4)
let trainLoss: any VerificationLoss = options.loss == "cosface"
    ? MarginSoftmaxLoss(classes: train.identities.count, dimension: model.embeddingSize, scale: options.scale,
                        cosMargin: options.margin,
                        tail: options.tailWeight > 0 ? ImpostorTail(fraction: options.tailFraction, memoryCapacity: options.memory) : nil,
                        tailWeight: options.tailWeight, rng: &lossRNG)
    : PairwiseBinnedLoss()
let decay = options.weightDecay >= 0 ? options.weightDecay : (options.loss == "cosface" ? 5e-4 : 1e-4)
let trainer = try Trainer(model: model, loss: trainLoss, optimizer: .adamW(weightDecay: decay),
                          schedule: LearningRateSchedule(base: options.lr, warmupSteps: options.warmupSteps, totalSteps: max(options.trainSteps, 1)),
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
    count("forEachPart(2) empty") { Compute.forEachPart(2) { _ in } }
    count("forEachPart(8) empty") { Compute.forEachPart(8) { _ in } }
    count("sgemm 8x8x8") { BLAS.gemm(m: 8, n: 8, k: 8, a.pointer, lda: 8, b.pointer, ldb: 8, c.pointer, ldc: 8) }
    var batch = Batch()
    var s2 = source
    count("sampler") { try! s2.next(into: &batch) }
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

if options.mode == "parity" {
    // One training-mode forward and backward of the ResNet + CosFace on the first batch, written
    // as raw float32 files for torch_parity.py to compare with PyTorch on the same weights.
    var batch = Batch()
    var src = source
    try src.next(into: &batch)
    var ctx = ForwardContext(training: true)
    for p in model.parameters + trainLoss.trainableParameters { p.gradient.fill(0) }
    let e = model.forward(batch.inputs, &ctx)
    let g = Tensor()
    let value = trainLoss.compute(embeddings: e, labels: batch.labels, gradient: g)
    let embeddings = e.array
    model.backward(g)
    let dir = URL(fileURLWithPath: options.data + "/parity")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    func write(_ name: String, _ values: [Float]) throws {
        try values.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: dir.appendingPathComponent(name + ".f32"))
    }
    var index: [String] = []
    for p in model.parameters + trainLoss.trainableParameters {
        try write("w-" + p.name, p.value.array)
        try write("g-" + p.name, p.gradient.array)
        index.append("\"\(p.name)\": \(p.value.shape.extents)")
    }
    try write("input", batch.inputs.array)
    try write("embeddings", embeddings)
    try Data(batch.labels.map { Int32($0) }.withUnsafeBufferPointer { Data(buffer: $0) }).write(to: dir.appendingPathComponent("labels.i32"))
    try Data(("{\"loss\": \(value), \"batch\": \(batch.labels.count), \"classes\": \(train.identities.count), \"parameters\": {" + index.joined(separator: ", ") + "}}\n").utf8)
        .write(to: dir.appendingPathComponent("index.json"))
    print("wrote \(dir.path): loss \(value)")
    exit(0)
}

if options.mode == "peak" {
    // sgemm's rate on a 1024^3 product (cut into row blocks, run as parts on the threads).
    let n = 1024
    let a = Tensor(Shape(n, n)), b = Tensor(Shape(n, n)), c = Tensor(Shape(n, n))
    for i in 0..<a.count { a[i] = Float(i % 7) * 0.1; b[i] = Float(i % 5) * 0.1 }
    var best = Double.infinity
    for _ in 0..<options.repeats {
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<4 { BLAS.gemm(m: n, n: n, k: n, a.pointer, lda: n, b.pointer, ldb: n, c.pointer, ldc: n) }
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9 / 4)
    }
    print("{\"impl\": \"sgemm-peak\", \"threads\": \(options.threads), \"gflops\": \(2 * Double(n * n * n) / best * 1e-9)}")
    exit(0)
}

if options.mode == "layers" {
    // Wall time of each top-level layer's forward and backward over a few steps.
    var batch = Batch()
    var src = source
    let layers = model.body.layers
    var fwd = [Double](repeating: 0, count: layers.count), bwd = fwd
    var lossTime = 0.0
    let g = Tensor()
    func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
    for rep in 0..<(options.steps + 1) {
        try src.next(into: &batch)
        var ctx = ForwardContext(training: true)
        var x = batch.inputs
        var outs: [Tensor] = []
        for (i, l) in layers.enumerated() {
            let t0 = now(); x = l.forward(x, &ctx); if rep > 0 { fwd[i] += now() - t0 }
            outs.append(x)
        }
        let t0 = now(); _ = trainLoss.compute(embeddings: x, labels: batch.labels, gradient: g); if rep > 0 { lossTime += now() - t0 }
        var d = g
        for i in stride(from: layers.count - 1, through: 0, by: -1) {
            let t0 = now()
            if i == 1 { layers[i].backwardParameters(d) } else if i > 1 { d = layers[i].backward(d) }
            if rep > 0 { bwd[i] += now() - t0 }
        }
    }
    // The sub-layers of each residual block, on the inputs the block saw.
    var x = batch.inputs
    var ctx = ForwardContext(training: true)
    for l in layers {
        if let b = l as? ResidualBlock {
            var parts: [(String, any Layer)] = [("conv1", b.conv1), ("bn1", b.norm1), ("conv2", b.conv2), ("bn2", b.norm2)]
            var y = x
            var line = ""
            for (name, sub) in parts {
                let t0 = now(); y = sub.forward(y, &ctx); let tf = now() - t0
                let t1 = now(); _ = sub.backward(y); let tb = now() - t1
                line += String(format: "%@ %.1f/%.1f  ", name, tf * 1e3, tb * 1e3)
            }
            if let p = b.projection, let pn = b.projectionNorm {
                parts = [("proj", p), ("proj_bn", pn)]
                var z = x
                for (name, sub) in parts {
                    let t0 = now(); z = sub.forward(z, &ctx); let tf = now() - t0
                    let t1 = now(); _ = sub.backward(z); let tb = now() - t1
                    line += String(format: "%@ %.1f/%.1f  ", name, tf * 1e3, tb * 1e3)
                }
            }
            print("block \(b.inChannels)->\(b.outChannels) (ms fwd/bwd): " + line)
        }
        x = l.forward(x, &ctx)
    }
    let k = Double(options.steps)
    var total = lossTime
    for (i, l) in layers.enumerated() {
        print(String(format: "%2d %-28@ fwd %7.1f ms  bwd %7.1f ms", i, "\(type(of: l))" as NSString, fwd[i] / k * 1e3, bwd[i] / k * 1e3))
        total += fwd[i] + bwd[i]
    }
    print(String(format: "loss %.1f ms; total %.1f ms per step = %.0f samples/s", lossTime / k * 1e3, total / k * 1e3, Double(options.batch) / (total / k)))
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
    {"impl": "swift", "model": "\(options.model)", "loss": "\(options.loss)", "batch": \(options.batch), "threads": \(options.threads), \
    "parameters": \(model.parameterCount), "median_samples_per_s": \(median(rates)), \
    "samples_per_s": \(rates), "sgemm_share": \(median(shares)), "max_allocations_per_step": \(alloc), \
    "last_loss": \(trainer.lastReport!.loss)}
    """)
} else {
    let metrics = [try Metric.parse("frr@far=1e-4"), try Metric.parse("frr@far=1e-3"), try Metric.parse("frr@far=1e-2")]
    func report(_ label: String) throws {
        let m = try Verification.evaluate(model: model, images: test, metrics: metrics)
        let f4 = m.value(of: metrics[0]) ?? .nan, f3 = m.value(of: metrics[1]) ?? .nan, f2 = m.value(of: metrics[2]) ?? .nan
        print("\(label): step \(trainer.step) FRR@1e-4 \(f4) FRR@1e-3 \(f3) FRR@1e-2 \(f2) EER \(m.eer?.value ?? .nan) AUC \(m.rocAUC ?? .nan)")
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
