"""An independent reference implementation of SPEC section 2 (metric definitions).

Written from the text of /work/shared/SPEC.md section 2, not from the Swift engine. It favours
plainness over speed: every quantity is computed from its definition over the set of candidate
thresholds (the distinct observed scores plus +inf), with numpy only.

Conventions (SPEC section 2):
  * similarity scores: a comparison is accepted iff score >= t;
  * FAR(t) = #{i in I : i >= t} / nI, FRR(t) = #{g in G : g < t} / nG, where nG and nI count
    failed comparisons (NaN) too; NaN is never accepted (a false reject for genuine, never a
    false accept for impostor);
  * "FAR(t) <= a" is decided on counts: k <= a * nI evaluated in double precision;
  * in roc_auc and average_precision NaN ranks below every score (as -inf);
  * distance polarity: scores are negated, thresholds reported back in input units.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np


@dataclass
class OperatingPointResult:
    name: str
    target: float
    rule: str
    reachable: bool
    threshold: float | None  # input units
    far: float | None
    frr: float | None
    false_accepts: int | None
    false_rejects: int | None
    estimable: bool


@dataclass
class Result:
    genuine: int
    impostor: int
    genuine_failed: int
    impostor_failed: int
    eer: float | None
    eer_threshold: float | None
    eer_rocch: float
    roc_auc: float
    average_precision: float
    operating_points: list[OperatingPointResult] = field(default_factory=list)
    pauc: dict[float, float] = field(default_factory=dict)


class Scores:
    """Genuine/impostor scores on the similarity scale with the candidate thresholds."""

    def __init__(self, genuine, impostor, polarity: str = "similarity"):
        g = np.asarray(genuine, dtype=np.float64)
        i = np.asarray(impostor, dtype=np.float64)
        if g.size == 0 or i.size == 0:
            raise ValueError("both classes need at least one comparison")
        self.sign = -1.0 if polarity == "distance" else 1.0
        g = g * self.sign
        i = i * self.sign
        self.nG = int(g.size)
        self.nI = int(i.size)
        self.fG = int(np.isnan(g).sum())
        self.fI = int(np.isnan(i).sum())
        # -0 == +0 under IEEE comparison; np.sort keeps the order-insensitive counts right.
        self.g = np.sort(g[~np.isnan(g)])
        self.i = np.sort(i[~np.isnan(i)])
        observed = np.unique(np.concatenate([self.g, self.i]))
        # Candidate thresholds: the distinct observed scores plus +inf (reject all), ascending.
        self.thresholds = np.unique(np.concatenate([observed, [np.inf]]))
        self.fa = self.false_accepts(self.thresholds)
        self.fr = self.false_rejects(self.thresholds)

    def false_accepts(self, t):
        """#{i >= t} for each t (NaN impostors never accepted)."""
        return self.i.size - np.searchsorted(self.i, t, side="left")

    def false_rejects(self, t):
        """failures + #{g < t} for each t."""
        return self.fG + np.searchsorted(self.g, t, side="left")

    def report(self, t: float) -> float:
        """A similarity-scale threshold in input units."""
        return self.sign * t


def allowed(rate: float, n: int) -> int:
    """Largest k with k <= rate * n, the product taken in double precision (SPEC)."""
    return int(math.floor(rate * n))


def _point(s: Scores, name, target, rule, t, estimable) -> OperatingPointResult:
    if t is None:
        return OperatingPointResult(name, target, rule, False, None, None, None, None, None, estimable)
    fa = int(s.false_accepts(t))
    fr = int(s.false_rejects(t))
    return OperatingPointResult(name, target, rule, True, s.report(float(t)), fa / s.nI, fr / s.nG, fa, fr, estimable)


def frr_at_far(s: Scores, a: float, rule: str = "roc") -> OperatingPointResult:
    """frr@far=a: roc = smallest candidate t with FA(t) <= a*nI; impostor = lowest impostor
    score value (or +inf) with FA(t) <= a*nI. Unreachable when no candidate qualifies."""
    k = allowed(a, s.nI)
    if rule == "roc":
        cands = s.thresholds
        ok = s.fa <= k
    elif rule == "impostor":
        cands = np.unique(np.concatenate([s.i, [np.inf]]))
        ok = s.false_accepts(cands) <= k
    else:
        raise ValueError(rule)
    t = float(cands[ok].min()) if ok.any() else None
    return _point(s, f"frr@far={a:g}", a, rule, t, a * s.nI >= 3)


def far_at_frr(s: Scores, b: float) -> OperatingPointResult:
    """far@frr=b: largest candidate t with FR(t) <= b*nG; unreachable when none."""
    k = allowed(b, s.nG)
    ok = s.fr <= k
    t = float(s.thresholds[ok].max()) if ok.any() else None
    return _point(s, f"far@frr={b:g}", b, "roc", t, b * s.nG >= 3)


def det_points(s: Scores):
    """(FAR, FRR, threshold) over candidate thresholds, descending threshold (FAR ascending)."""
    order = np.arange(s.thresholds.size)[::-1]
    return s.fa[order] / s.nI, s.fr[order] / s.nG, s.thresholds[order]


def polyline_eer(x, y):
    """Where the polyline (x[j], y[j]) first reaches x >= y: (value, segment index, s)."""
    d = x - y
    hits = np.nonzero(d >= 0)[0]
    if hits.size == 0:
        return None
    j = int(hits[0])
    if j == 0:
        return (float(x[0]), 0, 0.0) if d[0] == 0 else None
    s = -d[j - 1] / (d[j] - d[j - 1])
    return float(x[j - 1] + s * (x[j] - x[j - 1])), j, float(s)


def eer(s: Scores):
    x, y, t = det_points(s)
    hit = polyline_eer(x, y)
    if hit is None:
        return None, None
    value, j, _ = hit
    if j == 0:
        return value, s.report(float(t[0]))
    # The threshold nearest the crossing; the stricter (larger) one on a tie. Decided exactly:
    # FAR - FRR = D / (nI nG) with D = FA nG - FR nI (Python ints), and the crossing parameter
    # s = -D0 / (D1 - D0) is <= 1/2 iff -D0 <= D1.
    order = np.arange(s.thresholds.size)[::-1]
    fa, fr = s.fa[order], s.fr[order]
    d0 = int(fa[j - 1]) * s.nG - int(fr[j - 1]) * s.nI
    d1 = int(fa[j]) * s.nG - int(fr[j]) * s.nI
    nearer = t[j - 1] if -d0 <= d1 else t[j]
    return value, s.report(float(nearer))


def lower_hull(points):
    """Andrew's monotone chain, lower part, of points sorted by (x, y)."""
    pts = sorted(set(points))
    hull = []
    for p in pts:
        while len(hull) >= 2:
            (ox, oy), (ax, ay) = hull[-2], hull[-1]
            if (ax - ox) * (p[1] - oy) - (ay - oy) * (p[0] - ox) <= 0:
                hull.pop()
            else:
                break
        hull.append(p)
    return hull


def eer_rocch(s: Scores) -> float:
    x, y, _ = det_points(s)
    pts = list(zip(x.tolist(), y.tolist())) + [(0.0, 1.0), (1.0, 0.0)]
    hull = lower_hull(pts)
    hx = np.array([p[0] for p in hull])
    hy = np.array([p[1] for p in hull])
    return polyline_eer(hx, hy)[0]


def ranked_as_neg_inf(values):
    v = np.asarray(values, dtype=np.float64).copy()
    v[np.isnan(v)] = -np.inf
    return v


def roc_auc(genuine, impostor, sign=1.0) -> float:
    """Mann-Whitney with mid-ranks: P(g > i) + 0.5 P(g = i), NaN as -inf."""
    g = ranked_as_neg_inf(np.asarray(genuine, dtype=np.float64) * sign)
    i = ranked_as_neg_inf(np.asarray(impostor, dtype=np.float64) * sign)
    allv = np.concatenate([g, i])
    uniq, inverse, counts = np.unique(allv, return_inverse=True, return_counts=True)
    first_rank = np.cumsum(counts) - counts + 1  # 1-based rank of each value's first copy
    mid = first_rank + (counts - 1) / 2.0
    rank_sum = mid[inverse[: g.size]].sum()
    u = rank_sum - g.size * (g.size + 1) / 2.0
    return float(u / (g.size * i.size))


def average_precision(genuine, impostor, sign=1.0) -> float:
    """sum over distinct thresholds (descending) of (R_n - R_{n-1}) * P_n, NaN as -inf."""
    g = np.sort(ranked_as_neg_inf(np.asarray(genuine, dtype=np.float64) * sign))
    i = np.sort(ranked_as_neg_inf(np.asarray(impostor, dtype=np.float64) * sign))
    t = np.unique(np.concatenate([g, i]))[::-1]
    tp = g.size - np.searchsorted(g, t, side="left")
    fp = i.size - np.searchsorted(i, t, side="left")
    recall = tp / g.size
    precision = tp / (tp + fp)
    prev = np.concatenate([[0.0], recall[:-1]])
    return float(np.sum((recall - prev) * precision))


def partial_auc(s: Scores, a: float) -> float:
    """Area under TPR(FAR) on [0, a], linear between ROC points from (0, 0), divided by a;
    TPR held at its last value when the curve ends before FAR = a (failed impostors)."""
    x, y, _ = det_points(s)
    xs = [0.0] + x.tolist()
    ys = [0.0] + (1.0 - y).tolist()
    area = 0.0
    for j in range(1, len(xs)):
        x0, y0, x1, y1 = xs[j - 1], ys[j - 1], xs[j], ys[j]
        if x1 >= a:
            ya = y0 if x1 == x0 else y0 + (y1 - y0) * (a - x0) / (x1 - x0)
            area += (a - x0) * (y0 + ya) / 2
            return area / a
        area += (x1 - x0) * (y0 + y1) / 2
    area += (a - xs[-1]) * ys[-1]
    return area / a


def evaluate(genuine, impostor, fars=(), frrs=(), rule="roc", polarity="similarity", paucs=()) -> Result:
    s = Scores(genuine, impostor, polarity)
    e, et = eer(s)
    res = Result(
        genuine=s.nG, impostor=s.nI, genuine_failed=s.fG, impostor_failed=s.fI,
        eer=e, eer_threshold=et, eer_rocch=eer_rocch(s),
        roc_auc=roc_auc(genuine, impostor, s.sign),
        average_precision=average_precision(genuine, impostor, s.sign),
    )
    for a in fars:
        res.operating_points.append(frr_at_far(s, a, rule))
    for b in frrs:
        res.operating_points.append(far_at_frr(s, b))
    for a in paucs:
        res.pauc[a] = partial_auc(s, a)
    return res


def identity_pair_counts(impostor, left, right, threshold):
    """(distinct unordered identity pairs among impostor comparisons, among false accepts)."""
    left = np.asarray(left)
    right = np.asarray(right)
    lo = np.minimum(left, right)
    hi = np.maximum(left, right)
    pairs = set(zip(lo.tolist(), hi.tolist()))
    imp = np.asarray(impostor, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        accepted = imp >= threshold
    fa_pairs = set(zip(lo[accepted].tolist(), hi[accepted].tolist()))
    return len(pairs), len(fa_pairs)


if __name__ == "__main__":
    # Tiny smoke run: python3 reference_metrics.py
    r = evaluate([0.2, 0.5, 0.5, 0.9, float("nan")], [0.1, 0.2, 0.3, 0.5, 0.5, float("nan")],
                 fars=[0.2, 0.4], frrs=[0.2, 0.5])
    print(r)
