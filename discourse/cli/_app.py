"""The one typer app every command module registers on, and what the commands share: the quiet/--verbose switch,
the --language-check option, error printing and a session on the store."""

from __future__ import annotations

import logging
import os
import sys
import warnings
from contextlib import contextmanager
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="How Dutch texts frame early parenthood: supportive, pressuring or neutral, with sub-frames.")
corpus_app = typer.Typer(no_args_is_help=True, help="The annotated corpus the project authored.")
app.add_typer(corpus_app, name="corpus")
topics_app = typer.Typer(no_args_is_help=True, help="Topic models (BERTopic) over scored segments in the store.")
app.add_typer(topics_app, name="topics")
annotations_app = typer.Typer(no_args_is_help=True, help="Coding stored sentences by hand: queues and exports.")
app.add_typer(annotations_app, name="annotations")


@app.callback()
def main(
    verbose: bool = typer.Option(False, "--verbose", "-v", envvar="DISCOURSE_VERBOSE",
                                 help="Also show the libraries' progress bars, warnings and log lines."),
) -> None:
    if not verbose:
        _quiet_libraries()


def _quiet_libraries() -> None:
    """A user sees the project's output; the libraries' own (the "Loading weights" progress bar, FutureWarnings,
    the exporter's Tracer- and DeprecationWarnings and onnxruntime's quantisation advice on a first run) is for
    whoever debugs them: --verbose. The project itself speaks through typer.echo, never through warnings or
    logging, so both are silenced below ERROR. Set before the commands import those libraries (lazily)."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # transformers reads it when imported
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    if "transformers" in sys.modules:  # imported already (in-process callers): switch it off directly
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
        transformers_logging.set_verbosity_error()
    warnings.simplefilter("ignore")
    logging.basicConfig(level=logging.ERROR)  # a library's logging.warning() then finds a handler that drops it


def language_check_mode(value: Optional[str]) -> str:
    from ..pipeline.language import require_mode
    from ..settings import default_language_check

    try:
        return require_mode(value or default_language_check())
    except ValueError as exc:
        fail(f"--language-check: {exc}")


LANGUAGE_CHECK_HELP = ("'strict' (default; DISCOURSE_LANGUAGE_CHECK): refuse texts confidently not Dutch and flag the "
                       "uncertain (language_uncertain); 'warn': refuse none, flag them; 'off': no language detection.")


def fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


def log(message: str) -> None:
    """Progress lines of long runs (training, distillation) go to stderr, so stdout stays the result."""
    typer.echo(message, err=True)


@contextmanager
def store_session(db: Optional[str]):
    """A session on the store at `db` (migrated first); the engine is disposed afterwards."""
    from ..store import make_engine, session_factory, upgrade

    engine = make_engine(db)
    try:
        upgrade(engine)
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


def skipped_counts(skipped: dict[str, int]) -> str:
    """A run summary's skipped records as 'reason n, ...' (reasons with none left out), or 'none'."""
    return ", ".join(f"{reason} {n}" for reason, n in sorted(skipped.items()) if n) or "none"
