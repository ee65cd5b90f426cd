import AlaverifyBase
import Foundation
import SwiftProtobuf
import Testing
import Training
@testable import ONNXExport

/// The structure of exported graphs (onnxruntime runs them in the end-to-end tests).
@Suite("ONNX graphs of the embedding networks")
struct ONNXGraphTests {
    static func export(_ network: EmbeddingNetwork, metadata: [(key: String, value: String)] = []) throws -> Onnx_ModelProto {
        let bytes = try ONNXGraph.model(network, name: "test", producerVersion: "9.9", metadata: metadata)
        return try Onnx_ModelProto(serializedBytes: bytes)
    }

    /// Every initializer by name.
    static func initializers(_ model: Onnx_ModelProto) -> [String: Onnx_TensorProto] {
        Dictionary(uniqueKeysWithValues: model.graph.initializer.map { ($0.name, $0) })
    }

    static func floats(_ t: Onnx_TensorProto) -> [Float] {
        t.rawData.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    @Test("the CNN: opset 17, named input and output, its operators in order, metadata kept in order")
    func cnn() throws {
        let network = try CNNConfiguration(width: 4, stages: 2, pointwiseChannels: 6, embedding: 8, dropout: 0.1).build(seed: 3)
        let model = try Self.export(network, metadata: [("b", "2"), ("a", "1")])
        #expect(model.irVersion == 8 && model.opsetImport.map(\.version) == [17] && model.opsetImport[0].domain == "")
        #expect(model.producerName == "alaverify" && model.producerVersion == "9.9")
        #expect(model.metadataProps.map(\.key) == ["b", "a"] && model.metadataProps.map(\.value) == ["2", "1"])
        let ops = model.graph.node.map(\.opType)
        #expect(ops == ["Mul", "Add", "Conv", "BatchNormalization", "Relu", "MaxPool", "Conv", "BatchNormalization", "Relu", "MaxPool",
                        "Conv", "BatchNormalization", "Relu", "GlobalAveragePool", "Flatten", "Gemm", "ReduceL2", "Max", "Div"])
        let input = model.graph.input[0], output = model.graph.output[0]
        #expect(input.name == "images" && output.name == "embedding")
        #expect(input.type.tensorType.elemType == 1 && output.type.tensorType.elemType == 1)
        #expect(input.type.tensorType.shape.dim.map(\.value) == [.dimParam("N"), .dimValue(1), .dimValue(32), .dimValue(32)])
        #expect(output.type.tensorType.shape.dim.map(\.value) == [.dimParam("N"), .dimValue(8)])
        #expect(model.graph.node.last?.output == ["embedding"])
        // Every node reads the graph input, an initializer or an earlier node's output.
        var known = Set(["images"] + model.graph.initializer.map(\.name))
        for node in model.graph.node {
            for name in node.input { #expect(known.contains(name), "\(node.opType) reads \(name) before it exists") }
            known.formUnion(node.output)
        }
    }

    @Test("weights and running statistics are the network's, bit for bit, under checkpoint names")
    func weights() throws {
        let network = try CNNConfiguration(width: 4, stages: 2, embedding: 8).build(seed: 5)
        let batchNorm = try #require(network.body.layers.compactMap { $0 as? BatchNorm }.first)
        for c in 0..<4 { batchNorm.runningMean[c] = Float(c) * 0.25; batchNorm.runningVariance[c] = 1 + Float(c) }
        let model = try Self.export(network)
        let tensors = Self.initializers(model)
        for p in network.parameters {
            let t = try #require(tensors[p.name], "no initializer \(p.name)")
            #expect(Self.floats(t).map(\.bitPattern) == (0..<p.value.count).map { p.value[$0].bitPattern }, "\(p.name)")
        }
        #expect(tensors["1.weight"]?.dims == [4, 1, 3, 3])
        #expect(Self.floats(try #require(tensors["2.running_mean"])) == [0, 0.25, 0.5, 0.75])
        #expect(Self.floats(try #require(tensors["2.running_var"])) == [1, 2, 3, 4])
        let normalization = try #require(network.body.layers.first as? InputNormalization)
        #expect(Self.floats(try #require(tensors["0.scale"])) == [normalization.scale])
        #expect(tensors["0.scale"]?.dims == [])
    }

    @Test("the ResNet: fused ReLUs, projection shortcuts, residual sums, Gemm without bias, BatchNorm1d")
    func resnet() throws {
        let network = try ResNetConfiguration(width: 4, stages: 2, embedding: 8).build(seed: 1)
        let model = try Self.export(network)
        let ops = model.graph.node.map(\.opType)
        let block = ["Conv", "BatchNormalization", "Relu", "Conv", "BatchNormalization"]
        #expect(ops == ["Mul", "Add", "Conv", "BatchNormalization", "Relu"]
            + block + ["Add", "Relu"]
            + block + ["Conv", "BatchNormalization", "Add", "Relu"]
            + ["GlobalAveragePool", "Flatten", "Gemm", "BatchNormalization", "ReduceL2", "Max", "Div"])
        let gemm = try #require(model.graph.node.first { $0.opType == "Gemm" })
        #expect(gemm.input.count == 2)
        let stride2 = model.graph.node.filter { $0.opType == "Conv" && $0.attribute.first { $0.name == "strides" }?.ints == [2, 2] }
        #expect(stride2.count == 2, "the second stage's first conv and its projection")
        let names = Set(Self.initializers(model).keys)
        for p in network.parameters { #expect(names.contains(p.name), "\(p.name)") }
        for b in network.buffers { #expect(names.contains(b.name), "\(b.name)") }
        #expect(model.graph.initializer.count == network.parameters.count + network.buffers.count + 3)
    }

    @Test("the MLP with GELU: Flatten, Gemm with and without bias, GELU through Erf")
    func mlp() throws {
        let network = try MLPConfiguration(hidden: [16], embedding: 8, activation: .gelu).build(seed: 2)
        let ops = try Self.export(network).graph.node.map(\.opType)
        #expect(ops == ["Mul", "Add", "Flatten", "Gemm", "BatchNormalization", "Mul", "Erf", "Add", "Mul", "Mul", "Gemm",
                        "ReduceL2", "Max", "Div"])
    }

    final class Unknown: Layer {
        func forward(_ input: Tensor, _ context: inout ForwardContext) -> Tensor { input }
        func backward(_ outputGradient: Tensor) -> Tensor { outputGradient }
    }

    @Test("a layer without an ONNX form is an internal error naming it")
    func unknownLayer() throws {
        let network = try EmbeddingNetwork(architecture: "x", sampleShape: Shape(4), body: Sequential([Unknown(), L2Normalize()]))
        #expect {
            _ = try ONNXGraph.model(network, name: "x", producerVersion: "0", metadata: [])
        } throws: { error in
            (error as? ONNXExportError)?.description == "the layer Unknown has no ONNX form" && (error as? ONNXExportError)?.exitStatus == .internalError
        }
    }
}
