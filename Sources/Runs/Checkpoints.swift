import Foundation
import LossAlignment
import SampleData
import Training

/// HDF5 files of a run: checkpoints (every child's full training state plus the controller),
/// `model.h5` (one child's state, enough to embed) and `policy.h5` (the controller's policy).
///
/// Layout: root attributes `format` (`alaverify-checkpoint`, `alaverify-model` or
/// `alaverify-policy`), `format_version` = 1, `children`; per child `/child<c>/` holds
/// `weights/<k>`, `optimizer/<k>`, `loss_floats/<k>` (float32) and `loss_integers/<k>` (int64)
/// datasets, each with a `name` attribute, plus `phi`, `generator`, `source`; JSON documents
/// (`/config_json`, `/controller_json`) are stored as uint8 datasets. Written to a temporary
/// name and renamed when complete, so a killed run leaves the previous file intact.
public enum RunFiles {
    /// The `format` of a checkpoint (`RunDirectory.checkpoint`).
    public static let checkpointFormat = "alaverify-checkpoint"
    /// The `format` of a model (`RunDirectory.model`).
    public static let modelFormat = "alaverify-model"
    /// The `format` of a policy (`RunDirectory.policy`).
    public static let policyFormat = "alaverify-policy"

    /// Writes states (and optional JSON documents) to `path` atomically.
    public static func write(
        path: String, format: String, states: [TrainingState], documents: [String: String]
    ) throws(DataError) {
        let writer = try HDF5Writer(path: path)
        try writer.setAttribute("format", format)
        try writer.setAttribute("format_version", Int64(1))
        try writer.setAttribute("children", Int64(states.count))
        for (name, text) in documents.sorted(by: { $0.key < $1.key }) {
            try writer.write("/\(name)_json", Array(text.utf8), compression: 4)
        }
        for (c, state) in states.enumerated() {
            let group = "/child\(c)"
            try writer.createGroup(group)
            try writer.setAttribute("step", Int64(state.step), on: group)
            try writer.setAttribute("architecture", state.architecture, on: group)
            try writer.setAttribute("loss_family", state.lossFamily, on: group)
            try writer.setAttribute("phi_names", state.phiNames.joined(separator: "\n"), on: group)
            try writer.write("\(group)/phi", state.phi.isEmpty ? [0] : state.phi)
            try writer.setAttribute("phi_count", Int64(state.phi.count), on: group)
            try writer.write("\(group)/generator", state.generator)
            try writer.write("\(group)/source", state.source.isEmpty ? [0] : state.source)
            try writer.setAttribute("source_count", Int64(state.source.count), on: group)
            for (kind, arrays) in [("weights", state.weights), ("optimizer", state.optimizer), ("loss_floats", state.lossFloats)] {
                try writeArrays(writer, "\(group)/\(kind)", arrays)
            }
            try writeArrays(writer, "\(group)/loss_integers", state.lossIntegers)
        }
        try writer.close()
    }

    /// Writes `arrays` as datasets `group/0`, `group/1`, ... with `name` and `empty` attributes
    /// (an empty array is stored as one placeholder value).
    static func writeArrays<T: HDF5Scalar & AdditiveArithmetic>(_ writer: HDF5Writer, _ group: String, _ arrays: [StateArray<T>]) throws(DataError) {
        try writer.createGroup(group)
        try writer.setAttribute("count", Int64(arrays.count), on: group)
        for (k, a) in arrays.enumerated() {
            let p = "\(group)/\(k)"
            try writer.write(p, a.values.isEmpty ? [.zero] : a.values, shape: a.values.isEmpty ? [1] : a.shape)
            try writer.setAttribute("name", a.name, on: p)
            try writer.setAttribute("empty", Int64(a.values.isEmpty ? 1 : 0), on: p)
        }
    }

    /// What a run file holds.
    public struct Contents: Sendable {
        /// The `format` attribute.
        public var format: String
        /// One state per child.
        public var states: [TrainingState]
        /// JSON documents by name (`config`, `controller`).
        public var documents: [String: String]
    }

    /// Reads a run file, checking that its format is one of `formats`.
    public static func read(path: String, formats: [String]) throws(DataError) -> Contents {
        let file = try HDF5File(path: path)
        guard let format = try file.stringAttribute("format"), formats.contains(format) else {
            let found = (try? file.stringAttribute("format")).flatMap { $0 } ?? "none"
            throw DataError(file: path, "not an \(formats.joined(separator: " or ")) file (format attribute: \(found))")
        }
        let version = try file.integerAttribute("format_version")
        guard version == 1 else {
            throw DataError(file: path, "\(format) format_version \(version.map(String.init) ?? "missing") is not supported (expected 1: a file of another alaverify version)")
        }
        let children = Int(try file.integerAttribute("children") ?? 0)
        guard children >= 0 && children < 10_000 else { throw DataError(file: path, "implausible child count \(children)") }
        var documents: [String: String] = [:]
        for p in try file.datasetPaths() where p.hasSuffix("_json") && !p.dropFirst().contains("/") {
            let bytes: [UInt8] = try file.dataset(p).read()
            documents[String(p.dropFirst().dropLast(5))] = String(decoding: bytes, as: UTF8.self)
        }
        var states: [TrainingState] = []
        for c in 0..<children {
            let g = "/child\(c)"
            let phiCount = Int(try file.integerAttribute("phi_count", of: g) ?? 0)
            let sourceCount = Int(try file.integerAttribute("source_count", of: g) ?? 0)
            let phi: [Float] = try file.dataset("\(g)/phi").read()
            let source: [UInt64] = try file.dataset("\(g)/source").read()
            guard phi.count >= phiCount, source.count >= sourceCount else {
                throw DataError(file: path, location: g, "phi or source state is shorter than recorded")
            }
            let namesText = try file.stringAttribute("phi_names", of: g) ?? ""
            states.append(TrainingState(
                step: Int(try file.integerAttribute("step", of: g) ?? 0),
                architecture: try file.stringAttribute("architecture", of: g) ?? "",
                lossFamily: try file.stringAttribute("loss_family", of: g) ?? "",
                weights: try readArrays(file, "\(g)/weights"), optimizer: try readArrays(file, "\(g)/optimizer"),
                lossFloats: try readArrays(file, "\(g)/loss_floats"), lossIntegers: try readArrays(file, "\(g)/loss_integers"),
                phiNames: namesText.isEmpty ? [] : namesText.components(separatedBy: "\n"),
                phi: Array(phi.prefix(phiCount)), generator: try file.dataset("\(g)/generator").read(),
                source: Array(source.prefix(sourceCount))))
        }
        return Contents(format: format, states: states, documents: documents)
    }

    /// Reads what `writeArrays` wrote into `group`.
    static func readArrays<T: HDF5Scalar>(_ file: HDF5File, _ group: String) throws(DataError) -> [StateArray<T>] {
        let count = Int(try file.integerAttribute("count", of: group) ?? 0)
        var out: [StateArray<T>] = []
        for k in 0..<count {
            let ds = try file.dataset("\(group)/\(k)")
            let empty = try ds.integerAttribute("empty") == 1
            let values: [T] = empty ? [] : try ds.read()
            out.append(StateArray(name: try ds.stringAttribute("name") ?? "", shape: empty ? [0] : ds.shape, values: values))
        }
        return out
    }
}

extension RunFiles {
    /// A summary of a checkpoint, model or policy file for `alaverify inspect`, or nil when the
    /// file is none of them: its format, the step it reached (a checkpoint's progress), each
    /// child's step, network and loss, and the run's target and network.
    public static func inspect(path: String) throws(DataError) -> InspectReport? {
        guard ScoresHDF5.isHDF5(path: path) else { return nil }
        let format = try HDF5File(path: path).stringAttribute("format")
        guard let format, [checkpointFormat, modelFormat, policyFormat].contains(format) else { return nil }
        let contents = try read(path: path, formats: [format])
        var lines = ["file: \(path)", "format: \(format) v1"]
        let config = contents.documents["config"].flatMap { try? RunConfig.read(Data($0.utf8)) }
        if let json = contents.documents["progress"], let progress = try? RunProgress.decode(Data(json.utf8), controllerType: nil) {
            lines.append("step: \(progress.step)")
            if let best = progress.best, let c = progress.bestChild, let s = progress.bestStep {
                lines.append("best: validation cost \(best) (\(c < 0 ? "the children's mean" : "child \(c)"), step \(s))")
            }
        }
        if let config {
            lines.append("run: target \(config.target), \(config.network.rawValue), loss control \(config.lossControl.rawValue), \(config.steps) steps, seed \(config.seed), data \(config.data)")
        }
        lines.append("children: \(contents.states.count)")
        for (c, s) in contents.states.enumerated() {
            lines.append("  child \(c): step \(s.step), \(s.architecture), loss \(s.lossFamily) (\(s.phi.count) parameters)")
        }
        if let json = contents.documents["controller"], let controller = try? JSONDecoder().decode(ALAController.self, from: Data(json.utf8)) {
            lines.append("controller: ALA, \(controller.steps) steps, \(controller.specs.count) loss parameters, policy \(controller.policy.inputs) x \(controller.policy.hidden)")
        }
        return InspectReport(format: format, lines: lines, problems: [])
    }
}
