import AlaverifyBase
import Dispatch
import Foundation
import SampleData
import ScoreMetrics
import Training

/// What a finished run reports.
public struct RunSummary: Sendable {
    /// Best validation value of the target and where it was reached.
    public var bestValidation: Double
    public var bestChild: Int
    public var bestStep: Int
    /// Test-split metrics of the best model.
    public var test: SystemMetrics
    /// Seconds spent training, validating and in the policy.
    public var trainingSeconds: Double
    public var validationSeconds: Double
    public var controllerSeconds: Double
    /// Streaming totals of the train split (nil when it was held in memory).
    public var data: DataStreamStats?
}

/// Document stored in checkpoints next to the children's states.
struct RunProgress: Codable {
    var step: Int
    var best: Double?
    var bestChild: Int?
    var bestStep: Int?
    var controller: ALAController?
    var trainingSeconds: Double
    var validationSeconds: Double
    var controllerSeconds: Double
    /// Streaming totals up to `step` (absent in memory and in checkpoints written before streaming).
    var data: DataStreamStats?
}

extension TrainingRun {
    var checkpointPath: String { directory.appendingPathComponent("checkpoint.h5").path }
    var modelPath: String { directory.appendingPathComponent("model.h5").path }
    var policyPath: String { directory.appendingPathComponent("policy.h5").path }
    var historyPath: String { directory.appendingPathComponent("history.jsonl").path }

    /// Loads a saved policy into the controller; refuses a policy of another loss family.
    public func warmStart(policy path: String) throws(RunError) {
        guard var controller else { throw .usage("--policy needs --loss-control ala") }
        let contents: RunFiles.Contents
        do { contents = try RunFiles.read(path: path, formats: ["alaverify-policy"]) } catch { throw .data(error) }
        guard let json = contents.documents["controller"],
            let saved = try? JSONDecoder().decode(ALAController.self, from: Data(json.utf8))
        else { throw .data(DataError(file: path, location: "/controller_json", "no readable policy")) }
        guard saved.specs.map(\.name) == controller.specs.map(\.name) else {
            throw .usage("\(path): the policy was trained for loss parameters [\(saved.specs.map(\.name).joined(separator: ", "))], this run's loss has [\(controller.specs.map(\.name).joined(separator: ", "))]")
        }
        do { try controller.loadPolicy(saved.policy) } catch { throw .usage("\(path): \(error.description)") }
        self.controller = controller
        log("warm start: policy from \(path)")
    }

    /// Continues from `checkpoint.h5`; returns the step reached.
    func resume() throws(RunError) -> Int {
        let contents: RunFiles.Contents
        do { contents = try RunFiles.read(path: checkpointPath, formats: ["alaverify-checkpoint"]) } catch { throw .data(error) }
        guard contents.states.count == trainers.count, let json = contents.documents["progress"],
            let progress = try? JSONDecoder().decode(RunProgress.self, from: Data(json.utf8))
        else { throw .data(DataError(file: checkpointPath, "the checkpoint does not match this run's children or has no progress record")) }
        for (trainer, state) in zip(trainers, contents.states) {
            do { try trainer.restore(state) } catch { throw .data(DataError(file: checkpointPath, error.description)) }
        }
        controller = progress.controller
        if let b = progress.best, let c = progress.bestChild, let s = progress.bestStep { best = (b, c, s) }
        trainingSeconds = progress.trainingSeconds
        validationSeconds = progress.validationSeconds
        controllerSeconds = progress.controllerSeconds
        earlierStreamStats = progress.data ?? DataStreamStats()
        // history.jsonl keeps only what the checkpoint covers.
        if let text = try? String(contentsOfFile: historyPath, encoding: .utf8) {
            let kept = text.split(separator: "\n").filter { line in
                guard let r = line.range(of: "\"step\":"), let end = line[r.upperBound...].firstIndex(of: ",") else { return false }
                return Int(line[r.upperBound..<end]) ?? Int.max <= progress.step
            }
            try? (kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n")).write(toFile: historyPath, atomically: true, encoding: .utf8)
        }
        log("resumed from \(checkpointPath) at step \(progress.step)")
        return progress.step
    }

    /// Runs (or continues) training to `config.steps`, then scores the test split with the best model.
    /// With `stopAfter`, it returns nil after that many steps (checkpoint written), as if interrupted.
    public func run(resume resuming: Bool, stopAfter: Int? = nil) throws(RunError) -> RunSummary? {
        let fm = FileManager.default
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            let configPath = directory.appendingPathComponent("config.json").path
            if !resuming { try config.json().write(toFile: configPath, atomically: true, encoding: .utf8) }
        } catch {
            throw .usage("\(directory.path): cannot write: \(error.localizedDescription)")
        }
        var step = 0
        if resuming { step = try resume() } else { try? fm.removeItem(atPath: historyPath) }
        if !fm.fileExists(atPath: historyPath) { _ = fm.createFile(atPath: historyPath, contents: nil) }
        history = FileHandle(forWritingAtPath: historyPath)
        history?.seekToEndOfFile()
        defer { try? history?.close() }
        log("training \(config.children) \(config.network.uppercased()) child model(s), \(config.lossControl == "ala" ? "ALA" : "fixed") loss, target \(metric), \(config.steps) steps of \(config.identitiesPerBatch)x\(config.samplesPerIdentity); train \(Set(trainLabels).count) identities / \(trainLabels.count) samples\(streams.isEmpty ? "" : " (streamed)"), validation \(Set(validation.labels).count) / \(validation.count), test \(Set(test.labels).count) / \(test.count)")
        log("compute: \(Compute.summary); results do not depend on the thread count")
        while step < config.steps {
            let chunk = min(config.interval, config.steps - step)
            // Each child writes only its own slot; buffers avoid exclusivity traps across threads.
            let n = trainers.count
            let errors = UnsafeMutableBufferPointer<String?>.allocate(capacity: n)
            let dataErrors = UnsafeMutableBufferPointer<DataError?>.allocate(capacity: n)
            let losses = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)
            let records = UnsafeMutableBufferPointer<ValidationRecord?>.allocate(capacity: n)
            errors.initialize(repeating: nil)
            dataErrors.initialize(repeating: nil)
            losses.initialize(repeating: 0)
            records.initialize(repeating: nil)
            defer { errors.deallocate(); dataErrors.deallocate(); losses.deallocate(); records.deallocate() }
            let t0 = DispatchTime.now().uptimeNanoseconds
            let work: (Int) -> Void = { [trainers, config] c in
                var total: Float = 0
                for _ in 0..<chunk {
                    let r: StepReport
                    do {
                        r = try trainers[c].trainStep()
                    } catch let error as DataError {
                        dataErrors[c] = error
                        return
                    } catch {
                        dataErrors[c] = DataError(file: config.data, "reading a training batch: \(error)")
                        return
                    }
                    if !r.loss.isFinite { errors[c] = "child \(c): loss is \(r.loss) at step \(r.step)"; return }
                    total += r.loss
                }
                losses[c] = total / Float(chunk)
            }
            // Children run as parts (one per thread); inside a child, layers then run in turn.
            Compute.forEachPart(n, work)
            let t1 = DispatchTime.now().uptimeNanoseconds
            trainingSeconds += Double(t1 - t0) * 1e-9
            if let error = dataErrors.compactMap({ $0 }).first { throw .data(error) }
            if let error = errors.compactMap({ $0 }).first { throw .usage("training diverged: \(error); lower --learning-rate") }
            step += chunk
            let validate: (Int) -> Void = { c in
                do { records[c] = try self.validate(child: c) } catch { errors[c] = "\(error)" }
            }
            Compute.forEachPart(n, validate)
            let t2 = DispatchTime.now().uptimeNanoseconds
            validationSeconds += Double(t2 - t1) * 1e-9
            if let error = errors.compactMap({ $0 }).first { throw .usage("validation failed: \(error)") }
            let valid = records.map { $0! }
            // The loss parameters the last K steps trained with (the controller may change them now).
            let trainedPhi = trainers.map { $0.loss.phi }
            var controllerStep: ControllerStep?
            if var controller {
                var phi = trainers.map { $0.loss.phi.map(Double.init) }
                controllerStep = controller.step(
                    snapshots: valid.map(\.snapshot), phi: &phi, progress: Double(step) / Double(config.steps))
                for (trainer, p) in zip(trainers, phi) { trainer.loss.phi = p.map(Float.init) }
                self.controller = controller
            }
            controllerSeconds += Double(DispatchTime.now().uptimeNanoseconds - t2) * 1e-9
            for (c, r) in valid.enumerated() {
                let oriented = metric.lowerIsBetter ? r.target : 1 - r.target
                if best == nil || oriented < best!.value {
                    best = (oriented, c, step)
                    try saveModel(child: c)
                }
                writeHistory(
                    step: step, child: c, loss: losses[c], record: r, trainedPhi: trainedPhi[c], controllerStep: controllerStep,
                    data: streamStats)
            }
            let line = valid.enumerated().map { c, r in "child \(c): loss \(String(format: "%.4f", losses[c])) val \(metric) \(String(format: "%.4f", r.target))" }
                .joined(separator: "; ")
            var extra = ""
            if let cs = controllerStep { extra = String(format: "  policy entropy %.3f", cs.entropy) }
            let chunkSeconds = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
            let samplesPerSecond = Double(chunk * config.identitiesPerBatch * config.samplesPerIdentity * n) / max(Double(t1 - t0) * 1e-9, 1e-9)
            let eta = chunkSeconds / Double(chunk) * Double(config.steps - step)
            let fraction = Double(step) / Double(config.steps)
            let bar = showBar ? "[" + String(repeating: "#", count: Int(fraction * 20)) + String(repeating: ".", count: 20 - Int(fraction * 20)) + "] " : ""
            if let data = streamStats {
                extra += String(format: "  data: stall %.2f s (%.1f%%)", data.stallSeconds, 100 * data.stallSeconds / max(trainingSeconds, 1e-9))
            }
            log("\(bar)step \(step)/\(config.steps)  \(Int(samplesPerSecond)) samples/s  eta \(Self.duration(eta))  \(line)\(extra)")
            if step % config.checkpointInterval == 0 || step == config.steps { try saveCheckpoint(step: step) }
            if let stopAfter, step >= stopAfter, step < config.steps { return nil }
        }
        return try finish()
    }

    /// The run's streaming totals so far, all children together (nil when the train split is in memory).
    var streamStats: DataStreamStats? {
        streams.isEmpty ? nil : streams.reduce(earlierStreamStats) { $0 + $1.stats }
    }

    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }

    /// One line of history.jsonl. `loss_parameters` are the values chosen at this step (used for the
    /// next K steps); `trained_loss_parameters` the values the last K steps trained with, which
    /// produced this validation. `data` (streamed runs only) holds the run's streaming totals so far.
    func writeHistory(
        step: Int, child: Int, loss: Float, record r: ValidationRecord, trainedPhi: [Float], controllerStep: ControllerStep?,
        data: DataStreamStats?
    ) {
        var members: [(String, JSONValue)] = [
            ("step", .int(step)), ("child", .int(child)), ("loss", .number(Double(loss))),
            ("validation", .object([
                ("target", .string(metric.description)), ("value", .number(r.target)), ("reward_value", .number(r.reward)),
                ("eer", .double(r.eer)), ("roc_auc", .double(r.auc)),
                ("frr_neighbours", .array(r.snapshot.neighbours.map { .number($0) })),
            ])),
            ("loss_parameters", .object(zip(trainers[child].loss.parameterDescriptions, trainers[child].loss.phi).map {
                ($0.name, .number(Double($1)))
            })),
            ("trained_loss_parameters", .object(zip(trainers[child].loss.parameterDescriptions, trainedPhi).map {
                ($0.name, .number(Double($1)))
            })),
        ]
        if let cs = controllerStep {
            members.append(("actions", .array(cs.actions[child].map { .int($0 - 1) })))
            members.append(("reward", cs.rewards[child].map { .number($0) } ?? .null))
            members.append(("baseline", .number(cs.baseline)))
            members.append(("policy_entropy", .number(cs.entropy)))
        }
        if let data {
            members.append(("data", .object([
                ("streamed_batches", .int(data.batches)), ("stall_seconds", .number(data.stallSeconds)),
                ("read_seconds", .number(data.readSeconds)),
            ])))
        }
        history?.write(Data((JSONValue.object(members).serialized(indent: nil) + "\n").utf8))
    }

    func saveModel(child c: Int) throws(RunError) {
        do {
            try RunFiles.write(
                path: modelPath, format: "alaverify-model", states: [trainers[c].state()],
                documents: ["config": try config.json()])
        } catch let error as DataError {
            throw .data(error)
        } catch {
            throw .usage("\(modelPath): \(error)")
        }
    }

    func saveCheckpoint(step: Int) throws(RunError) {
        let progress = RunProgress(
            step: step, best: best?.value, bestChild: best?.child, bestStep: best?.step, controller: controller,
            trainingSeconds: trainingSeconds, validationSeconds: validationSeconds, controllerSeconds: controllerSeconds,
            data: streamStats)
        do {
            let json = String(decoding: try JSONEncoder().encode(progress), as: UTF8.self)
            try RunFiles.write(
                path: checkpointPath, format: "alaverify-checkpoint", states: trainers.map { $0.state() },
                documents: ["config": try config.json(), "progress": json])
            if let controller {
                let policy = String(decoding: try JSONEncoder().encode(controller), as: UTF8.self)
                try RunFiles.write(path: policyPath, format: "alaverify-policy", states: [], documents: ["controller": policy])
            }
        } catch let error as DataError {
            throw .data(error)
        } catch {
            throw .usage("\(checkpointPath): \(error)")
        }
    }

    /// Scores the test split with the best model and writes `scores.h5`.
    func finish() throws(RunError) -> RunSummary {
        guard let best else { throw .usage("no validation was run") }
        let contents: RunFiles.Contents
        do { contents = try RunFiles.read(path: modelPath, formats: ["alaverify-model"]) } catch { throw .data(error) }
        let evaluator = trainers[0]
        do {
            let saved = evaluator.state()
            try evaluator.restore(contents.states[0])
            let embeddings = test.pixels.withUnsafeBufferPointer { evaluator.model.embed($0, count: test.count) }
            try evaluator.restore(saved)
            // The same writer as `alaverify score`, so that it reproduces this file byte for byte.
            let scoresPath = directory.appendingPathComponent("scores.h5").path
            try writeAllPairScores(path: scoresPath, embeddings: embeddings, dimension: evaluator.model.embeddingSize,
                                   labels: test.labels)
            guard case .float(let set) = try ScoresHDF5.read(path: scoresPath) else {
                throw DataError(file: scoresPath, "the scores written are not float32")
            }
            let metrics = try SortedScores(set).evaluate(EvaluationOptions(
                metrics: [.frrAtFAR(1e-2), .frrAtFAR(1e-3), .frrAtFAR(1e-4)], replicates: 200, seed: config.seed))
            return RunSummary(
                bestValidation: best.value, bestChild: best.child, bestStep: best.step, test: metrics,
                trainingSeconds: trainingSeconds, validationSeconds: validationSeconds, controllerSeconds: controllerSeconds,
                data: streamStats)
        } catch let error as DataError {
            throw .data(error)
        } catch {
            throw .usage("scoring the test split failed: \(error)")
        }
    }
}
