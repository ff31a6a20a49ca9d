"""The sentence encoder: the rebuilt multilingual-e5-small by default, or any local / Hugging Face model.

`encode` returns float32, L2-normalised rows in input order; the E5 prefix is added here (once), and embeddings
are reused from an `EmbeddingCache` keyed by the encoder's `version`, a short id of its weights. Two backends
with one interface (`base.CachingEncoder`): torch (`torch_backend.Encoder`, training and the reference) and int8
onnxruntime (`onnx_backend.OnnxEncoder`, inference); `load_inference_encoder` picks one for a saved model.
"""

from __future__ import annotations

from pathlib import Path

from .base import CachingEncoder
from .cache import EmbeddingCache
from .registry import DEFAULT_ALIAS, EncoderIntegrityError
from .source import EncoderSource, adapted_version, identify, resolve_encoder_spec
from .torch_backend import Encoder

__all__ = ["CachingEncoder", "Encoder", "load_inference_encoder", "resolve_encoder_spec", "EmbeddingCache",
           "EncoderIntegrityError", "EncoderSource", "DEFAULT_ALIAS", "identify"]


def load_inference_encoder(spec: str | None, adapter_dir: Path | list[Path] | None = None,
                           backend: str | None = None, cache: EmbeddingCache | None = None,
                           prefix: str | None = None) -> CachingEncoder:
    """The encoder a saved model runs on: `spec` (+ its LoRA adapter(s), merged in the order given) on the chosen
    backend. `prefix`: the text prefix the model was trained with, when its config records one (else
    Encoder.load's default)."""
    from ..settings import BACKENDS, default_backend

    backend = backend or default_backend()
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}: expected one of {', '.join(BACKENDS)}")
    adapters = list(adapter_dir) if isinstance(adapter_dir, (list, tuple)) else [adapter_dir] if adapter_dir else []
    source = identify(spec)
    if backend == "onnx" and source.version is not None and isinstance(source.location, Path):
        from .onnx_backend import OnnxEncoder

        version = source.version
        for adapter in adapters:
            version = adapted_version(version, adapter)
        built = OnnxEncoder.from_build(source.name, version, source.location,
                                       source.prefix if prefix is None else prefix, cache)
        if built is not None:  # served from the int8 build alone: no torch, no torch model in memory
            return built
    encoder = Encoder.load(spec, cache=cache, prefix=prefix, source=source)
    for adapter in adapters:
        encoder = encoder.with_adapter(adapter)
    if backend == "torch":
        return encoder
    from .onnx_backend import OnnxEncoder, calibration_texts

    return OnnxEncoder.from_encoder(encoder, calibration_texts())  # the torch weights are dropped with `encoder`
