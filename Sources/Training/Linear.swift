import AlaverifyBase
import ScoreMetrics

/// A fully connected layer `y = x W^T + b` over rows of the input (`[N, in]` -> `[N, out]`).
public final class Linear: Layer {
    /// Input features.
    public let inputs: Int
    /// Output features.
    public let outputs: Int
    /// `[out, in]`, He-normal initialised.
    public let weight: Parameter
    /// `[out]`, zero-initialised; nil without bias.
    public let bias: Parameter?
    private let output = Tensor()
    private let inputGradient = Tensor()
    private var input: Tensor?

    /// Creates the layer and draws its weights from `rng` by `initialization`.
    public init(
        inputs: Int, outputs: Int, bias: Bool = true, initialization: WeightInitialization = .heNormal,
        rng: inout SeededGenerator
    ) {
        self.inputs = inputs
        self.outputs = outputs
        weight = Parameter(name: "weight", shape: Shape(outputs, inputs), decays: true)
        self.bias = bias ? Parameter(name: "bias", shape: Shape(outputs), decays: false) : nil
        initialization.fill(weight.value, fanIn: inputs, rng: &rng)
    }

    public func outputShape(for s: Shape) -> Shape? { s.rowSize == inputs ? Shape(s.n, outputs) : nil }

    public func forward(_ x: Tensor, _ context: inout ForwardContext) -> Tensor {
        precondition(x.shape.rowSize == inputs, "Linear expects \(inputs) features, got \(x.shape)")
        input = x
        let n = x.shape.n
        output.reshape(Shape(n, outputs))
        if let b = bias {
            for r in 0..<n { (output.pointer + r * outputs).update(from: b.value.pointer, count: outputs) }
        }
        BLAS.gemm(transB: true, m: n, n: outputs, k: inputs, x.pointer, lda: inputs, weight.value.pointer, ldb: inputs,
                  beta: bias == nil ? 0 : 1, output.pointer, ldc: outputs)
        return output
    }

    public func backward(_ dy: Tensor) -> Tensor {
        backwardParameters(dy)
        let x = input!
        let n = x.shape.n
        inputGradient.reshape(x.shape)
        BLAS.gemm(m: n, n: inputs, k: outputs, dy.pointer, lda: outputs, weight.value.pointer, ldb: inputs,
                  inputGradient.pointer, ldc: inputs)
        return inputGradient
    }

    public func backwardParameters(_ dy: Tensor) {
        guard let x = input else { preconditionFailure("backward before forward") }
        let n = x.shape.n
        BLAS.gemm(transA: true, m: outputs, n: inputs, k: n, dy.pointer, lda: outputs, x.pointer, ldb: inputs,
                  beta: 1, weight.gradient.pointer, ldc: inputs)
        if let b = bias {
            let g = b.gradient.pointer
            for r in 0..<n {
                let row = dy.pointer + r * outputs
                for j in 0..<outputs { g[j] += row[j] }
            }
        }
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }
}
