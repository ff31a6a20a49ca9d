"""A new version of a framing model from the coders' codes: `discourse train --from-annotations`.

The codes (relevance, stance, frames per coded sentence, from discourse.store.annotations.annotation_rows) become
training units: an item's adjudicated code where there is one, else the code its coders agree on; items whose coders
disagree and that nobody adjudicated are left out and counted (discourse.annotations.agreement.resolved_codes). A share of
the usable items, stratified by stance, is held out before anything is fitted; the new model and the current one
are both evaluated on it, so the researcher sees what the codes bought on their own material.

The new model keeps the current model's encoder and adapter and gets new heads (relevance, stance, frames), fitted
on the coded units (each `code_weight` times) plus, unless told otherwise, the project's authored corpus, with the
regularisation and calibration chosen on dev as `train-framing` does. Seconds to minutes on two cores: the
encoder is not trained again.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable

from ..annotations.agreement import resolved_codes
from ..codebook import STANCES, load_codebook
from ..encoder import EmbeddingCache
from ..model.framing import FramingConfig, FramingModel
from ..settings import data_folder, embedding_cache_path
from .corpus import Unit, load_units
from .framing import evaluate_framing, fit_heads

#: Fewer usable coded items than this cannot be split into train, dev and a held-out share worth reporting.
MIN_CODED = 30
DEV_SHARE = 0.2


@dataclass
class CodedUnits:
    units: list[Unit] = field(default_factory=list)
    items: int = 0
    skipped: Counter = field(default_factory=Counter)  # unadjudicated_disagreement, no_relevance_code, no_stance_code


def coded_units(rows: Iterable[dict]) -> CodedUnits:
    """One training unit per coded item, with the code it counts with (annotations.agreement.resolved_codes)."""
    rows = list(rows)
    codes, left_out = resolved_codes(rows)
    texts = {row["item_id"]: row["text"] for row in rows}
    units = [Unit(id=f"coded-{item}", batch="coded", genre="coded", variety="nl", text=texts[item].strip(),
                  relevant=code["relevant"], stance=code["stance"], frames=tuple(code["frames"]), hard_case=None,
                  split="") for item, code in codes.items()]
    return CodedUnits(units, len(texts), left_out)


def split_coded(units: list[Unit], holdout: float, seed: int) -> dict[str, list[Unit]]:
    """train / dev / held_out, stratified by stance (irrelevant as its own stratum), seeded."""
    if not 0.0 < holdout < 1.0:
        raise ValueError(f"the held-out share must lie between 0 and 1, got {holdout}")
    strata: dict[str, list[Unit]] = defaultdict(list)
    for unit in units:
        strata[unit.stance if unit.relevant else "irrelevant"].append(unit)
    rng = random.Random(seed)
    splits: dict[str, list[Unit]] = {"train": [], "dev": [], "held_out": []}
    for _, members in sorted(strata.items()):
        members = sorted(members, key=lambda u: u.id)
        rng.shuffle(members)
        n_held = round(holdout * len(members))
        n_dev = round(DEV_SHARE * (len(members) - n_held))
        for name, part in (("held_out", members[:n_held]), ("dev", members[n_held:n_held + n_dev]),
                           ("train", members[n_held + n_dev:])):
            splits[name] += [replace(u, split=name) for u in part]
    return splits


def default_version(base_version: str, n_codes: int) -> str:
    return f"{base_version}+codes{n_codes}"


def train_from_annotations(rows: list[dict], out_dir: str | Path | None, base_dir: str | Path, *,
                           version: str | None = None,
                           include_corpus: bool = True, holdout: float = 0.2, code_weight: int = 3, seed: int = 0,
                           command: str | None = None, log: Callable[[str], None] = print) -> dict:
    """Fit the new model into `out_dir` (default: <data folder>/models/framing-VERSION; it must not hold a model
    yet) and return its metrics (also written to metrics.json, with `folder`): the codes used and left out, and the
    held-out codes scored by the new and the current model."""
    started = time.perf_counter()
    base_dir = Path(base_dir)
    coded = coded_units(rows)
    version = version or default_version(FramingConfig.read(base_dir).version, len(coded.units))
    out_dir = Path(out_dir) if out_dir is not None else data_folder() / "models" / f"framing-{version}"
    if (out_dir / "config.json").exists():
        raise ValueError(f"{out_dir} holds a model already: give another --out or --model-version")
    if len(coded.units) < MIN_CODED:
        raise ValueError(f"{len(coded.units)} usable coded sentences ({coded.items} coded items; left out: "
                         f"{dict(coded.skipped) or 'none'}); at least {MIN_CODED} are needed")
    if not any(u.relevant for u in coded.units):
        raise ValueError("no coded sentence is relevant: the stance and frame heads would have nothing to learn")
    codes = split_coded(coded.units, holdout, seed)
    splits = {"train": codes["train"] * max(1, code_weight), "dev": list(codes["dev"])}
    if include_corpus:
        splits["train"] += load_units("train")
        splits["dev"] += load_units("dev")
    log("codes: " + ", ".join(f"{k} {len(v)}" for k, v in codes.items())
        + (f"; left out {dict(coded.skipped)}" if coded.skipped else "")
        + ("; with the authored corpus" if include_corpus else ""))
    current = FramingModel.load(base_dir, cache=EmbeddingCache(embedding_cache_path()), backend="torch")
    x = {name: current.encoder.encode([u.text for u in units]) for name, units in splits.items()}
    codebook = load_codebook()
    heads = fit_heads(splits, x, codebook.frames, seed)
    config = replace(current.config, version=version, codebook_version=codebook.version)
    model = FramingModel(config, current.encoder, heads["relevance"], heads["stance"], heads["frames"])
    _write_model(out_dir, base_dir, config, heads)
    held = codes["held_out"]
    metrics = {
        "model": config.name, "version": version, "folder": str(out_dir), "mode": "head", "seed": seed,
        "base_model": {"folder": str(base_dir), "version": current.config.version},
        "codes": {"items": coded.items, "used": len(coded.units), "left_out": dict(coded.skipped),
                  **{name: _describe(units) for name, units in codes.items()}, "code_weight": code_weight},
        "authored_corpus": include_corpus,
        "held_out_codes": {"new": evaluate_framing(model, held), "current": evaluate_framing(current, held)},
        "train_seconds": round(time.perf_counter() - started, 1),
        "command": command,
    }
    (out_dir / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "MODEL_CARD.md").write_text(_card(metrics), encoding="utf-8")
    new, old = (metrics["held_out_codes"][k]["stance"].get("macro_f1") for k in ("new", "current"))
    log(f"held-out codes ({len(held)}): stance macro-F1 {new} (new) vs {old} (current {current.config.version})")
    return metrics


def _write_model(out_dir: Path, base_dir: Path, config, heads: dict) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    if config.adapter:
        shutil.copytree(base_dir / config.adapter, out_dir / config.adapter, dirs_exist_ok=True)
    for name, head in heads.items():
        head.save(out_dir, name)
    config.write(out_dir)  # last: a folder with a config is a complete model


def _describe(units: list[Unit]) -> dict:
    counts = Counter(u.stance if u.relevant else "irrelevant" for u in units)
    return {"n": len(units), **{label: counts[label] for label in ("irrelevant", *STANCES)}}


def _card(metrics: dict) -> str:
    held = metrics["held_out_codes"]
    corpus = "; authored corpus included" if metrics["authored_corpus"] else ""
    lines = [f"# {metrics['model']} {metrics['version']}", "",
             f"Trained from coders' codes on top of version {metrics['base_model']['version']} "
             f"(same encoder and adapter, new heads){corpus}.",
             "", f"Command: `{metrics['command']}`" if metrics["command"] else "", "",
             "## Held-out codes (never used for fitting or selection)", "",
             "| | new | current |", "|---|---|---|"]
    for task in ("relevance", "stance", "stance_end_to_end"):
        new, current = held["new"][task].get("macro_f1"), held["current"][task].get("macro_f1")
        lines.append(f"| {task} macro-F1 | {new} | {current} |")
    lines.append(f"| frames micro-F1 | {held['new']['frames'].get('micro_f1')} | "
                 f"{held['current']['frames'].get('micro_f1')} |")
    codes = metrics["codes"]
    lines += ["", f"Codes: {codes['items']} coded items, {codes['used']} used, left out {codes['left_out'] or 'none'}; "
              f"held out {codes['held_out']['n']}, train {codes['train']['n']} (each ×{codes['code_weight']}), "
              f"dev {codes['dev']['n']}.", ""]
    return "\n".join(lines)
