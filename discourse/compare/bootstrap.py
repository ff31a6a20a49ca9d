"""Shares of stance, frames and topics on two sides, with cluster-bootstrap intervals for each and their difference.

Units are not independent. Twenty sentences of one interviewed mother share her situation and her way of
talking; thirty sentences of one policy note share its authors. Resampling units as if each were a fresh draw
would treat one talkative speaker as twenty witnesses and give intervals that are too narrow. So we resample
the clusters (speakers, documents) with replacement, within each side, keep all units of a drawn cluster, and
recompute the statistic: the percentile interval of the resampled values is the interval we report.

The shares here (stance, frame, topic) are all ratios of sums over units, Σ indicator / Σ weight. That makes the
bootstrap a matrix product: per cluster we sum the indicators once, and a resample is a vector of how many
times each cluster was drawn. 2,000 resamples of 20,000 units in 500 clusters then take a fraction of a second.
A statistic that is not such a share still works (any callable on a list of units), by the slow route of
rebuilding the unit list for every resample.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from ..codebook import STANCES, load_codebook
from . import Unit

# Indicators of a share statistic: (keys, matrix n_units × n_keys, weights n_units). The share of key k is
# Σ matrix[:, k] / Σ weights.
Indicators = tuple[list[Hashable], np.ndarray, np.ndarray]

# Cap on the cells of one resample-count matrix (resamples × clusters): bounds memory (draws + counts) at ~64 MB however many
# clusters there are (a news corpus with 50,000 documents is 50,000 clusters).
_MAX_CELLS = 4_000_000


@dataclass(frozen=True)
class ShareStatistic:
    """A statistic that is a share per key, Σ indicator / Σ weight over units: callable like any statistic,
    and recognised by cluster_bootstrap, which then resamples by matrix products instead of loops."""

    name: str
    indicators: Callable[..., Indicators]
    sort_keys: bool = False  # sort the union of A's and B's keys (topic ids) instead of keeping first-seen order
    args: tuple = ()  # bound arguments after `units`, as functools.partial would bind them
    options: dict = field(default_factory=dict)

    def __call__(self, units: Sequence[Unit], *args, **options) -> dict[Hashable, float]:
        keys, matrix, weights = self.compute(units, *args, **options)
        total = weights.sum()
        return {key: float(matrix[:, i].sum() / total) if total > 0 else float("nan") for i, key in enumerate(keys)}

    def compute(self, units: Sequence[Unit], *args, **options) -> Indicators:
        return self.indicators(units, *(self.args + args), **{**self.options, **options})


@dataclass(frozen=True)
class Interval:
    """One key's comparison: the estimates on the full data, percentile intervals and a bootstrap p-value."""

    a: float
    a_low: float
    a_high: float
    b: float
    b_low: float
    b_high: float
    diff: float  # a − b
    diff_low: float
    diff_high: float
    p_value: float  # two-sided, for "difference = 0"; floored at 1 / n_resamples

    def to_dict(self) -> dict:
        return asdict(self)


def _stance_indicators(units: Sequence[Unit]) -> Indicators:
    index = {stance: i for i, stance in enumerate(STANCES)}
    matrix = np.zeros((len(units), len(STANCES)))
    for row, unit in enumerate(units):
        if unit.stance not in index:
            raise ValueError(f"unit in cluster {unit.cluster!r}: stance {unit.stance!r} is not one of {STANCES}")
        matrix[row, index[unit.stance]] = 1.0
    return list(STANCES), matrix, np.ones(len(units))


def _frame_indicators(units: Sequence[Unit], frames: Sequence[str] | None = None) -> Indicators:
    # Every unit is in the denominator, neutral ones too: "share of units carrying the frame" on this side.
    frames = list(load_codebook().frames if frames is None else frames)
    index = {frame: i for i, frame in enumerate(frames)}
    matrix = np.zeros((len(units), len(frames)))
    for row, unit in enumerate(units):
        for frame in set(unit.frames):
            if frame in index:
                matrix[row, index[frame]] = 1.0
    return frames, matrix, np.ones(len(units))


def _topic_indicators(units: Sequence[Unit]) -> Indicators:
    # A unit with topic None was not topic-modelled: it counts in no share and in no denominator. Topic -1 (the
    # outliers of a BERTopic-style model) is a topic like any other here, so the shares of a side sum to 1.
    topics = sorted({unit.topic for unit in units if unit.topic is not None})
    index = {topic: i for i, topic in enumerate(topics)}
    matrix = np.zeros((len(units), len(topics)))
    weights = np.zeros(len(units))
    for row, unit in enumerate(units):
        if unit.topic is not None:
            matrix[row, index[unit.topic]] = 1.0
            weights[row] = 1.0
    return topics, matrix, weights


# stance_distribution(units): share of units per stance, in STANCES order.
stance_distribution = ShareStatistic("stance", _stance_indicators)

# frame_distribution(units) uses the codebook's frames, frame_distribution(units, frames) the given ones. As a
# bootstrap statistic with other frames pass functools.partial(frame_distribution, frames=frames): cluster_bootstrap
# sees through a partial and keeps the fast path (a lambda would take the slow one).
frame_distribution = ShareStatistic("frames", _frame_indicators)

topic_prevalence = ShareStatistic("topics", _topic_indicators, sort_keys=True)


def cluster_bootstrap(units_a: Sequence[Unit], units_b: Sequence[Unit],
                      statistic: Callable[[list[Unit]], dict[Hashable, float]], n_resamples: int = 2000,
                      seed: int = 0, confidence: float = 0.95) -> dict[Hashable, Interval]:
    """Per key of `statistic`: estimates for A, B and A − B with cluster-bootstrap percentile intervals and a
    two-sided bootstrap p-value. Clusters are resampled with replacement within each side, independently."""
    if not units_a or not units_b:
        raise ValueError(f"both sides need units (A has {len(units_a)}, B has {len(units_b)})")
    if n_resamples < 1 or not 0 < confidence < 1:
        raise ValueError("n_resamples must be >= 1 and confidence in (0, 1)")
    rng = np.random.default_rng(seed)
    share = _as_share(statistic)
    if share is not None:
        keys, estimate_a, estimate_b, resampled_a, resampled_b = _share_bootstrap(share, units_a, units_b,
                                                                                  n_resamples, rng)
    else:
        keys, estimate_a, estimate_b, resampled_a, resampled_b = _generic_bootstrap(statistic, units_a, units_b,
                                                                                    n_resamples, rng)
    return _intervals(keys, estimate_a, estimate_b, resampled_a, resampled_b, n_resamples, confidence)


def _as_share(statistic: Callable) -> ShareStatistic | None:
    """The ShareStatistic behind `statistic` (itself, or a functools.partial of it with keyword options)."""
    if isinstance(statistic, ShareStatistic):
        return statistic
    if isinstance(statistic, functools.partial) and isinstance(statistic.func, ShareStatistic):
        inner = statistic.func
        return ShareStatistic(inner.name, inner.indicators, inner.sort_keys, inner.args + statistic.args,
                              {**inner.options, **statistic.keywords})
    return None


def _share_bootstrap(share: ShareStatistic, units_a: Sequence[Unit], units_b: Sequence[Unit], n_resamples: int,
                     rng: np.random.Generator):
    keys_a, matrix_a, weights_a = share.compute(units_a)
    keys_b, matrix_b, weights_b = share.compute(units_b)
    keys = _union(keys_a, keys_b, share.sort_keys)
    sums_a, totals_a = _cluster_sums(units_a, _align(matrix_a, keys_a, keys), weights_a)
    sums_b, totals_b = _cluster_sums(units_b, _align(matrix_b, keys_b, keys), weights_b)
    return (keys, _ratio(sums_a.sum(axis=0), totals_a.sum()), _ratio(sums_b.sum(axis=0), totals_b.sum()),
            _resample_shares(sums_a, totals_a, n_resamples, rng), _resample_shares(sums_b, totals_b, n_resamples, rng))


def _union(keys_a: list, keys_b: list, sort: bool) -> list:
    seen = set(keys_a)
    keys = list(keys_a) + [key for key in keys_b if key not in seen]
    return sorted(keys) if sort else keys


def _align(matrix: np.ndarray, own_keys: list, keys: list) -> np.ndarray:
    """Columns in the order of `keys`; a key this side never has is a column of zeros."""
    aligned = np.zeros((matrix.shape[0], len(keys)))
    position = {key: i for i, key in enumerate(own_keys)}
    for column, key in enumerate(keys):
        if key in position:
            aligned[:, column] = matrix[:, position[key]]
    return aligned


def _cluster_ids(units: Sequence[Unit]) -> tuple[np.ndarray, int]:
    index: dict[str, int] = {}
    ids = np.fromiter((index.setdefault(unit.cluster, len(index)) for unit in units), dtype=np.int64,
                      count=len(units))
    return ids, len(index)


def _cluster_sums(units: Sequence[Unit], matrix: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per cluster: the summed indicators (clusters × keys) and the summed weights."""
    ids, n_clusters = _cluster_ids(units)
    sums = np.zeros((n_clusters, matrix.shape[1]))
    np.add.at(sums, ids, matrix)
    return sums, np.bincount(ids, weights=weights, minlength=n_clusters)


def _resample_shares(sums: np.ndarray, totals: np.ndarray, n_resamples: int,
                     rng: np.random.Generator) -> np.ndarray:
    """n_resamples × keys shares: each resample draws as many clusters as there are, with replacement, and is
    summarised by how often each cluster was drawn — a row of counts, so the resampled sums are counts @ sums."""
    n_clusters = sums.shape[0]
    out = np.empty((n_resamples, sums.shape[1]))
    step = max(1, _MAX_CELLS // n_clusters)
    for start in range(0, n_resamples, step):
        rows = min(step, n_resamples - start)
        draws = rng.integers(0, n_clusters, size=(rows, n_clusters))
        offsets = (np.arange(rows) * n_clusters)[:, None]
        counts = np.bincount((draws + offsets).ravel(), minlength=rows * n_clusters).reshape(rows, n_clusters)
        out[start:start + rows] = _ratio(counts @ sums, counts @ totals)
    return out


def _ratio(numerator: np.ndarray, denominator) -> np.ndarray:
    """numerator / denominator with NaN where the denominator is 0 (a resample with no topic-modelled unit)."""
    denominator = np.asarray(denominator, dtype=float)
    if numerator.ndim == 2:
        denominator = denominator[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denominator > 0, numerator / np.where(denominator > 0, denominator, 1.0), np.nan)


def _generic_bootstrap(statistic: Callable, units_a: Sequence[Unit], units_b: Sequence[Unit], n_resamples: int,
                       rng: np.random.Generator):
    """Any statistic: rebuild each resample's unit list and call it. A key a resample lacks counts as 0."""
    estimate_a, estimate_b = statistic(list(units_a)), statistic(list(units_b))
    keys = _union(list(estimate_a), list(estimate_b), sort=False)
    resampled = []
    for units in (units_a, units_b):
        clusters: dict[str, list[Unit]] = {}
        for unit in units:
            clusters.setdefault(unit.cluster, []).append(unit)
        members = list(clusters.values())
        values = np.empty((n_resamples, len(keys)))
        for r in range(n_resamples):
            drawn = rng.integers(0, len(members), size=len(members))
            result = statistic([unit for c in drawn for unit in members[c]])
            values[r] = [result.get(key, 0.0) for key in keys]
        resampled.append(values)
    return (keys, np.array([estimate_a.get(k, 0.0) for k in keys]), np.array([estimate_b.get(k, 0.0) for k in keys]),
            resampled[0], resampled[1])


def _intervals(keys: list, estimate_a: np.ndarray, estimate_b: np.ndarray, resampled_a: np.ndarray,
               resampled_b: np.ndarray, n_resamples: int, confidence: float) -> dict[Hashable, Interval]:
    # A and B are resampled independently, so pairing resample r of A with resample r of B is a draw from the
    # bootstrap distribution of the difference.
    diff = resampled_a - resampled_b
    tails = [50 * (1 - confidence), 50 * (1 + confidence)]
    out = {}
    for i, key in enumerate(keys):
        (a_low, a_high), (b_low, b_high), (d_low, d_high) = (_percentiles(values[:, i], tails)
                                                             for values in (resampled_a, resampled_b, diff))
        out[key] = Interval(
            a=float(estimate_a[i]), a_low=a_low, a_high=a_high, b=float(estimate_b[i]), b_low=b_low, b_high=b_high,
            diff=float(estimate_a[i] - estimate_b[i]), diff_low=d_low, diff_high=d_high,
            p_value=_p_value(diff[:, i], n_resamples))
    return out


def _percentiles(values: np.ndarray, tails: list[float]) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    low, high = np.percentile(finite, tails)
    return float(low), float(high)


def _p_value(diff: np.ndarray, n_resamples: int) -> float:
    """Two-sided: twice the smaller tail of the resampled differences at 0, at least 1 / n_resamples (a bootstrap
    of n resamples cannot tell p below that) and at most 1."""
    finite = diff[np.isfinite(diff)]
    if finite.size == 0:
        return float("nan")
    tail = min(float(np.mean(finite <= 0)), float(np.mean(finite >= 0)))
    return float(min(1.0, max(2.0 * tail, 1.0 / n_resamples)))
