"""The framing model: an encoder (body) and three heads — relevance, stance, sub-frames.

Like SetFit, the body turns a unit of text into one vector and small heads turn the vector into labels. A model
lives in one folder (config.json + heads + optional LoRA adapter + card) so it can be versioned, shipped and
swapped with `--model DIR` or `DISCOURSE_MODEL`.

Scores. The stance head is trained on relevant units only, so it gives P(stance | relevant). The product's
three scores fold relevance in: an irrelevant text frames no parenthood and counts as neutral,
    P(supportive) = r·s_sup,  P(pressuring) = r·s_pres,  P(neutral) = r·s_neu + (1 − r),
which sums to 1 and keeps a football report from being called "pressuring".
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from ..codebook import STANCES
from ..encoder import CachingEncoder, EmbeddingCache, load_inference_encoder, resolve_encoder_spec
from ..encoder.adapters import domain_adapter_dirs
from ..text import Sentence
from .aggregate import aggregate_document
from .heads import MultiLabelHead, SoftmaxHead

CONFIG_FILE = "config.json"


@dataclass
class FramingConfig:
    name: str
    version: str
    encoder: str
    encoder_version: str
    codebook_version: str
    adapter: str | None = None  # sub-folder with a LoRA adapter, merged into the encoder at load
    relevance_threshold: float = 0.5
    document_neutral_weight: float = 1.0  # see discourse.model.aggregate; chosen on real dev documents
    encoder_prefix: str | None = None  # the text prefix the heads were fitted with; None: the encoder's default
    encoder_adapters: list[str] | None = None  # domain adapters (`discourse adapt-encoder`), merged before `adapter`

    @classmethod
    def read(cls, directory: Path) -> "FramingConfig":
        raw = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
        return cls(**{k: raw[k] for k in cls.__dataclass_fields__ if k in raw})

    def write(self, directory: Path) -> None:
        payload = {"type": "framing", **self.__dict__}
        (directory / CONFIG_FILE).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")


class FramingModel:
    def __init__(self, config: FramingConfig, encoder: CachingEncoder, relevance: SoftmaxHead, stance: SoftmaxHead,
                 frames: MultiLabelHead):
        if tuple(stance.labels) != STANCES:
            raise ValueError(f"stance head labels {stance.labels} differ from the codebook's {STANCES}")
        self.config, self.encoder = config, encoder
        self.relevance_head, self.stance_head, self.frames_head = relevance, stance, frames

    @classmethod
    def load(cls, directory: str | Path, encoder: CachingEncoder | None = None,
             cache: EmbeddingCache | None = None, backend: str | None = None) -> "FramingModel":
        """`backend`: "onnx" or "torch" (default: `DISCOURSE_BACKEND`, else "onnx"); ignored with `encoder`."""
        directory = Path(directory)
        if not (directory / CONFIG_FILE).is_file():
            raise FileNotFoundError(f"{directory} is not a framing model folder (no {CONFIG_FILE})")
        config = FramingConfig.read(directory)
        if encoder is None:
            adapters = domain_adapter_dirs(directory, config.encoder_adapters) + (
                [directory / config.adapter] if config.adapter else [])
            encoder = load_inference_encoder(resolve_encoder_spec(config.encoder, directory), adapters, backend,
                                             cache, config.encoder_prefix)
        return cls(config, encoder, SoftmaxHead.load(directory, "relevance"), SoftmaxHead.load(directory, "stance"),
                   MultiLabelHead.load(directory, "frames"))

    @cached_property
    def labels(self) -> list[str]:
        return list(STANCES)

    def describe(self) -> dict:
        """What every output row carries so that a score can be traced to the model that made it."""
        return {"model": self.config.name, "model_version": self.config.version,
                "codebook_version": self.config.codebook_version, "encoder_version": self.encoder.version}

    def predict_embeddings(self, x: np.ndarray) -> dict[str, np.ndarray]:
        relevance = self.relevance_head.predict_proba(x)[:, self.relevance_head.labels.index("relevant")]
        stance = self.stance_head.predict_proba(x)
        frames = self.frames_head.predict_proba(x)
        scores = stance * relevance[:, None]
        scores[:, STANCES.index("neutral")] += 1.0 - relevance
        return {"relevance": relevance, "stance_given_relevant": stance, "scores": scores, "frames": frames}

    def predict(self, texts: list[str], batch_size: int = 32) -> list[dict]:
        """One prediction dict per text: label, scores, relevance, frames, stance_given_relevant."""
        if not texts:
            return []
        raw = self.predict_embeddings(self.encoder.encode(texts, batch_size=batch_size))
        return [self._row(raw, i) for i in range(len(texts))]

    def aggregate(self, sentences: list[Sentence], predictions: list[dict]) -> dict:
        thresholds = dict(zip(self.frames_head.labels, self.frames_head.thresholds))
        return aggregate_document(sentences, predictions, self.config.relevance_threshold, thresholds,
                                  self.config.document_neutral_weight)

    def _row(self, raw: dict[str, np.ndarray], i: int) -> dict:
        scores = raw["scores"][i]
        frames = [
            {"frame": name, "score": round(float(p), 4)}
            for name, p, threshold in zip(self.frames_head.labels, raw["frames"][i], self.frames_head.thresholds)
            if p >= threshold and raw["relevance"][i] >= self.config.relevance_threshold
        ]
        frames.sort(key=lambda f: -f["score"])
        return {
            "label": STANCES[int(scores.argmax())],
            "scores": {label: round(float(p), 4) for label, p in zip(STANCES, scores)},
            "relevance": round(float(raw["relevance"][i]), 4),
            "stance_given_relevant": {l: round(float(p), 4) for l, p in zip(STANCES, raw["stance_given_relevant"][i])},
            "frames": frames,
            "frame_scores": {n: round(float(p), 4) for n, p in zip(self.frames_head.labels, raw["frames"][i])},
        }
