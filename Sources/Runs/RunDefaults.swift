import ScoreMetrics

/// What the defaults of a run are chosen from: the samples file's size and the user's choices.
public struct DataShape: Sendable, Equatable {
    /// Identities in the file.
    public var identities: Int
    /// Samples in the file.
    public var samples: Int

    /// Creates a description.
    public init(identities: Int, samples: Int) {
        self.identities = identities
        self.samples = samples
    }
}

extension RunConfig {
    /// Identities an evaluated split needs so that `target` is estimable by identities (SPEC's
    /// rule of 3 on impostor identity pairs: a x n(n-1)/2 >= 3), rounded up to a multiple of 10;
    /// 30 for targets that are not a rate at a FAR.
    public static func identitiesToResolve(_ target: Metric) -> Int {
        let a: Double
        switch target {
        case .frrAtFAR(let x), .partialAUC(let x): a = x
        default: return 30
        }
        var n = 2
        while a * Double(n * (n - 1) / 2) < 3 && n < 1_000_000 { n += 1 }
        return (n + 9) / 10 * 10
    }

    /// The impostor-tail share loss control starts with for a target: ten times the target FAR
    /// (the tail the target's threshold sits in), at most 0.5; 1e-3 for other targets.
    public static func tailFraction(for target: Metric) -> Double {
        if case .frrAtFAR(let a) = target { return min(0.5, 10 * a) }
        return 1e-3
    }

    /// Steps between validations of a margin-softmax run: about 20 validations, at least 10 steps apart.
    public static func validationInterval(steps: Int) -> Int { max(min(steps, 10), steps / 20) }

    /// FRR at FAR = 1e-4 when 5 x the identities it needs fit in the file (validation and test
    /// resolve it and most identities still train), else FRR at FAR = 1e-3.
    public static func defaultTarget(_ shape: DataShape) -> Metric {
        shape.identities >= 5 * identitiesToResolve(.frrAtFAR(1e-4)) ? .frrAtFAR(1e-4) : .frrAtFAR(1e-3)
    }

    /// The defaults of a run that trains `network` with a margin softmax (`loss`) on a file of
    /// `shape`, scaled to the data:
    /// - split: validation and test get the identities the target needs to be estimable by
    ///   identities (`identitiesToResolve`) when that leaves at least 60% for training, else 30%
    ///   each (the target is then checked and warned about as usual);
    /// - validation: about 2,000 samples (4 to 16 per identity); test: 12 per identity (all pairs);
    /// - shuffled batches of 256 rows (fewer on tiny data), about two epochs of steps (200 to
    ///   1,233, the PyTorch recipe's count), validated about 20 times;
    /// - the recipe's optimiser: AdamW 2e-3 without warm-up, weight decay 5e-4, cosine decay.
    public static func marginDefaults(data: String, shape: DataShape, network: NetworkKind, loss: LossFamily, target: Metric) -> RunConfig {
        var c = RunConfig.defaults(data: data)
        c.target = target
        let k = shape.identities
        let need = identitiesToResolve(target)
        let held = 2 * need <= k * 2 / 5 ? need : max(2, k * 3 / 10)
        c.split = SplitConfig(
            train: Double(k - 2 * held) / Double(k), validation: Double(held) / Double(k), test: Double(held) / Double(k), seed: 7)
        c.validationSamplesPerIdentity = max(4, min(16, 2000 / max(held, 1)))
        c.testSamplesPerIdentity = 12
        c.network = network
        c.loss = loss
        c.width = 32
        c.embedding = 128
        c.blocks = 1
        let trainSamples = max(1, shape.samples * (k - 2 * held) / max(k, 1))
        let batch = max(8, min(256, trainSamples / 4 / 8 * 8))
        c.sampling = .shuffled
        c.batchSize = batch
        c.steps = max(200, min(1233, 2 * trainSamples / batch))
        c.interval = validationInterval(steps: c.steps)
        c.checkpointInterval = c.interval * 5
        c.learningRate = 2e-3
        c.warmupSteps = 0
        c.weightDecay = 5e-4
        c.memory = 8192
        return c
    }
}
