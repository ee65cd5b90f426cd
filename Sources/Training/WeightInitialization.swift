import AlaverifyBase

/// How a convolution or linear layer draws its initial weights, from its fan-in.
///
/// Under a BatchNorm a layer's output does not depend on its weights' scale, but Adam moves every
/// weight by about the learning rate per step, so the initial scale sets how fast the weights turn:
/// weights `k` times larger learn as if the learning rate were `k` times smaller. The residual
/// network uses PyTorch's default so that the recipe's learning rate means the same here.
public enum WeightInitialization: Sendable, Equatable {
    /// He et al. 2015: normal with standard deviation sqrt(2 / fanIn) (ReLU layers without
    /// normalisation; the MLP and the small CNN).
    case heNormal
    /// PyTorch's default for `Conv2d` and `Linear` (`kaiming_uniform_` with a = sqrt 5): uniform on
    /// [-1/sqrt(fanIn), 1/sqrt(fanIn)], a standard deviation sqrt(6) times smaller than `heNormal`.
    case uniformFanIn

    /// Fills `weights` from `rng`.
    func fill(_ weights: Tensor, fanIn: Int, rng: inout SeededGenerator) {
        switch self {
        case .heNormal:
            let std = (2.0 / Double(fanIn)).squareRoot()
            for i in 0..<weights.count { weights[i] = Float(rng.normal() * std) }
        case .uniformFanIn:
            let bound = 1 / Double(fanIn).squareRoot()
            for i in 0..<weights.count { weights[i] = Float((2 * rng.unit() - 1) * bound) }
        }
    }
}
