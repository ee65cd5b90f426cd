import AlaverifyBase
import Foundation
import SwiftProtobuf
import Training

/// A network that cannot be written as ONNX (a layer without an ONNX form): a bug, exit 70.
public struct ONNXExportError: AlaverifyError, Sendable {
    /// What could not be exported.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    public var description: String { message }
    public var exitStatus: ExitStatus { .internalError }
}

/// An embedding network as a standard ONNX model (IR version 8, default-domain opset 17).
///
/// The graph takes `images` float32 `[N, C, H, W]` (`[N, D]` for a feature network) holding the
/// values the network was trained on — raw pixel values, since the input normalisation is the
/// graph's first `Mul` and `Add` — and returns `embedding` float32 `[N, E]` of unit L2 norm (a
/// verification score is the dot product of two embeddings). Layers map to ONNX operators one to
/// one: `Conv`, `BatchNormalization` (inference form, running statistics; a fused ReLU becomes a
/// `Relu`), `Relu`, GELU as `x * 0.5 * (1 + Erf(x / sqrt 2))`, `MaxPool`, `AveragePool`,
/// `GlobalAveragePool` + `Flatten`, `Gemm` (transposed weight), residual blocks as their
/// convolutions and an `Add`, and `x / max(ReduceL2(x), epsilon)` for the normalisation.
/// Dropout is the identity at inference and is left out. Weights are `initializer`s named after
/// the checkpoint's parameter names (`3.conv1.weight`, `9.running_mean`).
public enum ONNXGraph {
    /// The default-domain operator set the graph uses.
    public static let opset: Int64 = 17
    /// The ONNX IR version that goes with opset 17.
    public static let irVersion: Int64 = 8
    /// The graph's input name.
    public static let inputName = "images"
    /// The graph's output name.
    public static let outputName = "embedding"

    /// The serialized `ModelProto` of `network` with `metadata` as its `metadata_props` (in order).
    public static func model(
        _ network: EmbeddingNetwork, name: String, producerVersion: String, metadata: [(key: String, value: String)]
    ) throws(ONNXExportError) -> [UInt8] {
        var builder = Builder()
        var x = inputName
        for (i, layer) in network.body.layers.enumerated() { x = try builder.add(layer, x, prefix: "\(i)") }
        builder.nodes[builder.nodes.count - 1].output = [outputName]
        var graph = Onnx_GraphProto()
        graph.name = name
        graph.node = builder.nodes
        graph.initializer = builder.initializers
        let shape = Array(EmbeddingNetwork.batchShape(network.sampleShape, batch: 1).extents.dropFirst())
        graph.input = [valueInfo(inputName, dims: [.dimParam("N")] + shape.map { .dimValue(Int64($0)) })]
        graph.output = [valueInfo(outputName, dims: [.dimParam("N"), .dimValue(Int64(network.embeddingSize))])]
        var model = Onnx_ModelProto()
        model.irVersion = irVersion
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.domain = ""
        opsetID.version = opset
        model.opsetImport = [opsetID]
        model.producerName = "alaverify"
        model.producerVersion = producerVersion
        model.docString = "\(network.architecture): \(inputName) [N, \(shape.map(String.init).joined(separator: ", "))] float32 (raw values; the input normalisation is in the graph) -> \(outputName) [N, \(network.embeddingSize)] float32 of unit L2 norm; score = dot product"
        model.graph = graph
        model.metadataProps = metadata.map { entry in
            var p = Onnx_StringStringEntryProto()
            p.key = entry.key
            p.value = entry.value
            return p
        }
        do { return try model.serializedBytes() } catch { throw ONNXExportError("serializing the ONNX model: \(error)") }
    }

    private static func valueInfo(_ name: String, dims: [Onnx_TensorShapeProto.Dimension.OneOf_Value]) -> Onnx_ValueInfoProto {
        var tensor = Onnx_TypeProto.Tensor()
        tensor.elemType = Int32(Onnx_TensorProto.DataType.float.rawValue)
        tensor.shape.dim = dims.map { value in
            var d = Onnx_TensorShapeProto.Dimension()
            d.value = value
            return d
        }
        var info = Onnx_ValueInfoProto()
        info.name = name
        info.type.tensorType = tensor
        return info
    }

    /// Accumulates nodes and initializers, one layer at a time.
    struct Builder {
        var nodes: [Onnx_NodeProto] = []
        var initializers: [Onnx_TensorProto] = []

        /// Adds `layer` applied to the value named `x`; returns the name of its output.
        mutating func add(_ layer: any Layer, _ x: String, prefix p: String) throws(ONNXExportError) -> String {
            switch layer {
            case let l as InputNormalization:
                let scaled = node("Mul", [x, constant("\(p).scale", [], [l.scale])], "\(p).scaled")
                return node("Add", [scaled, constant("\(p).shift", [], [l.shift])], "\(p).normalized")
            case let l as Conv2d:
                var inputs = [x, constant("\(p).weight", [l.outChannels, l.inChannels, l.kernel, l.kernel], l.weight.value)]
                if let b = l.bias { inputs.append(constant("\(p).bias", [l.outChannels], b.value)) }
                return node("Conv", inputs, "\(p).conv", [
                    ints("kernel_shape", [l.kernel, l.kernel]), ints("strides", [l.stride, l.stride]),
                    ints("pads", [l.padding, l.padding, l.padding, l.padding]),
                ])
            case let l as BatchNorm:
                let y = node("BatchNormalization", [
                    x, constant("\(p).scale", [l.channels], l.scale.value), constant("\(p).shift", [l.channels], l.shift.value),
                    constant("\(p).running_mean", [l.channels], l.runningMean),
                    constant("\(p).running_var", [l.channels], l.runningVariance),
                ], "\(p).bn", [float("epsilon", l.epsilon)])
                return l.relu ? node("Relu", [y], "\(p).relu") : y
            case is ReLU:
                return node("Relu", [x], "\(p).relu")
            case is GELU:
                // x * 0.5 * (1 + erf(x / sqrt 2)), as GELU computes it (opset 17 has no Gelu).
                let e = node("Erf", [node("Mul", [x, constant("\(p).inv_sqrt2", [], [0.70710678])], "\(p).scaled")], "\(p).erf")
                let cdf = node("Mul", [node("Add", [e, constant("\(p).one", [], [1])], "\(p).erf1"), constant("\(p).half", [], [0.5])], "\(p).cdf")
                return node("Mul", [x, cdf], "\(p).gelu")
            case let l as MaxPool2d:
                return node("MaxPool", [x], "\(p).maxpool", [ints("kernel_shape", [l.kernel, l.kernel]), ints("strides", [l.stride, l.stride])])
            case let l as AvgPool2d:
                return node("AveragePool", [x], "\(p).avgpool", [ints("kernel_shape", [l.kernel, l.kernel]), ints("strides", [l.stride, l.stride])])
            case is GlobalAvgPool:
                return node("Flatten", [node("GlobalAveragePool", [x], "\(p).pool")], "\(p).flat", [int("axis", 1)])
            case is Flatten:
                return node("Flatten", [x], "\(p).flat", [int("axis", 1)])
            case is Dropout:
                return x
            case let l as Linear:
                var inputs = [x, constant("\(p).weight", [l.outputs, l.inputs], l.weight.value)]
                if let b = l.bias { inputs.append(constant("\(p).bias", [l.outputs], b.value)) }
                return node("Gemm", inputs, "\(p).linear", [int("transB", 1)])
            case let l as L2Normalize:
                let norm = node("ReduceL2", [x], "\(p).norm", [ints("axes", [1]), int("keepdims", 1)])
                let clamped = node("Max", [norm, constant("\(p).epsilon", [], [l.epsilon])], "\(p).clamped")
                return node("Div", [x, clamped], "\(p).unit")
            case let l as ResidualBlock:
                var main = try add(l.conv1, x, prefix: "\(p).conv1")
                main = try add(l.norm1, main, prefix: "\(p).bn1")
                main = try add(l.conv2, main, prefix: "\(p).conv2")
                main = try add(l.norm2, main, prefix: "\(p).bn2")
                var shortcut = x
                if let projection = l.projection, let norm = l.projectionNorm {
                    shortcut = try add(norm, try add(projection, x, prefix: "\(p).proj"), prefix: "\(p).proj_bn")
                }
                return node("Relu", [node("Add", [main, shortcut], "\(p).sum")], "\(p).out")
            case let l as Sequential:
                var y = x
                for (i, inner) in l.layers.enumerated() { y = try add(inner, y, prefix: "\(p).\(i)") }
                return y
            default:
                throw ONNXExportError("the layer \(type(of: layer)) has no ONNX form")
            }
        }

        /// Appends a node; its output is named `output`.
        mutating func node(_ op: String, _ inputs: [String], _ output: String, _ attributes: [Onnx_AttributeProto] = []) -> String {
            var n = Onnx_NodeProto()
            n.opType = op
            n.name = output
            n.input = inputs
            n.output = [output]
            n.attribute = attributes
            nodes.append(n)
            return output
        }

        /// Adds a float32 initializer of `shape` (`[]`: a scalar) and returns its name.
        mutating func constant(_ name: String, _ shape: [Int], _ values: [Float]) -> String {
            var t = Onnx_TensorProto()
            t.name = name
            t.dims = shape.map { Int64($0) }
            t.dataType = Int32(Onnx_TensorProto.DataType.float.rawValue)
            // raw_data is little-endian, as Float's memory is on the platforms alaverify runs on.
            t.rawData = values.withUnsafeBytes { Data($0) }
            initializers.append(t)
            return name
        }

        mutating func constant(_ name: String, _ shape: [Int], _ tensor: Tensor) -> String {
            constant(name, shape, Array(UnsafeBufferPointer(start: tensor.pointer, count: tensor.count)))
        }

        func ints(_ name: String, _ values: [Int]) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .ints
            a.ints = values.map { Int64($0) }
            return a
        }

        func int(_ name: String, _ value: Int) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .int
            a.i = Int64(value)
            return a
        }

        func float(_ name: String, _ value: Float) -> Onnx_AttributeProto {
            var a = Onnx_AttributeProto()
            a.name = name
            a.type = .float
            a.f = value
            return a
        }
    }
}
