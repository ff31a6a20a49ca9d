"""Load whichever kind of model folder a path holds: the framing model or a `discourse train` classifier."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Union

from ..settings import model_dir
from .framing import FramingModel
from .textclassifier import TextClassifier

Model = Union[FramingModel, TextClassifier]


def model_type(directory: str | Path | None = None) -> str:
    """What kind of model a folder holds, from its config.json alone (nothing is loaded): "framing",
    "classifier", or whatever else the file says. `directory` None: the default model folder."""
    directory = Path(directory) if directory else model_dir()
    config_path = directory / "config.json"
    if not config_path.is_file():
        raise FileNotFoundError(f"{directory} is not a model folder: it has no config.json")
    return json.loads(config_path.read_text(encoding="utf-8")).get("type")


def load_model(directory: str | Path | None = None, backend: str | None = None) -> Model:
    """`backend`: "onnx" or "torch" (default: `DISCOURSE_BACKEND`, else "onnx")."""
    directory = Path(directory) if directory else model_dir()
    kind = model_type(directory)
    if kind == "framing":
        return FramingModel.load(directory, backend=backend)
    if kind == "classifier":
        return TextClassifier.load(directory, backend=backend)
    raise ValueError(f"{directory / 'config.json'}: unknown model type {kind!r} (expected 'framing' or "
                     f"'classifier')")
