"""Calibrate echo (discourse.compare.echo) on real sentence pairs labelled by blind coders.

    .venv/bin/python bench/echo_pairs.py pairs                     # draw pairs (references only) -> echo_pairs.jsonl
    .venv/bin/python bench/echo_pairs.py export --out /tmp/echo    # texts for coders, outside the repository
    .venv/bin/python bench/echo_pairs.py collect --coding /tmp/echo
    .venv/bin/python bench/echo_pairs.py evaluate [--write]        # precision and recall per threshold, under the
                                                                   # served model's encoder

Echo asks, for every sentence of side A, how similar its nearest side-B sentence is. Here A is real news (NOS, DPG,
NPO web), Belgian parliamentary questions and NPO radio speech; B is Flemish government decisions and the coalition
agreement (institutional text); both restricted to sentences with a parenthood word. Every A sentence gets its
nearest B sentence with the encoder `compare` uses; pairs are drawn stratified by similarity (the high bins, where
echoes are, are drawn more densely), and coders judge each pair without seeing the similarity: does A restate B's
message (echo), or only share its topic? Precision and recall at each threshold weight each pair by the inverse of its
bin's sampling rate, so they estimate the figures over all A sentences. A second set pairs decisions with the
coalition agreement they implement (restatements within institutional text), reported separately.
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from commands import FLAG, PATH, outside_repository, parse_commands  # noqa: E402
from discourse.training import realcorpus  # noqa: E402
from discourse.model.prefilter import PARENTHOOD  # noqa: E402
from discourse.segment import split_sentences  # noqa: E402
from discourse.settings import REPO_ROOT  # noqa: E402

OUT = REPO_ROOT / "corpora" / "real_annotated" / "echo_pairs.jsonl"
CODINGS = REPO_ROOT / "corpora" / "real_annotated" / "echo_codings.jsonl"
RESULT = REPO_ROOT / "corpora" / "real_annotated" / "echo_calibration.json"
SEED = 20261208
BINS = (0.0, 0.75, 0.78, 0.80, 0.82, 0.84, 0.86, 0.88, 0.90, 1.01)
PER_BIN = 25
SETS = {
    "public_vs_institutional": (("news", "parliament", "radio_speech"), ("policy_decision", "coalition_agreement")),
    "decision_vs_agreement": (("policy_decision",), ("coalition_agreement",)),
}


def _sentences(registers: tuple[str, ...]) -> list[dict]:
    rows, seen = [], set()
    for corpus, file, row, doc in realcorpus.iter_documents():
        source = realcorpus.source_of(corpus, file)
        if source.register not in registers:
            continue
        for s in split_sentences(doc):
            if not 5 <= len(s.text.split()) <= 60 or not PARENTHOOD.search(s.text):
                continue
            digest = realcorpus.sha256(s.text)
            if digest in seen:
                continue
            seen.add(digest)
            rows.append({"corpus": corpus, "file": file, "row": row, "start": s.start, "end": s.end,
                         "sha256": digest, "register": source.register, "text": s.text})
    return rows


def _encoder():
    from discourse.cli import _cached_encoder

    return _cached_encoder()


def draw_pairs() -> list[dict]:
    encoder = _encoder()
    rng = random.Random(SEED)
    pairs = []
    for name, (a_regs, b_regs) in SETS.items():
        a, b = _sentences(a_regs), _sentences(b_regs)
        va = encoder.encode([r["text"] for r in a])
        vb = encoder.encode([r["text"] for r in b])
        sim = va @ vb.T
        best = sim.argmax(axis=1)
        best_sim = sim[np.arange(len(a)), best]
        counts = np.histogram(best_sim, bins=BINS)[0]
        for lo, hi, total in zip(BINS[:-1], BINS[1:], counts):
            idx = [i for i in range(len(a)) if lo <= best_sim[i] < hi]
            for i in rng.sample(idx, min(PER_BIN, len(idx))):
                pairs.append({"pid": "p" + realcorpus.sha256(f"{name}/{a[i]['sha256']}/{b[best[i]]['sha256']}")[:10],
                              "set": name, "bin": [lo, hi], "bin_total": int(total), "similarity": float(best_sim[i]),
                              "a": {k: v for k, v in a[i].items() if k != "text"},
                              "b": {k: v for k, v in b[best[i]].items() if k != "text"}})
        print(f"{name}: {len(a)} A sentences, {len(b)} B; per bin {dict(zip(BINS[:-1], counts.tolist()))}")
    return pairs


load = realcorpus.read_rows


def export(out: Path, coders: list[str]) -> None:
    pairs = load(OUT)
    rng = random.Random(SEED + 1)
    rng.shuffle(pairs)
    for coder in coders:
        (out / coder).mkdir(parents=True, exist_ok=True)
        with open(out / coder / "pairs.jsonl", "w", encoding="utf-8") as handle:
            for p in pairs:  # no similarity, no set, no bin: coders judge the texts only
                handle.write(json.dumps({"pid": p["pid"], "a": realcorpus.resolve(p["a"]),
                                         "b": realcorpus.resolve(p["b"])}, ensure_ascii=False) + "\n")
    print(f"{len(pairs)} pairs for coders {', '.join(coders)} in {out}")


def collect(coding: Path) -> None:
    pids = {p["pid"] for p in load(OUT)}
    rows = []
    for path in sorted(coding.glob("*/labels_*.jsonl")):
        coder = path.stem.rsplit("_", 1)[1]
        for label in load(path):
            if label["pid"] in pids:
                if label["judgement"] not in ("echo", "topic", "unrelated"):
                    raise ValueError(f"{path}: {label['pid']} judgement {label['judgement']!r}")
                rows.append({"pid": label["pid"], "coder": coder, "judgement": label["judgement"]})
    with open(CODINGS, "w", encoding="utf-8") as handle:
        for r in rows:
            handle.write(json.dumps(r) + "\n")
    print(f"{len(rows)} codings: {Counter(r['coder'] for r in rows)}")


def _similarities(pairs: list[dict]) -> dict[str, float]:
    """Each labelled pair's cosine similarity under the encoder `compare` uses now. The pairs were drawn (and their
    sampling weights fixed) with the encoder of the day; a new model's adapter moves the similarities, so the
    threshold is calibrated on the pairs' similarities under the model that will be served."""
    encoder = _encoder()
    a = encoder.encode([realcorpus.resolve(p["a"]) for p in pairs])
    b = encoder.encode([realcorpus.resolve(p["b"]) for p in pairs])
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return {p["pid"]: float(s) for p, s in zip(pairs, (a * b).sum(axis=1))}


def evaluate() -> dict:
    from discourse.training.metrics import kappa

    pairs = {p["pid"]: p for p in load(OUT)}
    by_pid: dict[str, dict[str, str]] = defaultdict(dict)
    for c in load(CODINGS):
        by_pid[c["pid"]][c["coder"]] = c["judgement"]
    adjudicated = {}
    adj_path = OUT.with_name("echo_adjudication.jsonl")
    if adj_path.exists():
        adjudicated = {r["pid"]: r["judgement"] for r in load(adj_path)}
    both = [pid for pid, c in by_pid.items() if {"A", "B"} <= set(c)]
    report = {"pairs": len(pairs), "double_coded": len(both),
              "kappa_echo_vs_not": kappa([by_pid[p]["A"] == "echo" for p in both],
                                         [by_pid[p]["B"] == "echo" for p in both]) if both else None,
              "sets": {}}
    similarity = _similarities(list(pairs.values()))
    report["encoder_version"] = _encoder().version
    for name in SETS:
        rows = []
        for pid, p in pairs.items():
            if p["set"] != name or pid not in by_pid:
                continue
            votes = {judgement == "echo" for judgement in by_pid[pid].values()}
            if len(votes) > 1:  # one coder saw an echo, the other did not: the adjudicator decides
                if pid not in adjudicated:
                    continue
                final = adjudicated[pid]
            else:
                final = "echo" if votes.pop() else "not_echo"
            in_bin = sum(1 for q in pairs.values() if q["set"] == name and q["bin"] == p["bin"])
            rows.append((similarity[pid], final == "echo", p["bin_total"] / in_bin))
        sims = np.array([r[0] for r in rows])
        positive = np.array([r[1] for r in rows])
        weight = np.array([r[2] for r in rows])
        table = []
        for t in np.arange(0.74, 0.95, 0.01):
            above = sims >= t
            tp = float((weight * (above & positive)).sum())
            precision = tp / float((weight * above).sum()) if above.any() else float("nan")
            recall = tp / float((weight * positive).sum()) if positive.any() else float("nan")
            table.append({"threshold": round(float(t), 2), "precision": round(precision, 3),
                          "recall": round(recall, 3), "pairs_above": int(above.sum())})
        report["sets"][name] = {"labelled": len(rows), "echo": int(positive.sum()), "table": table}
    return report


def main() -> None:
    args = parse_commands(__doc__.split("\n\n")[0], {
        "pairs": {}, "export": {"--out": PATH, "--coders": {"default": "A,B"}}, "collect": {"--coding": PATH},
        "evaluate": {"--write": FLAG}})
    if args.command == "pairs":
        pairs = draw_pairs()
        with open(OUT, "w", encoding="utf-8") as handle:
            for p in pairs:
                handle.write(json.dumps(p, ensure_ascii=False) + "\n")
    elif args.command == "export":
        export(outside_repository(args.out), args.coders.split(","))
    elif args.command == "collect":
        collect(args.coding)
    else:
        report = evaluate()
        print(json.dumps(report, indent=1))
        if args.write:
            RESULT.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
