"""`discourse score-archive`: an archive of articles scored into the store, here or on Ray, with its progress."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import typer

from ._app import LANGUAGE_CHECK_HELP, app, fail, language_check_mode, skipped_counts


@app.command("score-archive")
def score_archive_command(
    paths: list[str] = typer.Argument(..., help="Files, directories or globs: JSONL, CSV/TSV, Parquet, gzip."),
    db: Optional[str] = typer.Option(None, "--db", help="Database URL (default: SQLite under $DISCOURSE_DATA or ~/.cache/discourse/data)."),
    source: Optional[str] = typer.Option(None, "--source", help="Source name for records without a source field (default: the file name)."),
    genre: str = typer.Option("news", "--genre", help="Genre of these documents: news, policy, ... (filters and comparisons use it)."),
    engine: str = typer.Option("local", "--engine", help="'local' (this process) or 'ray' (Ray Data; needs the 'ray' extra)."),
    map_fields: Optional[str] = typer.Option(None, "--map", help="Field mapping, e.g. 'text=body,date=pub_date,id=uuid'."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Framing model folder (default: the shipped one)."),
    batch_size: int = typer.Option(64, "--batch-size", min=1, help="Articles per transaction."),
    no_prefilter: bool = typer.Option(False, "--no-prefilter", help="Send every sentence to the transformer."),
    backend: Optional[str] = typer.Option(None, "--backend", help="'onnx' (default) or 'torch'."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="An existing Ray cluster, e.g. ray://head:10001 (default: $RAY_ADDRESS, else a local Ray)."),
    workers: Optional[int] = typer.Option(None, "--workers", min=1, help="Ray: scoring actors (default: the cluster's CPUs but one, which reads)."),
    language_check: Optional[str] = typer.Option(None, "--language-check", help=LANGUAGE_CHECK_HELP),
) -> None:
    """Score every article of an archive into the store; resumable: run the same command again after a crash."""
    from ..model.framing import FramingModel
    from ..ingest import FieldMapping, estimate_records, expand_paths
    from ..model.loading import load_model
    from ..model.prefilter import RelevancePrefilter
    from ..pipeline.score_archive import score_archive

    if engine not in ("local", "ray"):
        fail(f"--engine {engine!r}: expected 'local' or 'ray'")
    language_check = language_check_mode(language_check)
    try:
        mapping = FieldMapping.parse(map_fields)
        expected = estimate_records(expand_paths(list(paths)))
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    report = _ProgressReporter(expected)
    try:
        if engine == "ray":
            from ..pipeline.ray_engine import score_archive_ray

            summary = score_archive_ray(paths, model_dir=str(model) if model else None, backend=backend, db_url=db,
                                        source=source, mapping=mapping, batch_size=batch_size,
                                        use_prefilter=not no_prefilter, genre=genre, progress=report,
                                        command=" ".join(sys.argv), address=ray_address, workers=workers,
                                        language_check=language_check)
        else:
            loaded = load_model(model, backend)
            if not isinstance(loaded, FramingModel):
                fail("score-archive needs a framing model (relevance, stance and sub-frames), not a "
                     "`discourse train` classifier")
            prefilter = None if no_prefilter else RelevancePrefilter.load()
            summary = score_archive(paths, loaded, db_url=db, source=source, mapping=mapping,
                                    batch_size=batch_size, prefilter=prefilter, genre=genre, progress=report,
                                    command=" ".join(sys.argv), language_check=language_check)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        fail(str(exc))
    finally:
        report.close()
    skipped = skipped_counts(summary.skipped)
    typer.echo(f"run {summary.run_id}: {summary.scored} scored, skipped: {skipped}, errors {summary.errors}; "
               f"{summary.seconds:.1f}s, {summary.docs_per_second:.1f} docs/s; {summary.sentences_to_model} of "
               f"{summary.sentences_total} sentences went to the model"
               + (f" ({summary.sentences_encoded} encoded, the rest met before in the run)"
                  if getattr(summary, "sentences_encoded", None) is not None else ""), err=True)
    for path, encoding in sorted(getattr(summary, "encodings", {}).items()):
        typer.echo(f"read as {encoding}: {path} (not valid UTF-8)", err=True)
    stages = summary.stage_seconds
    if stages:
        typer.echo("time per stage: " + ", ".join(f"{name} {seconds:.1f}s" for name, seconds in
                                                  sorted(stages.items(), key=lambda kv: -kv[1])), err=True)


class _ProgressReporter:
    """A rich progress bar with docs/s and ETA on a terminal; a plain log line every 10 s otherwise (CI logs,
    nohup). `expected` is the estimated number of records (estimate_records), which the ETA is based on."""

    def __init__(self, expected: int):
        self.expected = max(expected, 1)
        self.live = sys.stderr.isatty()
        self.last = 0.0
        self.bar = None
        if self.live:
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                                TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), transient=True)
            self.task = self.bar.add_task("starting", total=self.expected)
            self.bar.start()

    def __call__(self, summary, read: int) -> None:
        rate = read / summary.seconds if summary.seconds else 0.0
        line = (f"{read} of ~{self.expected} read, {summary.scored} scored, {sum(summary.skipped.values())} "
                f"skipped, {summary.docs_per_second:.1f} docs/s")
        if self.bar is not None:
            self.bar.update(self.task, description=line, completed=min(read, self.expected))
        elif time.monotonic() - self.last >= 10:
            self.last = time.monotonic()
            eta = f", ETA {_duration((self.expected - read) / rate)}" if rate and read < self.expected else ""
            typer.echo(line + eta, err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


@app.command("rescore")
def rescore_command(
    model: Path = typer.Option(..., "--model", "-m", help="Framing model folder of the new version."),
    from_version: Optional[str] = typer.Option(None, "--from-version", help="Score the documents this version scored, sentence for sentence (default: the latest version in the store)."),
    db: Optional[str] = typer.Option(None, "--db", help="Database URL (default: SQLite under $DISCOURSE_DATA or ~/.cache/discourse/data)."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Documents per read from the store."),
    backend: Optional[str] = typer.Option(None, "--backend", help="'onnx' (default) or 'torch'."),
    unscored: bool = typer.Option(False, "--unscored", help="Instead: score the documents no model has scored yet (e.g. imported with import-qdpx)."),
) -> None:
    """Score the store's documents again with another model version, on the same sentences, speakers and pre-filter
    decisions, beside the old scores; or (--unscored) the documents not scored yet. Resumable."""
    from ..model.framing import FramingModel
    from ..model.loading import load_model
    from ..pipeline.rescore import rescore_store
    from ..store import make_engine, upgrade

    try:
        loaded = load_model(model, backend)
        if not isinstance(loaded, FramingModel):
            fail("rescore needs a framing model (relevance, stance and sub-frames)")
        engine = make_engine(db)
        upgrade(engine)
        summary = rescore_store(engine, loaded, from_version, batch_size, command=" ".join(sys.argv),
                                unscored=unscored)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    basis = f"on the sentences of {summary.from_version}" if summary.from_version else "(not scored before)"
    typer.echo(f"run {summary.run_id}: {summary.scored} documents scored by {summary.to_version} {basis}, skipped: "
               f"{skipped_counts(summary.skipped)}, errors {summary.errors}; {summary.seconds:.1f}s", err=True)
