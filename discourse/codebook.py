"""The codebook (corpora/codebook.yaml): label ids, definitions and the discourse-term list, read once."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .settings import CODEBOOK_PATH

STANCES = ("supportive", "pressuring", "neutral")


@dataclass(frozen=True)
class Codebook:
    version: str
    stances: tuple[str, ...]
    pressuring_frames: tuple[str, ...]
    supportive_frames: tuple[str, ...]
    definitions: dict  # label id -> {"nl": ..., "en": ...}
    discourse_terms: tuple[str, ...]

    @property
    def frames(self) -> tuple[str, ...]:
        return self.pressuring_frames + self.supportive_frames

    def frame_side(self, frame: str) -> str:
        return "pressuring" if frame in self.pressuring_frames else "supportive"


@lru_cache(maxsize=4)
def load_codebook(path: Path = CODEBOOK_PATH) -> Codebook:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    stances = tuple(raw["stance"]["labels"])
    if stances != STANCES:
        raise ValueError(f"codebook {path}: stance labels must be {STANCES}, got {stances}")
    frames = raw["frames"]
    definitions = {label: raw["stance"]["labels"][label] for label in stances}
    for side in ("pressuring", "supportive"):
        definitions.update(frames[side])
    return Codebook(
        version=str(raw["version"]),
        stances=stances,
        pressuring_frames=tuple(frames["pressuring"]),
        supportive_frames=tuple(frames["supportive"]),
        definitions=definitions,
        discourse_terms=tuple(raw.get("discourse_terms", ())),
    )
