"""The `discourse` command line: a thin face over the library (every command calls one library function).

One typer app (`_app.app`); each module registers the commands of one group on it:

    setup       setup                      the embedded encoder and the onnx build
    classify    classify, evaluate         a model applied to texts
    train       train, adapt-encoder, train-framing, distill
    archive     score-archive              an archive into the store
    interviews  ingest-interviews          transcripts into the store
    compare     compare                    two sets of scored segments
    topics      topics fit|assign|show
    corpus      corpus describe|agreement|overlap
    card        card                       a model card's figures
    qdpx        export-qdpx, import-qdpx   REFI-QDA projects to and from QDA tools
    annotations annotations queue|export|agreement   coding queues, the coders' annotations, agreement
"""

from __future__ import annotations

from typer.main import get_command_name

from . import archive, card, classify, compare, corpus, interviews, qdpx, setup, topics, train  # noqa: F401  (register)
from ._app import app, main
# Not `from . import annotations`: the package's name `annotations` is the __future__ import, so that form would
# find it and never load the module.
from .annotations import annotations_queue  # noqa: F401  (register)
from .compare import _cached_encoder  # noqa: F401  (bench/echo_pairs.py uses the CLI's echo encoder)

__all__ = ["app", "main"]

# `discourse --help` lists the commands in the order a user meets them (set up, classify, train, score, compare),
# not in the order the modules above happen to register them; a command not named here comes after these.
_HELP_ORDER = ["setup", "classify", "train", "adapt-encoder", "evaluate", "score-archive", "ingest-interviews",
               "compare", "train-framing", "distill", "card"]


def _help_position(command) -> int:
    name = command.name or get_command_name(command.callback.__name__)
    return _HELP_ORDER.index(name) if name in _HELP_ORDER else len(_HELP_ORDER)


app.registered_commands.sort(key=_help_position)
