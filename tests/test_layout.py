"""The package layering, read from the source: every import (module level and inside functions) of every module.

Inference (`model/`, `encoder/`) sits below the pipeline, the store and the faces; training builds models and is
never imported by the code that serves them; the library never imports the HTTP face.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "discourse"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of every module `path` imports; `from x import y` counts as x and x.y (y may be a module)."""
    module = _module_name(path)
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            target = ".".join(base + (node.module.split(".") if node.module else []))
            names.add(target)
            names.update(f"{target}.{alias.name}" for alias in node.names)
    return names


def _violations(folders: list[str], forbidden: list[str]) -> list[str]:
    found = []
    for folder in folders:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for name in sorted(_imports(path)):
                if any(name == f or name.startswith(f + ".") for f in forbidden):
                    found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_the_import_reader_resolves_relative_imports():
    assert "discourse.model.heads" in _imports(LIBRARY / "model" / "framing.py")
    assert "discourse.codebook" in _imports(LIBRARY / "model" / "framing.py")


@pytest.mark.parametrize("folder", ["discourse/model", "discourse/encoder"])
def test_inference_imports_no_stage_above_it_nor_training(folder):
    forbidden = ["discourse.training", "discourse.store", "discourse.pipeline", "discourse.cli", "api"]
    assert _violations([folder], forbidden) == []


def test_only_the_command_line_imports_training():
    inference = [p for p in LIBRARY.iterdir() if p.name not in ("training", "cli", "__pycache__")]
    found = []
    for path in [ROOT / "api", *inference]:
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.suffix == ".py" else []
        found += [f"{f.relative_to(ROOT)} imports {name}" for f in files for name in sorted(_imports(f))
                  if name == "discourse.training" or name.startswith("discourse.training.")]
    assert found == []


def test_the_library_never_imports_the_http_face():
    assert _violations(["discourse"], ["api"]) == []
