"""The PyTorch recipe a user would reach for, on alaverify's identity split, for RESULTS.md.

A small ResNet (the network of torch_bench.py: stem 32, stages 32/64/128, one block each, embedding
128) with a CosFace head (s 30, m 0.35) over the training identities, AdamW (lr 2e-3, weight decay
5e-4 on every parameter, PyTorch's default), cosine decay to 0 per step, batches of 256 drawn
without replacement from shuffled epochs, no augmentation, torch.set_num_threads(2).

It trains on the train identities of an alaverify run (RUN/split.json), scores all pairs of the
run's test samples (the same rows alaverify scored into RUN/scores.h5), and writes an
alaverify-scores v1 file with identities, so `alaverify metrics` and `alaverify gate` (paired
subject bootstrap) compare both with the same engine:

    python bench/train_bench/torch_recipe.py --split RUN/split.json --steps 1233 --out OUT
    alaverify metrics OUT/scores.h5 RUN/scores.h5 --far 1e-4 --far 1e-3 --far 1e-2
"""
import argparse, json, math, pathlib, time
import h5py
import numpy as np
import torch
import torch.nn.functional as F

from torch_bench import ResNet, CosFace


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", required=True, help="RUN/split.json written by alaverify train")
    ap.add_argument("--data", help="samples file (default: the one named in split.json)")
    ap.add_argument("--steps", type=int, default=1233)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    split = json.load(open(a.split))
    data = a.data or split["data"]
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    with h5py.File(data, "r") as f:
        identity = f["samples/identity"][...].astype(np.int64)
        train_ids = np.array(split["train"]["identities"], dtype=np.int64)
        train_rows = np.flatnonzero(np.isin(identity, train_ids))
        test_rows = np.array(split["test"]["rows"], dtype=np.int64)
        images = f["samples/images"]
        train_x = images[np.sort(train_rows)]
        order = np.argsort(test_rows)
        test_x = np.empty((len(test_rows),) + train_x.shape[1:], dtype=np.uint8)
        test_x[order] = images[test_rows[order]]
    train_rows = np.sort(train_rows)
    _, train_y = np.unique(identity[train_rows], return_inverse=True)
    classes = int(train_y.max()) + 1
    print(f"train {len(train_rows)} samples / {classes} identities, test {len(test_rows)} samples; read in {time.time() - t0:.1f} s",
          flush=True)

    model, head = ResNet(), CosFace(classes, 128)
    params = list(model.parameters()) + list(head.parameters())
    opt = torch.optim.AdamW(params, lr=2e-3, weight_decay=5e-4)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, a.steps) / a.steps)))
    rng = np.random.default_rng(a.seed)
    x_all = torch.from_numpy(train_x.reshape(-1, 1, 32, 32))
    y_all = torch.from_numpy(train_y.astype(np.int64))
    perm, at = rng.permutation(len(train_y)), 0
    model.train()
    start = time.time()
    for step in range(1, a.steps + 1):
        if at + a.batch > len(perm):
            perm, at = rng.permutation(len(train_y)), 0
        idx = torch.from_numpy(perm[at:at + a.batch])
        at += a.batch
        opt.zero_grad(set_to_none=True)
        loss = head(model(x_all[idx].float()), y_all[idx])
        loss.backward()
        opt.step()
        sched.step()
        if step % 50 == 0 or step == a.steps:
            el = time.time() - start
            print(f"step {step}/{a.steps} loss {loss.item():.4f} {step * a.batch / el:.0f} samples/s elapsed {el:.0f} s", flush=True)
    train_seconds = time.time() - start

    model.eval()
    with torch.no_grad():
        emb = torch.cat([model(torch.from_numpy(test_x[i:i + 256].reshape(-1, 1, 32, 32)).float())
                         for i in range(0, len(test_x), 256)]).numpy()
    labels = identity[test_rows].astype(np.int32)
    n = len(labels)
    iu, ju = np.triu_indices(n, 1)
    scores = np.einsum("ij,ij->i", emb[iu], emb[ju]).astype(np.float32)
    with h5py.File(out / "scores.h5", "w") as f:
        f.attrs["format"] = "alaverify-scores"
        f.attrs["format_version"] = 1
        f["scores/score"] = scores
        f["scores/label"] = (labels[iu] == labels[ju]).astype(np.uint8)
        f["scores/left_identity"] = labels[iu]
        f["scores/right_identity"] = labels[ju]
    json.dump({"steps": a.steps, "batch": a.batch, "train_seconds": train_seconds, "threads": a.threads,
               "torch": torch.__version__, "samples_per_s": a.steps * a.batch / train_seconds,
               "total_seconds": time.time() - t0}, open(out / "recipe.json", "w"), indent=1)
    print(f"trained {a.steps} steps in {train_seconds:.0f} s; wrote {out / 'scores.h5'} ({len(scores)} pairs)")


if __name__ == "__main__":
    main()
