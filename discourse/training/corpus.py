"""The annotated corpus the project authored (corpora/annotated/): loading, validation and the fixed splits.

Units are written in batches; a whole batch belongs to one split (corpora/annotated/splits.json), so paraphrases
and negated twins written together never straddle train and test.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..codebook import STANCES, load_codebook
from ..settings import ANNOTATED_DIR

GENRES = ("news", "policy", "interview")
HARD_CASES = ("negation", "concession", "reported_norm", "irony", "self_imposed", "mixed", "near_miss")
SPLITS = ("train", "dev", "test")


@dataclass(frozen=True)
class Unit:
    id: str
    batch: str
    genre: str
    variety: str
    text: str
    relevant: bool
    stance: str | None
    frames: tuple[str, ...]
    hard_case: str | None
    split: str

    @property
    def stance3(self) -> str:
        """Stance on the product's 3-way scale: an irrelevant unit frames no parenthood, so it counts as neutral."""
        return self.stance if self.relevant else "neutral"


def load_splits(directory: Path = ANNOTATED_DIR) -> dict[str, str]:
    path = directory / "splits.json"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is not there: the annotated corpus is a clone's working data "
                                "(corpora/annotated/), not part of an installed package; run this from a clone")
    return json.loads(path.read_text(encoding="utf-8"))["batches"]


def load_units(split: str | None = None, directory: Path = ANNOTATED_DIR) -> list[Unit]:
    """All units (or one split's), validated against the codebook; raises ValueError naming file and line."""
    splits = load_splits(directory)
    frames = set(load_codebook().frames)
    units, seen = [], set()
    for path in sorted((directory / "batches").glob("*.jsonl")):
        batch = path.stem
        if batch not in splits:
            raise ValueError(f"{path}: batch {batch!r} has no split in splits.json")
        if split is not None and splits[batch] != split:
            continue
        for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{line_no}"
            row = json.loads(line)
            unit = Unit(
                id=row["id"], batch=batch, genre=row["genre"], variety=row.get("variety", ""),
                text=row["text"].strip(), relevant=bool(row["relevant"]), stance=row.get("stance"),
                frames=tuple(row.get("frames") or ()), hard_case=row.get("hard_case"), split=splits[batch],
            )
            _validate(unit, frames, where)
            if unit.id in seen:
                raise ValueError(f"{where}: duplicate id {unit.id}")
            seen.add(unit.id)
            units.append(unit)
    return units


def running_text(chars: int, seed: int | None = None) -> str:
    """`chars` characters of ordinary Dutch in one paragraph, as news archives deliver articles: the annotated
    units one after another (in corpus order, or shuffled by `seed`), cut at `chars`."""
    units = [u.text for u in load_units()]
    if seed is not None:
        random.Random(seed).shuffle(units)
    parts, size = [], 0
    while size < chars:
        parts.append(units[len(parts) % len(units)])
        size += len(parts[-1]) + 1
    return " ".join(parts)[:chars]


def _validate(unit: Unit, frames: set[str], where: str) -> None:
    if unit.genre not in GENRES:
        raise ValueError(f"{where}: genre {unit.genre!r} not in {GENRES}")
    if not unit.text:
        raise ValueError(f"{where}: empty text")
    if unit.relevant and unit.stance not in STANCES:
        raise ValueError(f"{where}: relevant unit needs a stance in {STANCES}, got {unit.stance!r}")
    if not unit.relevant and (unit.stance is not None or unit.frames):
        raise ValueError(f"{where}: irrelevant unit must have stance null and no frames")
    unknown = set(unit.frames) - frames
    if unknown:
        raise ValueError(f"{where}: unknown frames {sorted(unknown)}")
    if unit.hard_case is not None and unit.hard_case not in HARD_CASES:
        raise ValueError(f"{where}: hard_case {unit.hard_case!r} not in {HARD_CASES}")


def describe(units: list[Unit]) -> dict:
    """Counts a datasheet reports: per split, genre x stance cell, frame and hard case."""
    cells = Counter((u.genre, u.stance if u.relevant else "irrelevant") for u in units)
    return {
        "units": len(units),
        "per_split": dict(Counter(u.split for u in units)),
        "genre_x_stance": {f"{g}/{s}": n for (g, s), n in sorted(cells.items())},
        "irrelevant": sum(not u.relevant for u in units),
        "frames": dict(Counter(f for u in units for f in u.frames).most_common()),
        "hard_cases": dict(Counter(u.hard_case for u in units if u.hard_case).most_common()),
        "variety": dict(Counter(u.variety for u in units)),
    }


def split_for_batch(batch: str) -> str:
    """The rule that assigned batches to splits (recorded in splits.json, which is what counts): per writer, batches
    01-07 train, 08 dev, 09-10 test; irrelevant-only writer irr: 01-04 train, 05 dev, 06 test; a writer's
    extra batches numbered 90+ are held-out test."""
    prefix, number = batch.rstrip("0123456789"), int(batch[len(batch.rstrip("0123456789")):])
    if number >= 90:
        return "test"
    if prefix == "irr":
        return "train" if number <= 4 else "dev" if number == 5 else "test"
    return "train" if number <= 7 else "dev" if number == 8 else "test"


def word_ngrams(text: str, n: int = 4) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def held_out_overlap(candidates: list[Unit], held_out: list[Unit], cand_emb: np.ndarray, held_emb: np.ndarray,
                     max_cosine: float = 0.92, max_shared_ngrams: int = 1) -> list[dict]:
    """Candidate units that come too close to a dev or test unit to be used for training: embedding cosine above
    `max_cosine` (normalised embeddings from the base encoder) or more than `max_shared_ngrams` shared 4-word
    sequences. A training unit that paraphrases a test unit inflates the test figures, so these are dropped."""
    similarity = cand_emb @ held_emb.T
    held_grams = [word_ngrams(u.text) for u in held_out]
    flagged = []
    for i, unit in enumerate(candidates):
        grams = word_ngrams(unit.text)
        shared, k_shared = max(((len(grams & h), k) for k, h in enumerate(held_grams)), default=(0, 0))
        k_cos = int(similarity[i].argmax())
        if similarity[i, k_cos] > max_cosine or shared > max_shared_ngrams:
            nearest = held_out[k_shared if shared > max_shared_ngrams else k_cos]
            flagged.append({"id": unit.id, "cosine": round(float(similarity[i, k_cos]), 3), "shared_4grams": shared,
                            "nearest": nearest.id, "text": unit.text, "nearest_text": nearest.text})
    return flagged


def drop_units(ids: set[str], directory: Path = ANNOTATED_DIR) -> int:
    """Remove units by id from their batch files (ids stay as they were; gaps in numbering are allowed)."""
    dropped = 0
    for path in sorted((directory / "batches").glob("*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if not line.strip() or json.loads(line)["id"] not in ids]
        if len(kept) != len(lines):
            dropped += len(lines) - len(kept)
            path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return dropped
