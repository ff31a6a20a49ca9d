"""What the benches with sub-commands share: their options as one table, and the rule that texts exported for
coders leave the repository (real corpus text never enters it)."""

from __future__ import annotations

import argparse
from pathlib import Path

from discourse.settings import REPO_ROOT

#: Option specs the tables reuse.
FLAG = {"action": "store_true"}
PATH = {"type": Path, "required": True}
ROUND = {"type": int, "required": True}


def parse_commands(description: str, commands: dict[str, dict[str, dict]]) -> argparse.Namespace:
    """Parses argv for `commands`: {command: {"--option": add_argument keywords}}; the command is `args.command`."""
    parser = argparse.ArgumentParser(description=description)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, options in commands.items():
        command = sub.add_parser(name)
        for flag, spec in options.items():
            command.add_argument(flag, **spec)
    return parser.parse_args()


def outside_repository(path: Path) -> Path:
    """`path`, once it is known to lie outside the repository."""
    if path.resolve().is_relative_to(REPO_ROOT.resolve()):
        raise SystemExit("export the texts outside the repository: real text never enters it")
    return path
