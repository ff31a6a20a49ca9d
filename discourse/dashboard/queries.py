"""The dashboard's questions, answered from the in-memory columns (facts.py).

Every function takes the snapshot and validated parameters (params.py) and returns plain dicts and lists,
ready for JSON or CSV. The unit is a sentence with a stance label whose relevance reaches `min_relevance`;
interviewer turns are left out unless `role` asks for them (the questions are the researcher's words).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from discourse.codebook import STANCES, load_codebook

from .facts import NO_TOPIC, ROLE_NAMES, UNDATED, Facts
from .filtering import check_names, filter_mask
from .params import (DocumentListParams, Filters, GroupParams, MatrixParams, QueryError, TimeseriesParams)

EPOCH = np.datetime64("1970-01-01", "D")


@dataclass
class Selection:
    """The rows (indices into the snapshot) a filter keeps, and what the grouping functions need of them."""

    facts: Facts
    rows: np.ndarray
    version: str
    topics: np.ndarray | None  # the topic column of the filter's topic_model, when it has one
    lang: str

    @property
    def labels(self) -> np.ndarray:
        return self.facts.label[self.rows]

    @property
    def docs(self) -> np.ndarray:
        return self.facts.doc[self.rows]


def select(facts: Facts, params: Filters, version: str | None, topics: np.ndarray | None) -> Selection:
    """Apply every filter; raise QueryError naming the field when a value does not exist in the store."""
    segment_filter = params.segment_filter()
    # Names are checked against the store first: an unknown source is the same 422 whether the store is empty
    # or not, and whichever model version is asked for.
    check_names(facts, segment_filter)
    asked = next((c for c in segment_filter.conditions if c.column == "model_version"), None)
    version = asked.value if asked else version
    if version is None or version not in facts.versions:
        if asked:
            raise QueryError(asked.param or "model_version", f"no scores of model version {asked.value!r}; the "
                                                             f"store has {', '.join(facts.versions) or 'none'}")
        return Selection(facts, np.zeros(0, np.int64), version or "", topics, params.lang)
    topic_model = segment_filter.get("topic_model")
    if topic_model and topics is None:
        raise QueryError("topic_model", f"the store has no topic assignments of {topic_model!r}", 404)
    mask = facts.version == facts.versions.index(version)
    mask &= facts.label >= 0  # the unit: a sentence with a stance
    mask &= filter_mask(facts, segment_filter, topics)
    return Selection(facts, np.flatnonzero(mask), version, topics, params.lang)


# ---------------------------------------------------------------------- statistics of groups

def _stats(labels: np.ndarray, scores: np.ndarray, groups: np.ndarray, docs: np.ndarray, n_groups: int) -> list[dict]:
    """Per group code 0..n_groups-1: sentences, documents, counts and shares per stance, mean scores."""
    groups = groups.astype(np.int64)
    counts = np.bincount(groups * 3 + labels, minlength=n_groups * 3).reshape(n_groups, 3)
    n = counts.sum(axis=1)
    sums = np.stack([np.bincount(groups, weights=np.nan_to_num(scores[:, i]), minlength=n_groups)
                     for i in range(2)], axis=1)  # supportive, pressuring
    n_docs = _distinct_documents(groups, docs, n_groups)
    # Whole columns at once, then plain Python numbers: a time series by day has thousands of groups, and
    # per-value round() calls would cost more than the counting.
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = np.round(counts / n[:, None], 4)
        means = np.round(sums / n[:, None], 4)
    columns = {"n": n.tolist(), "documents": n_docs.tolist()}
    for i, stance in enumerate(STANCES):
        columns[stance] = counts[:, i].tolist()
    for i, stance in enumerate(STANCES):
        columns[f"share_{stance}"] = shares[:, i].tolist()
    columns["mean_pressuring"] = means[:, 1].tolist()
    columns["mean_supportive"] = means[:, 0].tolist()
    empty = n == 0
    out = []
    for g in range(n_groups):
        row = {name: values[g] for name, values in columns.items()}
        if empty[g]:  # no sentence: shares and means are undefined, not 0
            for name in ("share_supportive", "share_pressuring", "share_neutral", "mean_pressuring",
                         "mean_supportive"):
                row[name] = None
        out.append(row)
    return out


def _distinct_documents(groups: np.ndarray, docs: np.ndarray, n_groups: int) -> np.ndarray:
    """Per group, how many different documents its rows come from. A flag per (group, document) cell is
    several times faster than np.unique on pairs, as long as the grid stays small."""
    width = int(docs.max(initial=-1)) + 1
    if n_groups * width <= 50_000_000:
        seen = np.zeros(n_groups * width, np.bool_)
        seen[groups * width + docs] = True
        return seen.reshape(n_groups, width).sum(axis=1)
    pairs = np.unique(groups * width + docs)
    return np.bincount(pairs // width, minlength=n_groups)


def summary(sel: Selection) -> dict:
    facts, rows = sel.facts, sel.rows
    labels = sel.labels
    counts = np.bincount(labels, minlength=3) if len(rows) else np.zeros(3, np.int64)
    n = int(len(rows))
    scores = facts.scores[rows]
    relevance = facts.relevance[rows]
    undated = int(np.count_nonzero(facts.doc_arrays()["day"][sel.docs] == UNDATED)) if n else 0
    return {
        "model_version": sel.version, "n": n, "documents": int(len(np.unique(sel.docs))), "undated": undated,
        "counts": {s: int(counts[i]) for i, s in enumerate(STANCES)},
        "shares": {s: (round(counts[i] / n, 4) if n else None) for i, s in enumerate(STANCES)},
        "mean_scores": {**{s: (round(float(np.nanmean(scores[:, i])), 4) if n else None)
                           for i, s in enumerate(STANCES)},
                        "relevance": round(float(np.nanmean(relevance)), 4) if n else None},
    }


def timeseries(sel: Selection, params: TimeseriesParams) -> dict:
    facts = sel.facts
    day = facts.doc_arrays()["day"][sel.docs]
    dated = day != UNDATED
    rows = sel.rows[dated]
    day = day[dated].astype(np.int64)
    # Each row's period as an integer (no sort): days, weeks since the Monday 1969-12-29 (ISO weeks start on
    # Monday; 1970-01-01 was a Thursday), months or years since 1970.
    if params.period == "day":
        codes = day
    elif params.period == "week":
        codes = (day + 3) // 7
    else:
        unit = "datetime64[M]" if params.period == "month" else "datetime64[Y]"
        codes = (EPOCH + day.astype("timedelta64[D]")).astype(unit).astype(np.int64)
    low = int(codes.min(initial=0))
    shifted = codes - low
    present = np.flatnonzero(np.bincount(shifted)) if len(shifted) else np.zeros(0, np.int64)
    lookup = np.full(len(present) and present[-1] + 1, -1, np.int64)
    lookup[present] = np.arange(len(present))
    stats = _stats(facts.label[rows], facts.scores[rows], lookup[shifted], facts.doc[rows], len(present))
    if params.period == "day":
        unique = EPOCH + (present + low).astype("timedelta64[D]")
    elif params.period == "week":
        unique = EPOCH + ((present + low) * 7 - 3).astype("timedelta64[D]")
    else:
        unique = (present + low).astype("datetime64[M]" if params.period == "month" else "datetime64[Y]")
        unique = unique.astype("datetime64[D]")
    starts = np.datetime_as_string(unique, unit="D").tolist()
    labels = _period_labels(unique, starts, params.period)
    out_rows = [{"period": label, "start": start, **row} for label, start, row in zip(labels, starts, stats)]
    return {"period": params.period, "model_version": sel.version, "undated": int(np.count_nonzero(~dated)),
            "rows": out_rows}


def _period_labels(unique: np.ndarray, starts: list[str], period: str) -> list[str]:
    """"2024-03-05", "2024-W10" (ISO week: the year and week of its Thursday), "2024-03", "2024"."""
    if period == "day":
        return starts
    if period == "month":
        return [s[:7] for s in starts]
    if period == "year":
        return [s[:4] for s in starts]
    thursday = unique + np.timedelta64(3, "D")
    year = thursday.astype("datetime64[Y]")
    week = (thursday - year.astype("datetime64[D]")).astype(np.int64) // 7 + 1
    return [f"{y}-W{w:02d}" for y, w in zip(year.astype(np.int64) + 1970, week.tolist())]


# ---------------------------------------------------------------------- dimensions

@dataclass
class Keys:
    """A grouping of the selected rows: `index` picks rows of the selection (a row may appear once per frame it
    carries), `codes` their group; `ids` and `labels` name the groups."""

    index: np.ndarray
    codes: np.ndarray
    ids: list
    labels: list[str]


def keys(sel: Selection, dimension: str, topic_labels: dict[int, str] | None = None) -> Keys:
    facts, rows = sel.facts, sel.rows
    everything = np.arange(len(rows))
    docs = facts.doc_arrays()
    lang = sel.lang
    if dimension == "source":
        return Keys(everything, docs["source"][sel.docs], list(facts.sources), list(facts.sources))
    if dimension == "genre":
        codes = docs["genre"][sel.docs]
        names = facts.genres + ["(none)"]
        return Keys(everything, np.where(codes < 0, len(facts.genres), codes), names, names)
    if dimension == "corpus":
        names = list(docs["corpus_names"])
        return Keys(everything, docs["corpus"][sel.docs], names, names)
    if dimension == "stance":
        return Keys(everything, sel.labels.astype(np.int64), list(STANCES), [stance_label(s, lang) for s in STANCES])
    if dimension == "role":
        return Keys(everything, facts.role[rows].astype(np.int64), list(ROLE_NAMES), list(ROLE_NAMES))
    if dimension == "frame":
        bits = facts.frame_bits[rows]
        index, codes = [], []
        for i in range(len(facts.frames)):
            hit = np.flatnonzero(bits & (1 << i))
            index.append(hit)
            codes.append(np.full(len(hit), i, np.int64))
        return Keys(np.concatenate(index), np.concatenate(codes), list(facts.frames),
                    [frame_label(f, lang) for f in facts.frames])
    if dimension == "topic":
        if sel.topics is None:
            raise QueryError("topic_model", "grouping by topic needs topic_model (a fitted topic model)")
        topics = sel.topics[rows]
        assigned = np.flatnonzero(topics != NO_TOPIC)
        shifted = topics[assigned].astype(np.int64) + 1  # topic -1 (outliers) -> 0: usable as an index
        present = np.flatnonzero(np.bincount(shifted))
        lookup = np.full(len(present) and present[-1] + 1, -1, np.int64)
        lookup[present] = np.arange(len(present))
        codes = lookup[shifted]
        ids = [int(t) - 1 for t in present]
        labels = [(topic_labels or {}).get(t, "outliers" if t == -1 else f"topic {t}") for t in ids]
        return Keys(assigned, codes, ids, labels)
    attribute = dimension.split(":", 1)[1]  # attr:NAME (params validated the form)
    values = sorted({s[attribute] for s in facts.speakers if attribute in s})
    if not values:
        raise QueryError("by", f"no speaker has the attribute {attribute!r}")
    lookup = {v: i for i, v in enumerate(values)}
    speaker_code = np.array([lookup.get(s.get(attribute), -1) for s in facts.speakers] + [-1], np.int64)
    codes = speaker_code[facts.speaker[rows]]
    keep = np.flatnonzero(codes >= 0)
    return Keys(keep, codes[keep], values, values)


def groups(sel: Selection, params: GroupParams, topic_labels: dict[int, str] | None = None) -> dict:
    k = keys(sel, params.by, topic_labels)
    rows = sel.rows[k.index]
    stats = _stats(sel.facts.label[rows], sel.facts.scores[rows], k.codes, sel.facts.doc[rows], len(k.ids))
    out = [{"group": gid, "label": label, **row} for gid, label, row in zip(k.ids, k.labels, stats)
           if row["n"] >= params.min_n]
    reverse = params.order == "desc"
    if params.sort == "group":
        out.sort(key=lambda r: str(r["label"]).lower(), reverse=reverse)
    else:  # ties and empty values last, then by size
        out.sort(key=lambda r: (r[params.sort] is not None, r[params.sort] or 0, r["n"]), reverse=reverse)
    return {"by": params.by, "model_version": sel.version, "rows": out[:params.limit], "groups": len(out)}


def matrix(sel: Selection, params: MatrixParams, topic_labels: dict[int, str] | None = None) -> dict:
    rk, ck = keys(sel, params.rows, topic_labels), keys(sel, params.cols, topic_labels)
    if params.cols == "frame":  # the multi-valued side drives: join the other side's code on its row index
        rk, ck = ck, rk
        swapped = True
    else:
        swapped = False
    col_code = np.full(len(sel.rows), -1, np.int64)
    col_code[ck.index] = ck.codes
    codes_c = col_code[rk.index]
    keep = codes_c >= 0
    ri, rc, cc = rk.index[keep], rk.codes[keep], codes_c[keep]
    n_c = len(ck.ids)
    cell = rc * n_c + cc
    rows = sel.rows[ri]
    stats = _stats(sel.facts.label[rows], sel.facts.scores[rows], cell, sel.facts.doc[rows], len(rk.ids) * n_c)
    col_totals = np.bincount(ck.codes, minlength=n_c)
    row_totals = np.bincount(rk.codes, minlength=len(rk.ids))
    cells = []
    for r in range(len(rk.ids)):
        for c in range(n_c):
            s = stats[r * n_c + c]
            if not s["n"]:
                continue
            row_id, col_id = (ck.ids[c], rk.ids[r]) if swapped else (rk.ids[r], ck.ids[c])
            col_total = int(row_totals[r] if swapped else col_totals[c])
            cells.append({"row": row_id, "col": col_id, "n": s["n"], "documents": s["documents"],
                          "share_of_col": round(s["n"] / col_total, 4) if col_total else None,
                          "share_pressuring": s["share_pressuring"], "share_supportive": s["share_supportive"]})
    row_k, col_k = (ck, rk) if swapped else (rk, ck)
    row_n = col_totals if swapped else row_totals
    col_n = row_totals if swapped else col_totals
    return {"rows_by": params.rows, "cols_by": params.cols, "model_version": sel.version,
            "rows": [{"id": i, "label": lab, "n": int(row_n[j])} for j, (i, lab) in enumerate(zip(row_k.ids, row_k.labels))
                     if row_n[j]],
            "cols": [{"id": i, "label": lab, "n": int(col_n[j])} for j, (i, lab) in enumerate(zip(col_k.ids, col_k.labels))
                     if col_n[j]],
            "cells": cells}


def documents(sel: Selection, params: DocumentListParams) -> dict:
    """The documents with at least one selected sentence, with their sentences' figures; sorted and paged."""
    facts = sel.facts
    n_docs = len(facts.documents.ids)
    docs = sel.docs
    n = np.bincount(docs, minlength=n_docs)
    labels = sel.labels
    pressuring = np.bincount(docs, weights=(labels == 1), minlength=n_docs)
    supportive = np.bincount(docs, weights=(labels == 0), minlength=n_docs)
    mean_pressuring = np.bincount(docs, weights=np.nan_to_num(facts.scores[sel.rows, 1]), minlength=n_docs)
    present = np.flatnonzero(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        share_p, share_s, mean_p = pressuring / n, supportive / n, mean_pressuring / n
    day = facts.doc_arrays()["day"]
    key, descending = params.sort.lstrip("-"), params.sort.startswith("-")
    if key == "published":  # undated documents last either way; ties in document order
        dated_day = day[present].astype(np.int64)
        order = present[np.lexsort((present, -dated_day if descending else dated_day, dated_day == UNDATED))]
    elif key in ("title", "source"):
        value = ((lambda d: (facts.documents.title[d] or "").lower()) if key == "title"
                 else (lambda d: facts.sources[facts.documents.source[d]].lower()))
        order = sorted(present, key=value, reverse=descending)
    else:
        column = {"n": n, "share_pressuring": share_p, "share_supportive": share_s}[key]
        order = present[np.lexsort((present, -column[present] if descending else column[present]))]
    start = (params.page - 1) * params.page_size
    page = list(order[start:start + params.page_size])
    rows = []
    for d in page:
        rows.append({"id": facts.documents.ids[d], "title": facts.documents.title[d],
                     "source": facts.sources[facts.documents.source[d]],
                     "genre": facts.genres[facts.documents.genre[d]] if facts.documents.genre[d] >= 0 else None,
                     "published": None if day[d] == UNDATED else (dt.date(1970, 1, 1)
                                                                   + dt.timedelta(days=int(day[d]))).isoformat(),
                     "n": int(n[d]), "share_pressuring": round(float(share_p[d]), 4),
                     "share_supportive": round(float(share_s[d]), 4),
                     "mean_pressuring": round(float(mean_p[d]), 4)})
    return {"model_version": sel.version, "total": int(len(present)), "page": params.page,
            "page_size": params.page_size, "sort": params.sort, "rows": rows}


def stance_label(stance: str, lang: str) -> str:
    return {"nl": {"supportive": "ondersteunend", "pressuring": "onder druk zettend", "neutral": "neutraal"},
            "en": {"supportive": "supportive", "pressuring": "pressuring", "neutral": "neutral"}}[lang][stance]


def frame_label(frame: str, lang: str) -> str:
    """The codebook definition's head ("Determinisme en onomkeerbaarheid — ..." → before the dash)."""
    definition = load_codebook().definitions.get(frame, {}).get(lang) or frame
    return definition.split(" — ")[0].strip()
