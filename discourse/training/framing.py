"""Training and evaluating the default framing model on the annotated corpus.

`discourse train-framing --mode head|finetune --seed N` runs this: fit (optionally LoRA-adapt the encoder), pick
regularisation on dev, calibrate on dev, evaluate once on test, and write the model folder with metrics.json.
"""

from __future__ import annotations

import json
import platform
import shutil
import time
from collections import defaultdict
from pathlib import Path
from typing import Callable

import numpy as np

from ..codebook import STANCES, load_codebook
from ..encoder import EmbeddingCache, Encoder
from ..encoder.adapters import copy_domain_adapters
from ..model.calibration import expected_calibration_error, softmax
from ..model.framing import FramingConfig, FramingModel
from ..model.heads import MultiLabelHead
from ..settings import embedding_cache_path
from .classifier import C_GRID, fit_head
from .corpus import GENRES, Unit, describe, load_units
from .metrics import classification_report, multilabel_report

MODEL_NAME = "framing-e5-small"
RELEVANCE_LABELS = ["irrelevant", "relevant"]


def train_framing_model(out_dir: str | Path, mode: str = "head", seed: int = 0, epochs: int = 4,
                        version: str = "1.1.0", lr: float = 2e-4, rank: int = 8, top_layers: int = 6,
                        patience: int = 1, schedule: str = "constant", real: bool = True, real_weight: int = 2,
                        adapter_from: str | Path | None = None, encoder_spec: str | None = None,
                        log: Callable[[str], None] = print) -> dict:
    """`real`: add the labelled real units (corpora/real_annotated) to train and dev, each train unit `real_weight`
    times; the real test split is only ever evaluated. The authored test split is reported beside it.
    `adapter_from`: in head mode keep that LoRA adapter (copied into the new model) and fit new heads over it; in
    finetune mode continue training it on this run's units. `encoder_spec`: the encoder (default: the embedded e5),
    e.g. a domain adapter folder from `discourse adapt-encoder`, copied into the model and merged before the LoRA."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    codebook = load_codebook()
    splits = {name: load_units(name) for name in ("train", "dev", "test")}
    real_splits = _real_splits() if real else {}
    if real_splits:
        splits["train"] = splits["train"] + real_splits["train"] * max(1, real_weight)
        splits["dev"] = splits["dev"] + real_splits["dev"]
    log("corpus: " + ", ".join(f"{k} {len(v)}" for k, v in splits.items())
        + ("; real " + ", ".join(f"{k} {len(v)}" for k, v in real_splits.items()) if real_splits else ""))
    cache = EmbeddingCache(embedding_cache_path())
    encoder = Encoder.load(encoder_spec, cache=cache)
    domain_adapters = list(encoder.adapters)
    adapter = None
    if mode == "finetune":
        from .finetune import finetune_lora

        result = finetune_lora(encoder, [u.text for u in splits["train"]], _tasks(splits["train"], codebook.frames),
                               out_dir / "adapter", [u.text for u in splits["dev"]],
                               _tasks(splits["dev"], codebook.frames), epochs=epochs, seed=seed, lr=lr, rank=rank,
                               top_layers=top_layers or None, patience=patience, schedule=schedule,
                               init_adapter=Path(adapter_from) if adapter_from is not None else None, log=log)
        log(f"LoRA: best epoch {result.best_epoch} of {result.epochs_run}, {result.seconds:.0f}s")
        encoder = Encoder.load(encoder_spec, cache=cache).with_adapter(out_dir / "adapter")
        adapter = "adapter"
    elif mode != "head":
        raise ValueError(f"mode must be 'head' or 'finetune', got {mode!r}")
    elif adapter_from is not None:
        if Path(adapter_from).resolve() != (out_dir / "adapter").resolve():
            shutil.copytree(Path(adapter_from), out_dir / "adapter", dirs_exist_ok=True)
        encoder = encoder.with_adapter(out_dir / "adapter")
        adapter = "adapter"

    x = {name: encoder.encode([u.text for u in units]) for name, units in splits.items()}
    heads = fit_heads(splits, x, codebook.frames, seed)
    config = FramingConfig(MODEL_NAME, version, encoder.name, encoder.version, codebook.version, adapter,
                           encoder_adapters=copy_domain_adapters(domain_adapters, out_dir) or None)
    config.write(out_dir)
    for name, head in heads.items():
        head.save(out_dir, name)
    model = FramingModel(config, encoder, heads["relevance"], heads["stance"], heads["frames"])
    metrics = {
        "model": MODEL_NAME, "version": version, "mode": mode, "seed": seed,
        "encoder": encoder.name, "encoder_version": encoder.version, "codebook_version": codebook.version,
        "corpus": describe([u for units in splits.values() for u in units]),
        # The real test split is never evaluated here: bench/real_test.py reports it once, for the model chosen on dev.
        **({"real_corpus": {k: len(v) for k, v in real_splits.items()}, "real_weight": real_weight,
            "real_dev": evaluate_real(model, real_splits["dev"])} if real_splits else {}),
        "dev": evaluate_framing(model, splits["dev"], x["dev"], report_uncalibrated=True),
        "test": evaluate_framing(model, splits["test"], x["test"]),
        "train_seconds": round(time.perf_counter() - started, 1),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}",
        "command": f"discourse train-framing --out {out_dir} --mode {mode} --seed {seed} --model-version {version}"
                   + (f" --epochs {epochs} --lr {lr}" + (f" --rank {rank} --top-layers {top_layers}"
                                                         if adapter_from is None else "")
                      + f" --patience {patience} --schedule {schedule}" if mode == "finetune" else "")
                   + (f" --real-weight {real_weight}" if real_splits else " --no-real")
                   + (f" --adapter-from {adapter_from}" if adapter_from is not None else "")
                   + (f" --encoder {encoder_spec}" if encoder_spec else ""),
    }
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    if real_splits:
        r = metrics["real_dev"]
        log(f"real dev: relevance F1 {r['relevance']['macro_f1']:.3f}, stance macro-F1 {r['stance']['macro_f1']:.3f}, "
            f"frames micro-F1 {r['frames']['micro_f1']:.3f}")
    t = metrics["test"]
    log(f"authored test: relevance F1 {t['relevance']['macro_f1']:.3f}, stance macro-F1 {t['stance']['macro_f1']:.3f}, "
        f"frames micro-F1 {t['frames']['micro_f1']:.3f} ({metrics['train_seconds']:.0f}s)")
    return metrics


def _real_splits() -> dict[str, list[Unit]]:
    """The labelled real units by split, or {} when there are none; they need the shared corpora for their text."""
    from . import realcorpus

    if not realcorpus.load_labels():
        return {}
    if not realcorpus.available():
        raise realcorpus.CorporaMissing(
            f"the real annotated corpus resolves its text from {realcorpus.SHARED_CORPORA}, which is not there; "
            "train without it with --no-real")
    return {name: realcorpus.load_real_units(name) for name in ("train", "dev")}


def evaluate_real(model: FramingModel, units: list[Unit]) -> dict:
    """`evaluate_framing` on real units, plus the same figures per register (news, policy decision, parliament,
    radio speech, ...), read from the unit's batch name."""
    report = evaluate_framing(model, units)
    report["per_register"] = {}
    for register in sorted({u.batch.removeprefix("real-") for u in units}):
        sub = [u for u in units if u.batch == f"real-{register}"]
        rel = [u for u in sub if u.relevant]
        preds = model.predict([u.text for u in sub])
        cond = [max(p["stance_given_relevant"], key=p["stance_given_relevant"].get)
                for p, u in zip(preds, sub) if u.relevant]
        report["per_register"][register] = {
            "n": len(sub), "relevant": len(rel),
            "relevance": classification_report([RELEVANCE_LABELS[u.relevant] for u in sub],
                                               [RELEVANCE_LABELS[int(p["relevance"] >= 0.5)] for p in preds],
                                               RELEVANCE_LABELS),
            "stance": classification_report([u.stance for u in rel], cond, list(STANCES)),
        }
    return report


def _tasks(units: list[Unit], frames: tuple[str, ...]):
    from .finetune import Task

    relevant = np.array([u.relevant for u in units])
    stance = np.array([STANCES.index(u.stance) if u.relevant else 0 for u in units])
    return [
        Task("relevance", 2, relevant.astype(int), np.ones(len(units), bool)),
        Task("stance", 3, stance, relevant),
        Task("frames", len(frames), _frame_matrix(units, frames), relevant, multilabel=True),
    ]


def _frame_matrix(units: list[Unit], frames: tuple[str, ...]) -> np.ndarray:
    return np.array([[int(f in u.frames) for f in frames] for u in units], dtype=np.int64).reshape(len(units),
                                                                                                   len(frames))


def fit_heads(splits: dict[str, list[Unit]], x: dict[str, np.ndarray], frames: tuple[str, ...], seed: int) -> dict:
    train, dev = splits["train"], splits["dev"]
    relevance, _ = fit_head(x["train"], [RELEVANCE_LABELS[u.relevant] for u in train], x["dev"],
                            [RELEVANCE_LABELS[u.relevant] for u in dev], RELEVANCE_LABELS, seed)
    rel_train = np.array([u.relevant for u in train])
    rel_dev = np.array([u.relevant for u in dev])
    stance, _ = fit_head(x["train"][rel_train], [u.stance for u in train if u.relevant], x["dev"][rel_dev],
                         [u.stance for u in dev if u.relevant], list(STANCES), seed)
    y_train = _frame_matrix([u for u in train if u.relevant], frames)
    y_dev = _frame_matrix([u for u in dev if u.relevant], frames)
    best, best_f1 = None, -1.0
    for c in C_GRID:
        head = MultiLabelHead.fit(x["train"][rel_train], y_train, list(frames), c=c, seed=seed)
        head.calibrate(x["dev"][rel_dev], y_dev)
        f1 = multilabel_report(y_dev, _frame_predictions(head, x["dev"][rel_dev]), list(frames))["micro_f1"]
        if f1 > best_f1 + 1e-9:
            best, best_f1 = head, f1
    return {"relevance": relevance, "stance": stance, "frames": best}


def _frame_predictions(head: MultiLabelHead, x: np.ndarray) -> np.ndarray:
    return (head.predict_proba(x) >= np.array(head.thresholds)).astype(int)


def evaluate_framing(model: FramingModel, units: list[Unit], x: np.ndarray | None = None,
                     report_uncalibrated: bool = False) -> dict:
    """Every figure the model card reports, for one split."""
    if x is None:
        x = model.encoder.encode([u.text for u in units])
    raw = model.predict_embeddings(x)
    relevant = np.array([u.relevant for u in units])
    rel_pred = [RELEVANCE_LABELS[int(p >= 0.5)] for p in raw["relevance"]]
    rel_true = [RELEVANCE_LABELS[u.relevant] for u in units]
    cond = [STANCES[i] for i in raw["stance_given_relevant"].argmax(1)]
    product = [STANCES[i] for i in raw["scores"].argmax(1)]
    frames = list(model.frames_head.labels)
    report = {
        "relevance": classification_report(rel_true, rel_pred, RELEVANCE_LABELS),
        # Stance on units gold-labelled relevant, from the stance head: the codebook's stance task.
        "stance": classification_report([u.stance for u in units if u.relevant],
                                        [p for p, r in zip(cond, relevant) if r], list(STANCES)),
        # End to end: every unit, product label (irrelevant counts as neutral), as `discourse classify` outputs.
        "stance_end_to_end": classification_report([u.stance3 for u in units], product, list(STANCES)),
        "frames": multilabel_report(_frame_matrix([u for u in units if u.relevant], tuple(frames)),
                                    _frame_predictions(model.frames_head, x[relevant]), frames),
        "per_genre": {},
        "hard_cases": {},
        "calibration": _calibration(model, units, x, raw, report_uncalibrated),
    }
    for genre in GENRES:
        idx = [i for i, u in enumerate(units) if u.genre == genre]
        rel_idx = [i for i in idx if units[i].relevant]
        report["per_genre"][genre] = {
            "relevance_macro_f1": classification_report([rel_true[i] for i in idx], [rel_pred[i] for i in idx],
                                                        RELEVANCE_LABELS).get("macro_f1"),
            "stance": classification_report([units[i].stance for i in rel_idx], [cond[i] for i in rel_idx],
                                            list(STANCES)),
            "stance_end_to_end_macro_f1": classification_report([units[i].stance3 for i in idx],
                                                                [product[i] for i in idx], list(STANCES)).get("macro_f1"),
        }
    by_case = defaultdict(list)
    for i, u in enumerate(units):
        if u.hard_case:
            by_case[u.hard_case].append(product[i] == u.stance3)
    report["hard_cases"] = {case: {"n": len(v), "accuracy": round(float(np.mean(v)), 4)}
                            for case, v in sorted(by_case.items())}
    return report


def _calibration(model: FramingModel, units: list[Unit], x: np.ndarray, raw: dict, report_uncalibrated: bool) -> dict:
    relevant = np.array([u.relevant for u in units])
    stance_true = np.array([STANCES.index(u.stance) for u in units if u.relevant])
    rel_true = relevant.astype(int)
    rel_probs = np.stack([1 - raw["relevance"], raw["relevance"]], axis=1)
    out = {
        "stance_ece": round(expected_calibration_error(raw["stance_given_relevant"][relevant], stance_true), 4),
        "relevance_ece": round(expected_calibration_error(rel_probs, rel_true), 4),
        "stance_temperature": round(model.stance_head.temperature, 4),
        "relevance_temperature": round(model.relevance_head.temperature, 4),
    }
    if report_uncalibrated:  # the same heads at temperature 1: what calibration bought
        stance_uncal = softmax(model.stance_head.logits(x[relevant]))
        rel_uncal = softmax(model.relevance_head.logits(x))
        out["stance_ece_uncalibrated"] = round(expected_calibration_error(stance_uncal, stance_true), 4)
        out["relevance_ece_uncalibrated"] = round(expected_calibration_error(rel_uncal, rel_true), 4)
    return out
