"""Build hook; the project's metadata and options are in pyproject.toml.

A wheel carries the clone's shipped data (the codebook, the framing model's small files, the pre-filter and the
encoder checksums) inside the package as discourse/_shipped/, laid out as in the clone, so that an installed
discourse loads its model from any working directory; discourse/settings.py reads from there when that folder
exists. An editable install reads the clone's models/ and corpora/ in place, so nothing is copied for it."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: Paths relative to the repository root; MANIFEST.in puts the same ones in the sdist.
SHIPPED = ("corpora/codebook.yaml", "models/framing-e5-small", "models/prefilter", "models/encoders")
SHIPPED_IN_PACKAGE = Path("discourse") / "_shipped"


class BuildPyWithShippedData(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib) / SHIPPED_IN_PACKAGE
        shutil.rmtree(target, ignore_errors=True)  # a stale build folder must not ship a deleted file
        for name in SHIPPED:
            source, copy = ROOT / name, target / name
            if not source.exists():
                raise FileNotFoundError(f"{source}: the wheel ships it; build from a complete clone or sdist")
            copy.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, copy, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(source, copy)


setup(cmdclass={"build_py": BuildPyWithShippedData})
