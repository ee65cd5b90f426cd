"""Checks alaverify's ResNet + CosFace against PyTorch on the same weights and batch.

`train-bench --mode parity --model resnet --loss cosface --data DIR` writes one training-mode
forward/backward (weights, gradients, input, labels, embeddings, loss) to DIR/parity; this loads
the weights into torch_bench.ResNet and CosFace, repeats the step in PyTorch (float64) and prints
the largest relative differences of the loss, the embeddings and every gradient.
"""
import json, sys, pathlib
import numpy as np
import torch
from torch_bench import ResNet, CosFace

d = pathlib.Path(sys.argv[1]) / "parity"
index = json.load(open(d / "index.json"))
def load(name, shape=None):
    a = np.fromfile(d / f"{name}.f32", dtype=np.float32)
    return a.reshape(shape) if shape is not None else a

torch.set_default_dtype(torch.float64)
model, head = ResNet(), CosFace(index["classes"], 128)
# alaverify's names -> PyTorch's parameters (the Sequential index of each layer in ResNetConfiguration).
mapping = {"1.weight": "stem.0.weight", "2.scale": "stem.1.weight", "2.shift": "stem.1.bias",
           "7.weight": "fc.weight", "8.scale": "bn.weight", "8.shift": "bn.bias", "loss.proxies": "w"}
for b in range(3):
    for sw, pt in [("conv1.weight", "conv1.weight"), ("bn1.scale", "bn1.weight"), ("bn1.shift", "bn1.bias"),
                   ("conv2.weight", "conv2.weight"), ("bn2.scale", "bn2.weight"), ("bn2.shift", "bn2.bias"),
                   ("proj.weight", "proj.0.weight"), ("proj_bn.scale", "proj.1.weight"), ("proj_bn.shift", "proj.1.bias")]:
        mapping[f"{b + 3}.{sw}"] = f"stages.{b}.{pt}"
params = dict(model.named_parameters())
params["w"] = head.w
with torch.no_grad():
    for name in index["parameters"]:
        p = params[mapping[name]]
        p.copy_(torch.from_numpy(load("w-" + name).astype(np.float64)).reshape(p.shape))
model.train()
x = torch.from_numpy(load("input").astype(np.float64)).reshape(-1, 1, 32, 32)
y = torch.from_numpy(np.fromfile(d / "labels.i32", dtype=np.int32).astype(np.int64))
e = model(x)
loss = head(e, y)
loss.backward()
def rel(a, b):
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))
print(f"loss: alaverify {index['loss']:.6f} PyTorch {loss.item():.6f}")
print(f"embeddings: max relative difference {rel(load('embeddings'), e.detach().numpy().ravel()):.2e}")
worst = 0.0
for name in index["parameters"]:
    g = params[mapping[name]].grad.numpy().ravel()
    r = rel(load("g-" + name), g)
    worst = max(worst, r)
    print(f"  gradient {name:22} max relative difference {r:.2e}")
print(f"largest gradient difference: {worst:.2e}")
