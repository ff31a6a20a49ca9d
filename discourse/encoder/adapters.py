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
