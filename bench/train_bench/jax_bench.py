"""JAX (CPU, jit) peer of train-bench: same MLP/CNN, same pairwise binned loss at its
binomial-deviance initial parameters, AdamW, P x K = 32 x 8 batches from the same data.

Prints one JSON line like train-bench's throughput mode.
"""
import argparse, json, time
import numpy as np
import jax, jax.numpy as jnp

p = argparse.ArgumentParser()
p.add_argument("--data", default="bench/out")
p.add_argument("--model", default="mlp")
p.add_argument("--batch", type=int, default=256)
p.add_argument("--warmup", type=int, default=5)
p.add_argument("--steps", type=int, default=10)
p.add_argument("--repeats", type=int, default=5)
a = p.parse_args()

images = np.fromfile(f"{a.data}/images.u8", dtype=np.uint8).reshape(-1, 32, 32)
labels = np.fromfile(f"{a.data}/labels.i32", dtype=np.int32)
ids = np.unique(labels)
held = set(ids[4::5].tolist())
keep = np.array([l not in held for l in labels])
images, labels = images[keep], labels[keep]
members = [np.flatnonzero(labels == i) for i in np.unique(labels)]
K = 8
P = a.batch // K
rng = np.random.default_rng(2)

def sample():
    cls = rng.choice(len(members), P, replace=False)
    idx = np.concatenate([rng.choice(members[c], K, replace=len(members[c]) < K) for c in cls])
    return images[idx][:, None, :, :], np.repeat(cls, K).astype(np.int32)

key = jax.random.PRNGKey(1)

def he(key, shape, fan_in):
    return jax.random.normal(key, shape, jnp.float32) * np.sqrt(2.0 / fan_in)

def init_mlp(key):
    k = jax.random.split(key, 3)
    params = {"l0": he(k[0], (1024, 512), 1024), "g0": jnp.ones(512), "b0": jnp.zeros(512),
              "l1": he(k[1], (512, 256), 512), "g1": jnp.ones(256), "b1": jnp.zeros(256),
              "out": he(k[2], (256, 128), 256), "out_b": jnp.zeros(128)}
    stats = {"m0": jnp.zeros(512), "v0": jnp.ones(512), "m1": jnp.zeros(256), "v1": jnp.ones(256)}
    return params, stats

def init_cnn(key):
    k = jax.random.split(key, 4)
    params, stats, cin = {}, {}, 1
    for s, c in enumerate([32, 64, 128]):
        params[f"c{s}"] = he(k[s], (c, cin, 3, 3), cin * 9)
        params[f"g{s}"], params[f"b{s}"] = jnp.ones(c), jnp.zeros(c)
        stats[f"m{s}"], stats[f"v{s}"] = jnp.zeros(c), jnp.ones(c)
        cin = c
    params["out"], params["out_b"] = he(k[3], (128, 128), 128), jnp.zeros(128)
    return params, stats

def bn(x, g, b, m, v, axes):
    mean = x.mean(axes)
    var = x.var(axes)
    shape = [1] * x.ndim
    shape[1] = -1
    y = (x - mean.reshape(shape)) / jnp.sqrt(var.reshape(shape) + 1e-5) * g.reshape(shape) + b.reshape(shape)
    n = x.size // x.shape[1]
    return y, 0.9 * m + 0.1 * mean, 0.9 * v + 0.1 * var * n / (n - 1)

def mlp(params, stats, x):
    x = (x.astype(jnp.float32) - 127.5) / 127.5
    x = x.reshape(x.shape[0], -1)
    new = {}
    for i in range(2):
        x = x @ params[f"l{i}"]
        x, new[f"m{i}"], new[f"v{i}"] = bn(x, params[f"g{i}"], params[f"b{i}"], stats[f"m{i}"], stats[f"v{i}"], (0,))
        x = jax.nn.relu(x)
    x = x @ params["out"] + params["out_b"]
    return x / jnp.maximum(jnp.linalg.norm(x, axis=1, keepdims=True), 1e-6), new

def cnn(params, stats, x):
    x = (x.astype(jnp.float32) - 127.5) / 127.5
    new = {}
    for s in range(3):
        x = jax.lax.conv_general_dilated(x, params[f"c{s}"], (1, 1), ((1, 1), (1, 1)),
                                         dimension_numbers=("NCHW", "OIHW", "NCHW"))
        x, new[f"m{s}"], new[f"v{s}"] = bn(x, params[f"g{s}"], params[f"b{s}"], stats[f"m{s}"], stats[f"v{s}"], (0, 2, 3))
        x = jax.nn.relu(x)
        x = jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
    x = x.mean((2, 3))
    x = x @ params["out"] + params["out_b"]
    return x / jnp.maximum(jnp.linalg.norm(x, axis=1, keepdims=True), 1e-6), new

B = 8
phi = jnp.array([2.0, 0.5, 0.5, 0.5] + [1.0] * (2 * B), jnp.float32)

def pairwise_loss(e, y):
    s = e @ e.T
    n = e.shape[0]
    upper = jnp.triu(jnp.ones((n, n), bool), 1)
    same = (y[:, None] == y[None, :])
    gen, imp = upper & same, upper & ~same
    alpha, mg, mi, beta = phi[0], phi[1], phi[2], phi[3]
    b = jnp.clip(jnp.floor((s + 1) * 0.5 * B).astype(jnp.int32), 0, B - 1)
    wg = jax.lax.stop_gradient(phi[4:4 + B][b])
    wi = jax.lax.stop_gradient(phi[4 + B:][b])
    lg = jnp.sum(jnp.where(gen, wg * jax.nn.softplus(alpha * (mg - s)), 0.0)) / jnp.maximum(gen.sum(), 1)
    li = jnp.sum(jnp.where(imp, wi * jax.nn.softplus(alpha * (s - mi)), 0.0)) / jnp.maximum(imp.sum(), 1)
    return 2 * beta * lg + 2 * (1 - beta) * li

net = mlp if a.model == "mlp" else cnn
params, stats = (init_mlp if a.model == "mlp" else init_cnn)(key)
decays = {k: (k.startswith("l") or k.startswith("c") or k == "out") for k in params}
opt = {"m": jax.tree_util.tree_map(jnp.zeros_like, params), "v": jax.tree_util.tree_map(jnp.zeros_like, params), "t": 0.0}

@jax.jit
def step(params, stats, opt, x, y):
    def f(p):
        e, new = net(p, stats, x)
        return pairwise_loss(e, y), new
    (loss, new), g = jax.value_and_grad(f, has_aux=True)(params)
    t = opt["t"] + 1
    lr, b1, b2, eps, wd = 1e-3, 0.9, 0.999, 1e-8, 1e-4
    m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, opt["m"], g)
    v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, opt["v"], g)
    def upd(k):
        w = params[k] * (1 - lr * wd) if decays[k] else params[k]
        return w - lr * (m[k] / (1 - b1 ** t)) / (jnp.sqrt(v[k] / (1 - b2 ** t)) + eps)
    return {k: upd(k) for k in params}, new, {"m": m, "v": v, "t": t}, loss

for _ in range(a.warmup):
    x, y = sample()
    params, stats, opt, loss = step(params, stats, opt, x, y)
loss.block_until_ready()
rates = []
for _ in range(a.repeats):
    t0 = time.perf_counter()
    for _ in range(a.steps):
        x, y = sample()
        params, stats, opt, loss = step(params, stats, opt, x, y)
    loss.block_until_ready()
    rates.append(a.steps * a.batch / (time.perf_counter() - t0))
print(json.dumps({"impl": "jax", "jax": jax.__version__, "model": a.model, "batch": a.batch,
                  "median_samples_per_s": float(np.median(rates)), "samples_per_s": rates, "loss": float(loss)}))
