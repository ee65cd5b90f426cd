"""Training throughput of the same ResNet + CosFace in PyTorch (CPU), for bench/train_bench/run.sh.

The network is alaverify's `--network resnet` default (ResNetConfiguration): input (x - 127.5) / 127.5,
stem conv3x3 1->32 (no bias) + BN + ReLU, one basic block per stage at 32/64/128 channels (stride 2
and a 1x1 conv + BN projection where the stride or width changes), global average pooling,
Linear 128->128 without bias, BatchNorm1d, L2 normalisation; CosFace head (s 30, m 0.35) over the
training identities; AdamW (lr 2e-3, weight decay 5e-4). Batches of P identities x K samples drawn
like alaverify's PKSampler. Prints one JSON line like the Swift benchmark.
"""
import argparse, json, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.proj = None
        if stride != 1 or cin != cout:
            self.proj = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (self.proj(x) if self.proj is not None else x))


class ResNet(nn.Module):
    def __init__(self, width=32, stages=3, blocks=1, embedding=128):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, width, 3, 1, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        layers, c = [], width
        for s in range(stages):
            out = width << s
            for b in range(blocks):
                layers.append(Block(c, out, 2 if s > 0 and b == 0 else 1))
                c = out
        self.stages = nn.Sequential(*layers)
        self.fc = nn.Linear(c, embedding, bias=False)
        self.bn = nn.BatchNorm1d(embedding)

    def forward(self, x):
        x = (x - 127.5) / 127.5
        x = self.stages(self.stem(x))
        x = x.mean(dim=(2, 3))
        return F.normalize(self.bn(self.fc(x)), dim=1)


class CosFace(nn.Module):
    def __init__(self, classes, dim, s=30.0, m=0.35):
        super().__init__()
        self.w = nn.Parameter(torch.randn(classes, dim))
        self.s, self.m = s, m

    def forward(self, e, y):
        cos = e @ F.normalize(self.w, dim=1).t()
        logits = self.s * (cos - self.m * F.one_hot(y, cos.shape[1]))
        return F.cross_entropy(logits, y)


def pk_batches(labels, p, k, seed):
    rng = np.random.default_rng(seed)
    ids = np.unique(labels)
    members = {i: np.flatnonzero(labels == i) for i in ids}
    while True:
        chosen = rng.choice(ids, p, replace=False)
        rows = np.concatenate([rng.choice(members[i], k, replace=len(members[i]) < k) for i in chosen])
        yield rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default="bench/out/cjk-mini")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    images = np.fromfile(a.data + "/images.u8", dtype=np.uint8).reshape(-1, 1, 32, 32)
    labels = np.fromfile(a.data + "/labels.i32", dtype=np.int32)
    _, dense = np.unique(labels, return_inverse=True)
    model, head = ResNet(), CosFace(int(dense.max()) + 1, 128)
    opt = torch.optim.AdamW(list(model.parameters()) + list(head.parameters()), lr=2e-3, weight_decay=5e-4)
    batches = pk_batches(dense, a.batch // 8, 8, 2)

    def step():
        rows = next(batches)
        x = torch.from_numpy(images[rows].astype(np.float32))
        y = torch.from_numpy(dense[rows].astype(np.int64))
        opt.zero_grad(set_to_none=True)
        loss = head(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    model.train()
    for _ in range(a.warmup):
        step()
    rates = []
    for _ in range(a.repeats):
        t0 = time.perf_counter()
        for _ in range(a.steps):
            loss = step()
        rates.append(a.steps * a.batch / (time.perf_counter() - t0))
    params = sum(p.numel() for p in model.parameters())
    print(json.dumps({"impl": "pytorch", "model": "resnet", "loss": "cosface", "batch": a.batch, "threads": a.threads,
                      "parameters": params, "torch": torch.__version__,
                      "median_samples_per_s": float(np.median(rates)), "samples_per_s": rates, "last_loss": loss}))


if __name__ == "__main__":
    main()
