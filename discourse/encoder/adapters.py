"""Domain adapter folders as inference reads them: a LoRA adapter written by `discourse adapt-encoder`, next to
`discourse_adapter.json`, which names the base the adapter belongs to and the sha256 of every file. Loading checks
both before merging; the training that writes such a folder is in `discourse.training.adapt`.
"""

from __future__ import annotations

import json
from pathlib import Path

from .registry import EncoderIntegrityError, sha256_file

ADAPTER_MANIFEST = "discourse_adapter.json"


def is_encoder_adapter(path: str | Path) -> bool:
    path = Path(path)
    return path.is_dir() and (path / ADAPTER_MANIFEST).is_file()


def read_adapter_manifest(folder: str | Path) -> dict:
    """The manifest of an adapter folder, after checking every recorded file's sha256."""
    folder = Path(folder)
    manifest = json.loads((folder / ADAPTER_MANIFEST).read_text(encoding="utf-8"))
    for name, expected in manifest.get("sha256", {}).items():
        path = folder / name
        actual = sha256_file(path) if path.is_file() else "missing"
        if actual != expected:
            raise EncoderIntegrityError(f"{path}: sha256 {actual[:16]}… does not match the {expected[:16]}… recorded "
                                        f"in {folder / ADAPTER_MANIFEST}; the adapter is damaged or was changed")
    if not manifest.get("sha256"):
        raise EncoderIntegrityError(f"{folder / ADAPTER_MANIFEST} records no checksums")
    return manifest


#: The sub-folder(s) of a trained model that hold copies of its domain adapters ("encoder-adapter", then
#: "encoder-adapter-1", ...): a model folder is complete on its own.
ENCODER_ADAPTER_DIR = "encoder-adapter"


def copy_domain_adapters(adapters: list[Path], model_dir: Path) -> list[str]:
    """Copy `adapters` (in merge order) into `model_dir`; returns the sub-folder names a config records."""
    import shutil

    names = [ENCODER_ADAPTER_DIR if k == 0 else f"{ENCODER_ADAPTER_DIR}-{k}" for k in range(len(adapters))]
    for source, name in zip(adapters, names):
        shutil.rmtree(model_dir / name, ignore_errors=True)
        shutil.copytree(source, model_dir / name)
    return names


def domain_adapter_dirs(model_dir: Path, names: list[str] | None) -> list[Path]:
    """A model folder's domain adapters by the names its config records, each checked before it is merged."""
    folders = [Path(model_dir) / name for name in names or []]
    for folder in folders:
        read_adapter_manifest(folder)
    return folders
