"""Inter-annotator reliability of the annotated corpus.

A sample of units was labelled a second time by an independent pass that saw only the texts and the codebook
(corpora/annotated/second_pass.jsonl). Cohen's kappa is reported per layer; every disagreement was adjudicated
(corpora/annotated/adjudication.jsonl) and the batch files hold the adjudicated labels. The kappas below compare
the FIRST labels (as written, kept in the adjudication file where they changed) with the second pass.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..annotations.agreement import stance_or_irrelevant as stance4
from ..codebook import load_codebook
from ..settings import ANNOTATED_DIR
from .corpus import load_units
from .metrics import kappa
from .realcorpus import read_rows

SECOND_PASS = "second_pass.jsonl"
ADJUDICATION = "adjudication.jsonl"


def first_labels(directory: Path = ANNOTATED_DIR) -> dict[str, dict]:
    """The labels as the writer first gave them: current labels, undone where adjudication changed them."""
    labels = {u.id: {"relevant": u.relevant, "stance": u.stance, "frames": sorted(u.frames)}
              for u in load_units(directory=directory)}
    adjudication = directory / ADJUDICATION
    if adjudication.exists():
        for row in read_rows(adjudication):
            labels[row["id"]][row["layer"]] = row["first"]
    return labels


def agreement_report(directory: Path = ANNOTATED_DIR) -> dict:
    first = first_labels(directory)
    second = {row["id"]: row for row in read_rows(directory / SECOND_PASS)}
    ids = sorted(set(second) & set(first))
    adjudicated = read_rows(directory / ADJUDICATION) if (directory / ADJUDICATION).exists() else []
    return {**pairwise_agreement(first, second, ids), "adjudicated_changes": len(adjudicated)}


def pairwise_agreement(first: dict[str, dict], second: dict[str, dict], ids: list[str]) -> dict:
    """Cohen's kappa and raw agreement of two coders on `ids`, per layer: relevance, stance (4-way with irrelevant,
    and 3-way where both coded the unit relevant) and each frame (where both coded it relevant)."""
    both_relevant = [i for i in ids if first[i]["relevant"] and second[i]["relevant"]]
    per_frame = {}
    for frame in load_codebook().frames:
        a = [frame in first[i]["frames"] for i in both_relevant]
        b = [frame in (second[i].get("frames") or []) for i in both_relevant]
        per_frame[frame] = kappa(a, b) if (any(a) or any(b)) else None
    scored = [k for k in per_frame.values() if k is not None]
    return {
        "units_double_coded": len(ids),
        "relevance_kappa": kappa([first[i]["relevant"] for i in ids], [second[i]["relevant"] for i in ids]),
        "stance_kappa_4way": kappa([stance4(first[i]) for i in ids], [stance4(second[i]) for i in ids]),
        "stance_kappa_both_relevant": kappa([first[i]["stance"] for i in both_relevant],
                                            [second[i]["stance"] for i in both_relevant]),
        "frames_kappa_mean": round(sum(scored) / len(scored), 4) if scored else None,
        "frames_kappa_per_frame": per_frame,
        "raw_agreement": {
            "relevance": round(sum(first[i]["relevant"] == second[i]["relevant"] for i in ids) / len(ids), 4),
            "stance_4way": round(sum(stance4(first[i]) == stance4(second[i]) for i in ids) / len(ids), 4),
        },
    }


def apply_adjudication(directory: Path = ANNOTATED_DIR) -> int:
    """Write the adjudicated ("final") labels into the batch files; idempotent. Returns units changed."""
    finals: dict[str, dict] = {}
    for row in read_rows(directory / ADJUDICATION):
        finals.setdefault(row["id"], {})[row["layer"]] = row["final"]
    changed = 0
    for path in sorted((directory / "batches").glob("*.jsonl")):
        rows = read_rows(path)
        dirty = False
        for row in rows:
            for layer, value in finals.get(row["id"], {}).items():
                if row.get(layer) != value:
                    row[layer], dirty = value, True
                    changed += 1
            if row["id"] in finals and not row["relevant"]:
                row["stance"], row["frames"] = None, []
        if dirty:
            path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return changed
