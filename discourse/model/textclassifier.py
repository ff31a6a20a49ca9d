"""A classifier on the user's own labels, as inference uses it: `discourse classify --model`, the service.

One or several (encoder, head) members whose calibrated probabilities are averaged. Labels are strings exactly as
they appeared in the training data. A document-level model (`level="document"`) embeds a text's sentences
(at most `max_sentences`, spread over the text) and mean-pools them before the head. Training and evaluation are
in `discourse.training.classifier`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np

from ..encoder import CachingEncoder, load_inference_encoder, resolve_encoder_spec
from ..segment import split_sentences
from ..text import Sentence
from .heads import SoftmaxHead

Level = Literal["sentence", "document"]
MAX_DOC_SENTENCES = 64  # sentences pooled per document: bounds the encoder's work on a very long text


def cap_sentences(sentences: list, limit: int) -> list:
    """At most `limit` of `sentences`, evenly spread over the text (beginning, middle and end all count)."""
    if len(sentences) <= limit:
        return list(sentences)
    keep = np.unique(np.linspace(0, len(sentences) - 1, limit).round().astype(int))
    return [sentences[i] for i in keep]


def document_sentences(text: str, limit: int) -> list[str]:
    return cap_sentences([s.text for s in split_sentences(text)], limit) or [text.strip()]


def document_embeddings(encoder: CachingEncoder, texts: list[str], limit: int = MAX_DOC_SENTENCES,
                        batch_size: int = 32) -> np.ndarray:
    """Per text: the mean of its sentences' embeddings, L2-normalised (the scale the heads are fitted on)."""
    units, spans = [], []
    for text in texts:
        sentences = document_sentences(text, limit)
        spans.append((len(units), len(sentences)))
        units.extend(sentences)
    vectors = encoder.encode(units, batch_size=batch_size)
    pooled = np.stack([vectors[a:a + n].mean(axis=0) for a, n in spans]) if spans else \
        np.zeros((0, encoder.dim), np.float32)
    return (pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)).astype(np.float32)


class TextClassifier:
    """One or several (encoder, head) members; their calibrated probabilities are averaged."""

    def __init__(self, config: dict, encoder: CachingEncoder, head: SoftmaxHead,
                 members: list[tuple[CachingEncoder, SoftmaxHead]] | None = None):
        self.config = config
        self.members = members or [(encoder, head)]
        self.encoder, self.head = self.members[0]

    @classmethod
    def load(cls, directory: str | Path, encoder: CachingEncoder | None = None,
             backend: str | None = None) -> "TextClassifier":
        from ..encoder.adapters import domain_adapter_dirs

        directory = Path(directory)
        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        domain = domain_adapter_dirs(directory, config.get("encoder_adapters"))
        specs = config.get("members") or [{"head": "head", "adapter": config.get("adapter")}]
        encoders: dict[str | None, CachingEncoder] = {}  # members without an own adapter share one encoder
        members = []
        for spec in specs:
            key = spec.get("adapter")
            if key not in encoders:
                if encoder is not None and key is None:
                    encoders[key] = encoder
                else:
                    adapters = domain + ([directory / key] if key else [])
                    encoders[key] = load_inference_encoder(resolve_encoder_spec(config["encoder"], directory),
                                                           adapters, backend, prefix=config.get("encoder_prefix"))
            members.append((encoders[key], SoftmaxHead.load(directory, spec["head"])))
        return cls(config, members[0][0], members[0][1], members)

    @property
    def labels(self) -> list[str]:
        return self.head.labels

    @property
    def pools_documents(self) -> bool:
        """A document-level model: every text is split into sentences and pooled before the head."""
        return self.config.get("level") == "document"

    def describe(self) -> dict:
        return {"model": self.config["name"], "model_version": self.config["version"],
                "codebook_version": None, "encoder_version": self.encoder.version}

    def features(self, encoder: CachingEncoder, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if self.pools_documents:
            return document_embeddings(encoder, texts, self.config.get("max_sentences", MAX_DOC_SENTENCES),
                                       batch_size)
        return encoder.encode(texts, batch_size=batch_size)

    def predict_proba(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        features: dict[int, np.ndarray] = {}
        total = np.zeros((len(texts), len(self.labels)))
        for encoder, head in self.members:
            if id(encoder) not in features:
                features[id(encoder)] = self.features(encoder, texts, batch_size)
            total += head.predict_proba(features[id(encoder)])
        return total / len(self.members)

    def predict(self, texts: list[str], batch_size: int = 32) -> list[dict]:
        if not texts:
            return []
        probs = self.predict_proba(texts, batch_size)
        rows = [{"label": self.labels[int(p.argmax())],
                 "scores": {label: round(float(v), 4) for label, v in zip(self.labels, p)}} for p in probs]
        if self.pools_documents:
            limit = self.config.get("max_sentences", MAX_DOC_SENTENCES)
            for row, text in zip(rows, texts):
                total = len(split_sentences(text))
                row["sentences"] = {"total": total, "pooled": min(max(total, 1), limit)}
        return rows

    def aggregate(self, sentences: list[Sentence], predictions: list[dict]) -> dict:
        """Document = mean of its sentences' probabilities; evidence = the strongest sentence per label."""
        probs = np.array([[p["scores"][label] for label in self.labels] for p in predictions]).mean(axis=0)
        evidence = {}
        for label in self.labels:
            best = max(range(len(sentences)), key=lambda i: predictions[i]["scores"][label])
            if predictions[best]["label"] == label:
                s = sentences[best]
                evidence[label] = [{"sentence": s.text, "start": s.start, "end": s.end,
                                    "score": predictions[best]["scores"][label]}]
        return {"label": self.labels[int(probs.argmax())],
                "scores": {label: round(float(v), 4) for label, v in zip(self.labels, probs)},
                "sentences": {"total": len(sentences)}, "evidence": evidence}
