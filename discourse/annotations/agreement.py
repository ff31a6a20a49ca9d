"""Inter-coder agreement over annotation rows: Cohen's kappa (two coders) and Krippendorff's alpha (any number,
nominal, missing codes allowed) per dimension, with bootstrap intervals, and the disagreement list to adjudicate.

Pure functions over plain rows (dicts with item_id, coder, relevant, stance, frames, as the store's
annotation_rows and its CSV/JSONL export give them); nothing here reads the store.

Dimensions: `relevance`; `stance_4way` (the stance, or "irrelevant" where a coder coded the item irrelevant);
`stance` (3-way, on the items every coder of the item coded relevant); and one binary dimension per codebook frame
(on those same items). A coder who left `relevant` empty has not coded the item.
"""

from __future__ import annotations

import csv
import json
import math
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional

import krippendorff
import numpy as np

from ..codebook import load_codebook

IRRELEVANT = "irrelevant"
RESAMPLES = 1000
CODE_FIELDS = ("relevant", "stance", "frames")
_TRUE, _FALSE = {"true", "1", "yes", "y", "t"}, {"false", "0", "no", "n", "f"}


# ---------------------------------------------------------------------------------------------------------------
# the two coefficients, from the maintained implementations

def cohen_kappa(first: list, second: list) -> float:
    """Cohen's kappa of two coders' codes on the same items (scikit-learn); nan where it is undefined (no items,
    or one code)."""
    if not len(first):
        return float("nan")
    from sklearn.metrics import cohen_kappa_score  # here, not at import: the served app seldom computes one

    return float(cohen_kappa_score(first, second))


def krippendorff_alpha(value_counts: np.ndarray) -> Optional[float]:
    """Nominal Krippendorff's alpha from a units x values matrix of how many coders gave each value to each unit
    (the `krippendorff` package); None where it is undefined (fewer than two values in all the data)."""
    counts = np.asarray(value_counts, dtype=float)
    if counts.shape[1] < 2 or np.count_nonzero(counts.sum(axis=0)) < 2:
        return None
    return float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))


# ---------------------------------------------------------------------------------------------------------------
# rows -> each item's codes per coder -> each dimension's values

def stance_or_irrelevant(code: dict) -> Optional[str]:
    """The 4-way stance: a relevant item's stance, "irrelevant" otherwise (None where the item is not coded)."""
    if code.get("relevant") is None:
        return None
    return code.get("stance") if code["relevant"] else IRRELEVANT


def normalise_row(row: dict) -> dict:
    """A row as the API gives it: `relevant` a bool or None, `stance` a codebook id or None, `frames` a sorted list;
    an exported CSV's strings ("true", "", '["a", "b"]' or "a;b") become those."""
    out = dict(row)
    out["relevant"] = _boolean(row.get("relevant"))
    out["stance"] = row.get("stance") or None
    out["frames"] = sorted(_frames(row.get("frames")))
    if isinstance(out.get("item_id"), str) and out["item_id"].strip().isdigit():
        out["item_id"] = int(out["item_id"])
    return out


def _boolean(value) -> Optional[bool]:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    if not text or text in ("none", "null"):
        return None
    raise ValueError(f"relevant must be true or false, got {value!r}")


def _frames(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        text = value.strip()
        value = json.loads(text) if text.startswith("[") else [p.strip() for p in text.replace("|", ";").split(";")]
    if not isinstance(value, (list, tuple)) or not all(isinstance(frame, str) for frame in value):
        raise ValueError(f"frames must be a list of codebook frame ids, got {value!r}")
    return [frame for frame in value if frame]


def codes_by_item(rows: Iterable[dict]) -> dict:
    """{item_id: {coder: row}} of the coded rows (relevant set); a later row of the same coder and item wins."""
    items: dict = {}
    for row in map(normalise_row, rows):
        if row["relevant"] is not None:
            items.setdefault(row["item_id"], {})[row["coder"]] = row
    return items


def dimension_values(items: dict, dimension: str, relevant: Optional[dict] = None) -> dict:
    """{item_id: {coder: value}} of one dimension: relevance, stance_4way, stance or frame:<id>. `relevant`: the
    items every coder coded relevant, where the caller has them already."""
    if dimension == "relevance":
        return {i: {c: code["relevant"] for c, code in codes.items()} for i, codes in items.items()}
    if dimension == "stance_4way":  # a coder who coded an item relevant but gave no stance is missing here
        return {i: {c: stance_or_irrelevant(code) for c, code in codes.items() if stance_or_irrelevant(code)}
                for i, codes in items.items()}
    if relevant is None:
        relevant = all_relevant(items)
    if dimension == "stance":
        return {i: {c: code["stance"] for c, code in codes.items() if code["stance"]} for i, codes in relevant.items()}
    frame = dimension.removeprefix("frame:")
    return {i: {c: frame in code["frames"] for c, code in codes.items()} for i, codes in relevant.items()}


def all_relevant(items: dict) -> dict:
    """The items every coder of the item coded relevant: where stance (3-way) and frames are compared."""
    return {i: codes for i, codes in items.items() if all(code["relevant"] for code in codes.values())}


# ---------------------------------------------------------------------------------------------------------------
# one dimension: point estimates and bootstrap intervals

class _Units:
    """One dimension's items coded by two or more coders, as the value-count matrix alpha needs and, where exactly
    two coders coded in the dimension, the paired codes kappa needs (every pairable item then has both)."""

    def __init__(self, values: dict):
        self.coders = sorted({c for codes in values.values() for c in codes})
        pairable = {i: codes for i, codes in values.items() if len(codes) >= 2}
        self.items = sorted(pairable, key=str)
        self.categories = sorted({str(v) for codes in pairable.values() for v in codes.values()})
        index = {value: k for k, value in enumerate(self.categories)}
        self.counts = np.zeros((len(self.items), len(self.categories)))
        for row, item in enumerate(self.items):
            for value in pairable[item].values():
                self.counts[row, index[str(value)]] += 1
        self.pairs = None
        if len(self.coders) == 2:
            self.pairs = np.array([[index[str(pairable[i][c])] for c in self.coders] for i in self.items],
                                  dtype=int).reshape(-1, 2)

    def kappa(self) -> Optional[float]:
        if self.pairs is None or len(self.categories) < 2:
            return None  # undefined with one code in all the data (scikit-learn would warn and give nan)
        codes = np.array(self.categories, dtype=object)
        return _finite(cohen_kappa(list(codes[self.pairs[:, 0]]), list(codes[self.pairs[:, 1]])))

    def alpha(self) -> Optional[float]:
        return krippendorff_alpha(self.counts) if len(self.items) else None

    def observed_agreement(self) -> Optional[float]:
        if not len(self.items):
            return None
        return float(np.mean(self.counts.max(axis=1) == self.counts.sum(axis=1)))


@lru_cache(maxsize=4)
def resample_weights(n_units: int, resamples: int, seed: int) -> np.ndarray:
    """resamples x n_units: how often each unit is drawn in each bootstrap resample (units with replacement).
    Cached, read-only: the frames of one report share their items, so they share the draws."""
    draws = np.random.default_rng(seed).integers(0, n_units, (resamples, n_units))
    draws += np.arange(resamples)[:, None] * n_units  # one bincount over all resamples, each in its own block
    weights = np.bincount(draws.ravel(), minlength=resamples * n_units).reshape(resamples, n_units).astype(float)
    weights.flags.writeable = False
    return weights


def bootstrap_kappa(pairs: np.ndarray, n_categories: int, weights: np.ndarray) -> np.ndarray:
    """Cohen's kappa on every resample at once. A resample is its units' 2 x 2 (or V x V) table of the two coders'
    codes, so each kappa is (p_o - p_e) / (1 - p_e) over the weighted table: the statistic cohen_kappa_score
    computes (tests/test_agreement.py checks them equal), vectorised because a thousand calls of it per dimension
    would take seconds per request."""
    total = weights.sum(axis=1)
    first, second = np.eye(n_categories)[pairs[:, 0]], np.eye(n_categories)[pairs[:, 1]]
    observed = weights @ (pairs[:, 0] == pairs[:, 1]) / total
    expected = ((weights @ first) * (weights @ second)).sum(axis=1) / total ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        return (observed - expected) / (1 - expected)


def bootstrap_alpha(counts: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Nominal alpha on every resample at once, from each unit's share of the coincidence matrix: the n_c are the
    weighted value counts and the diagonal sums sum_c n_uc (n_uc - 1) / (m_u - 1); alpha = 1 - (n - 1)(n - sum o_cc)
    / (n^2 - sum n_c^2), what krippendorff.alpha computes (checked equal in the tests)."""
    pairable = counts.sum(axis=1)
    diagonal = (counts * (counts - 1)).sum(axis=1) / (pairable - 1)
    n_c = weights @ counts
    n = n_c.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return 1 - (n - 1) * (n - weights @ diagonal) / (n ** 2 - (n_c ** 2).sum(axis=1))


def _interval(estimates: np.ndarray) -> Optional[list[float]]:
    finite = estimates[np.isfinite(estimates)]
    if not len(finite):
        return None
    low, high = np.percentile(finite, [2.5, 97.5])
    return [round(float(low), 4), round(float(high), 4)]


def _finite(value: Optional[float]) -> Optional[float]:
    return None if value is None or math.isnan(value) else value


def _rounded(value: Optional[float]) -> Optional[float]:
    return None if value is None else round(value, 4)


def dimension_agreement(values: dict, resamples: int = RESAMPLES, seed: int = 0) -> dict:
    """n (items coded by two or more coders), n_coders, observed agreement (share of those items where all agree),
    Cohen's kappa (exactly two coders, else None), nominal Krippendorff's alpha, and a 95 % percentile bootstrap
    interval of each (items resampled with replacement; `seed` makes them reproducible)."""
    units = _Units(values)
    kappa, alpha = units.kappa(), units.alpha()
    kappa_ci = alpha_ci = None
    if len(units.items) and resamples:
        weights = resample_weights(len(units.items), resamples, seed)
        if kappa is not None:
            kappa_ci = _interval(bootstrap_kappa(units.pairs, len(units.categories), weights))
        if alpha is not None:
            alpha_ci = _interval(bootstrap_alpha(units.counts, weights))
    return {"n": len(units.items), "n_coders": len(units.coders), "observed_agreement": _rounded(
        units.observed_agreement()), "cohen_kappa": _rounded(kappa), "cohen_kappa_ci": kappa_ci,
        "krippendorff_alpha": _rounded(alpha), "krippendorff_alpha_ci": alpha_ci}


# ---------------------------------------------------------------------------------------------------------------
# the disagreement list and the report

def _code(row: dict) -> dict:
    """What a coder decided about an item (stance and frames only count where the item is relevant)."""
    relevant = row["relevant"]
    return {"relevant": relevant, "stance": row["stance"] if relevant else None,
            "frames": row["frames"] if relevant else []}


def differing_dimensions(codes: dict) -> list[str]:
    """The dimensions on which the coders of one item ({coder: row}) differ: relevance, stance, frame:<id>."""
    decided = [_code(row) for row in codes.values()]
    differs = [name for name, field in (("relevance", "relevant"), ("stance", "stance"))
               if len({code[field] for code in decided}) > 1]
    frames = sorted({f for code in decided for f in code["frames"]})
    return differs + [f"frame:{f}" for f in frames if any(f not in code["frames"] for code in decided)]


def _adjudicated(row: dict) -> Optional[dict]:
    """The adjudicated code a store row carries beside the original (a dict under `adjudicated`, or the flat
    adjudicated_relevant/_stance/_frames columns of an export), or None."""
    if isinstance(row.get("adjudicated"), dict):
        return row["adjudicated"]
    if row.get("adjudicated_relevant") in (None, ""):
        return None
    flat = normalise_row({field: row.get(f"adjudicated_{field}") for field in CODE_FIELDS})
    return {field: flat[field] for field in CODE_FIELDS}


def _disagreeing(items: dict) -> dict:
    """{item_id: the dimensions that differ} of the items two or more coders coded differently."""
    differs = {item: differing_dimensions(codes) for item, codes in items.items() if len(codes) >= 2}
    return {item: found for item, found in differs.items() if found}


def disagreements(rows: Iterable[dict], coder: Optional[str] = None) -> list[dict]:
    """Items coded by two or more coders whose codes differ, with every coder's codes (and memo), the dimensions
    that differ and the adjudicated code where there is one. With `coder`, only the items that coder has coded:
    nobody sees another coder's codes for an item before coding it."""
    rows = [normalise_row(row) for row in rows]
    items = codes_by_item(rows)
    adjudicated = {row["item_id"]: code for row in rows if (code := _adjudicated(row))}
    out = []
    for item, differs in sorted(_disagreeing(items).items(), key=lambda pair: str(pair[0])):
        codes = items[item]
        if coder is not None and coder not in codes:
            continue
        first = next(iter(codes.values()))
        out.append({"item_id": item, **{k: first[k] for k in ("document_id", "start", "end", "text") if k in first},
                    "differs": differs,
                    "codes": {c: {**_code(row), "memo": row.get("memo")} for c, row in sorted(codes.items())},
                    "adjudicated": adjudicated.get(item)})
    return out


def resolved_codes(rows: Iterable[dict]) -> tuple[dict, Counter]:
    """The code each item counts with when a model is trained from the codes: the adjudicated one, else the one all
    its coders gave. Left out, counted by reason: items whose coders differ and that nobody adjudicated (either
    label would be a guess), items without a relevance code, relevant items without a stance."""
    rows = [normalise_row(row) for row in rows]
    items = codes_by_item(rows)
    adjudicated = {row["item_id"]: code for row in rows if (code := _adjudicated(row))}
    resolved, left_out = {}, Counter()
    for item in sorted({row["item_id"] for row in rows}, key=str):
        if item in adjudicated:
            decided = [_code(normalise_row(adjudicated[item]))]
        else:
            decided = [_code(row) for row in items.get(item, {}).values()]
        distinct = {(code["relevant"], code["stance"], tuple(code["frames"])) for code in decided}
        reason = ("no_relevance_code" if not distinct or decided[0]["relevant"] is None
                  else "unadjudicated_disagreement" if len(distinct) > 1
                  else "no_stance_code" if decided[0]["relevant"] and decided[0]["stance"] is None else None)
        if reason:
            left_out[reason] += 1
        else:
            resolved[item] = decided[0]
    return resolved, left_out


def dimensions(frames: Iterable[str]) -> list[str]:
    return ["relevance", "stance_4way", "stance", *(f"frame:{f}" for f in frames)]


def agreement_report(rows: Iterable[dict], *, frames: Optional[Iterable[str]] = None, resamples: int = RESAMPLES,
                     seed: int = 0) -> dict:
    """Agreement per dimension (relevance, stance 4-way and 3-way, each frame of the codebook or of `frames`) and
    the number of items to adjudicate: what `GET /v1/annotations/agreement` and `discourse annotations agreement`
    report."""
    frames = load_codebook().frames if frames is None else frames
    items = codes_by_item(rows)
    relevant = all_relevant(items)
    per = {name: dimension_agreement(dimension_values(items, name, relevant), resamples, seed)
           for name in dimensions(frames)}
    return {"n_items": len(items), "n_double_coded": sum(len(codes) >= 2 for codes in items.values()),
            "n_coders": len({c for codes in items.values() for c in codes}),
            "coders": sorted({c for codes in items.values() for c in codes}), "resamples": resamples, "seed": seed,
            "dimensions": {name: per[name] for name in per if not name.startswith("frame:")},
            "frames": {name.removeprefix("frame:"): per[name] for name in per if name.startswith("frame:")},
            "disagreements": len(_disagreeing(items))}


def read_annotation_file(path: Path) -> list[dict]:
    """The rows of an exported annotations file (.csv with a header, or .jsonl), normalised; a row without an
    item_id or a coder, or with a relevant that is not true/false/empty, is a ValueError naming its row."""
    path = Path(path)
    if path.suffix not in (".csv", ".jsonl"):
        raise ValueError(f"{path.name}: an annotations export is .csv or .jsonl")
    with open(path, encoding="utf-8", newline="") as handle:
        if path.suffix == ".csv":
            records = list(enumerate(csv.DictReader(handle), start=2))
        else:
            records = [(number, _json_object(line, number)) for number, line in enumerate(handle, 1) if line.strip()]
    return [_checked(row, f"{path.name} line {number}") for number, row in records]


def _json_object(line: str, number: int) -> dict:
    try:
        row = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"line {number} is not JSON: {exc.msg}") from None
    if not isinstance(row, dict):
        raise ValueError(f"line {number} is not a JSON object")
    return row


def _checked(row: dict, where: str) -> dict:
    missing = [field for field in ("item_id", "coder") if row.get(field) in (None, "")]
    if missing:
        raise ValueError(f"{where}: no {' or '.join(missing)} (columns as the annotations export writes them)")
    try:
        return normalise_row(row)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def format_report(report: dict) -> str:
    """The report as a table: one line per dimension and frame."""
    lines = [f"{report['n_items']} items, {report['n_double_coded']} coded by two or more of "
             f"{report['n_coders']} coders ({', '.join(report['coders'])}); {report['disagreements']} to adjudicate",
             f"{'dimension':<34}{'n':>6}{'agree':>8}{'kappa':>8}{'95% CI':>18}{'alpha':>8}{'95% CI':>18}"]
    named = {**report["dimensions"], **{f"frame {f}": v for f, v in report["frames"].items()}}
    for name, d in named.items():
        lines.append(f"{name:<34}{d['n']:>6}{_cell(d['observed_agreement'])}{_cell(d['cohen_kappa'])}"
                     f"{_ci(d['cohen_kappa_ci'])}{_cell(d['krippendorff_alpha'])}{_ci(d['krippendorff_alpha_ci'])}")
    return "\n".join(lines)


def _cell(value: Optional[float]) -> str:
    return f"{'-' if value is None else f'{value:.3f}':>8}"


def _ci(interval: Optional[list[float]]) -> str:
    return f"{'-' if interval is None else f'[{interval[0]:.3f}, {interval[1]:.3f}]':>18}"
