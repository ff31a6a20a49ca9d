"""Commands that write a model: `train` (your own labels), `adapt-encoder`, `train-framing` (the shipped framing
model) and `distill`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._app import app, fail, log


@app.command()
def train(
    data: Optional[Path] = typer.Option(None, "--data", help="CSV or JSON-lines file with a text and a label column."),
    text_column: Optional[str] = typer.Option(None, "--text-column"),
    label_column: Optional[str] = typer.Option(None, "--label-column"),
    out: Optional[Path] = typer.Option(None, "--out", help="Folder to write the model into (--from-annotations: default <data folder>/models/framing-VERSION)."),
    mode: str = typer.Option("finetune", "--mode", help="'finetune' (LoRA on the encoder's top layers; minutes to tens of minutes) or 'head' (frozen encoder; a minute or two, less accurate)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the test split and of the first model."),
    seeds: int = typer.Option(1, "--seeds", help="Train N models (seeds SEED..SEED+N-1, each its own dev split) and average their probabilities; the card reports mean ± sd and the ensemble."),
    level: str = typer.Option("sentence", "--level", help="'sentence': each text is one unit; 'document': split into sentences, embed and mean-pool (for labels of whole articles)."),
    max_sentences: int = typer.Option(64, "--max-sentences", help="Document level: at most N sentences per text, spread over it."),
    finetune_sentences: int = typer.Option(8, "--finetune-sentences", help="Document level, finetune: the LoRA stage learns from N sentences per text (spread over it), each with the text's label; the head then sees --max-sentences pooled."),
    test_share: float = typer.Option(0.15, "--test-share", help="Share held out as the test split the card reports on; 0: report on dev (optimistic)."),
    class_weight: str = typer.Option("balanced", "--class-weight", help="'balanced' or 'none' (head and fine-tuning loss)."),
    epochs: int = typer.Option(4, "--epochs", help="Maximum epochs for --mode finetune (early stopping on dev)."),
    lr: float = typer.Option(5e-4, "--lr", help="LoRA learning rate (finetune)."),
    rank: int = typer.Option(8, "--rank", help="LoRA rank (finetune)."),
    top_layers: int = typer.Option(6, "--top-layers", help="Adapt only the top N encoder layers; 0 = all (finetune)."),
    schedule: str = typer.Option("linear", "--schedule", help="LoRA learning rate after warm-up: 'linear' decay to zero or 'constant' (finetune)."),
    patience: int = typer.Option(2, "--patience", help="Epochs without dev improvement before stopping (finetune)."),
    encoder: Optional[str] = typer.Option(None, "--encoder", help="Encoder id or path, or an adapter folder from `discourse adapt-encoder` (default: DISCOURSE_ENCODER or the embedded e5)."),
    from_annotations: bool = typer.Option(False, "--from-annotations", help="Train a new version of the framing model from the coders' codes in the store (adjudicated, else agreed), instead of --data."),
    filter_: Optional[str] = typer.Option(None, "--filter", help="--from-annotations: only codes of sentences this filter selects (the compare/dashboard syntax)."),
    queue: Optional[str] = typer.Option(None, "--queue", help="--from-annotations: only codes coded in this queue."),
    db: Optional[str] = typer.Option(None, "--db", help="--from-annotations: database URL (default: SQLite under $DISCOURSE_DATA or ~/.cache/discourse/data)."),
    base_model: Optional[Path] = typer.Option(None, "--base-model", help="--from-annotations: the model whose encoder the new version keeps and that it is compared with (default: the served one, DISCOURSE_MODEL)."),
    corpus: bool = typer.Option(True, "--corpus/--no-corpus", help="--from-annotations: also fit on the project's authored corpus."),
    holdout: float = typer.Option(0.2, "--holdout", help="--from-annotations: share of the coded sentences held out to compare the new model with the current one."),
    code_weight: int = typer.Option(3, "--code-weight", min=1, help="--from-annotations: each coded training sentence counts this many times."),
    model_version: Optional[str] = typer.Option(None, "--model-version", help="--from-annotations: the new version (default: BASE+codesN)."),
    rescore: bool = typer.Option(True, "--rescore/--no-rescore", help="--from-annotations: score the store's documents with the new version too, so the dashboard shows it beside the old."),
) -> None:
    """Train a classifier on your own labels (any label set); the card (MODEL_CARD.md) sets its test figures beside
    a TF-IDF baseline, with per-class F1, the confusion matrix and the calibration error. With --from-annotations: a
    new version of the framing model from the codes coded in the dashboard or imported from a QDA tool."""
    from ..encoder import EncoderIntegrityError
    from ..training.classifier import TrainOptions, train_classifier

    if from_annotations:
        _train_from_annotations(out, filter_, queue, db, base_model, corpus, holdout, code_weight, seed, model_version,
                                rescore)
        return
    missing = [flag for flag, value in (("--data", data), ("--text-column", text_column),
                                        ("--label-column", label_column), ("--out", out)) if value is None]
    if missing:
        fail(f"{', '.join(missing)} needed (or --from-annotations)")
    if class_weight not in ("balanced", "none"):
        fail(f"--class-weight must be 'balanced' or 'none', not {class_weight!r}")
    options = TrainOptions(mode=mode, level=level, seeds=seeds, test_share=test_share,
                           class_weight=None if class_weight == "none" else class_weight, max_sentences=max_sentences,
                           finetune_sentences=finetune_sentences,
                           epochs=epochs, lr=lr, rank=rank, top_layers=top_layers or None, schedule=schedule,
                           patience=patience)
    try:
        options.check()  # before minutes of loading and encoding
        train_classifier(data, text_column, label_column, out, options, seed, encoder, log=log)
    except (FileNotFoundError, ValueError, EncoderIntegrityError) as exc:
        fail(str(exc))
    typer.echo(f"model written to {out}")


def _train_from_annotations(out: Optional[Path], filter_: Optional[str], queue: Optional[str], db: Optional[str],
                            base_model: Optional[Path], corpus: bool, holdout: float, code_weight: int, seed: int,
                            version: Optional[str], rescore: bool) -> None:
    import sys

    from ..model.loading import load_model
    from ..pipeline.rescore import rescore_store
    from ..settings import model_dir
    from ..store import make_engine, upgrade
    from ..store.annotations import annotation_rows
    from ..training.from_annotations import train_from_annotations
    from ._app import store_session

    base = base_model or model_dir()
    try:
        with store_session(db) as session:
            rows = annotation_rows(session, filter_, queue=queue)
        metrics = train_from_annotations(rows, out, base, version=version, include_corpus=corpus, holdout=holdout,
                                         code_weight=code_weight, seed=seed, command=" ".join(sys.argv), log=log)
        out = Path(metrics["folder"])
        typer.echo(f"model {metrics['version']} written to {out}")
        if rescore:
            engine = make_engine(db)
            upgrade(engine)
            summary = rescore_store(engine, load_model(out), metrics["base_model"]["version"],
                                    command=" ".join(sys.argv))
            typer.echo(f"rescored {summary.scored} documents as {summary.to_version} beside "
                       f"{summary.from_version} (errors {summary.errors})")
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))


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
    head_steps: Optional[int] = typer.Option(None, "--head-steps", help="Batches that train the masked-word head alone over the frozen encoder first (default: half of --steps)."),
) -> None:
    """Continue masked-language-model training of the encoder on your own unlabelled Dutch text, as a small LoRA
    adapter (checksummed); `discourse train --encoder DIR` then trains on base + adapter."""
    from ..training.adapt import adapt_encoder
    from ..encoder import EncoderIntegrityError

    try:
        adapt_encoder(data, out, encoder, steps=steps, rank=rank, lr=lr, batch_size=batch_size,
                      max_tokens=max_tokens, top_layers=top_layers or None, seed=seed, head_steps=head_steps,
                      log=log)
    except (FileNotFoundError, ValueError, EncoderIntegrityError) as exc:
        fail(str(exc))
    typer.echo(f"adapter written to {out}")


@app.command("train-framing")
def train_framing(
    out: Path = typer.Option(Path("models/framing-e5-small"), "--out"),
    mode: str = typer.Option("finetune", "--mode", help="'finetune' (LoRA on the encoder's top layers; minutes to tens of minutes) or 'head' (frozen encoder; a minute or two, less accurate)."),
    seed: int = typer.Option(0, "--seed"),
    epochs: int = typer.Option(4, "--epochs", help="Maximum LoRA epochs (finetune)."),
    lr: float = typer.Option(5e-4, "--lr", help="LoRA learning rate (finetune)."),
    rank: int = typer.Option(8, "--rank", help="LoRA rank (finetune)."),
    top_layers: int = typer.Option(6, "--top-layers", help="Adapt only the top N encoder layers; 0 = all (finetune)."),
    patience: int = typer.Option(2, "--patience", help="Epochs without dev improvement before stopping (finetune)."),
    schedule: str = typer.Option("constant", "--schedule",
                                 help="LoRA learning rate after warm-up: 'constant' or 'linear' decay (finetune)."),
    model_version: str = typer.Option("1.1.0", "--model-version",
                                      help="Version label written into config.json; every output row carries it."),
    real: bool = typer.Option(True, "--real/--no-real",
                              help="Train and select on the labelled real units too (corpora/real_annotated; their "
                                   "text is read from ../shared/corpora). The real test split is only evaluated."),
    real_weight: int = typer.Option(2, "--real-weight", help="How many times each real training unit counts."),
    adapter_from: Optional[Path] = typer.Option(None, "--adapter-from",
                                                help="Head mode: keep this LoRA adapter folder and fit new heads. "
                                                     "Finetune mode: continue training this adapter (its rank and "
                                                     "layers) instead of a new one."),
    encoder: Optional[str] = typer.Option(None, "--encoder",
                                          help="Encoder (default: the embedded e5): e.g. a domain adapter folder from "
                                               "`discourse adapt-encoder`, copied into the model."),
) -> None:
    """Train the default framing model (relevance, stance, sub-frames) on the authored and the real annotated corpus."""
    from ..training.finetune import SCHEDULES
    from ..training.framing import train_framing_model

    # Checked here, before minutes of loading and encoding, although training would refuse them too.
    if mode not in ("head", "finetune"):
        fail(f"--mode must be 'head' or 'finetune', not {mode!r}")
    if schedule not in SCHEDULES:
        fail(f"--schedule must be one of {', '.join(SCHEDULES)}, not {schedule!r}")
    from ..encoder import EncoderIntegrityError

    try:
        train_framing_model(out, mode=mode, seed=seed, epochs=epochs, lr=lr, rank=rank, top_layers=top_layers,
                            patience=patience, schedule=schedule, version=model_version, real=real,
                            real_weight=real_weight, adapter_from=adapter_from, encoder_spec=encoder, log=log)
    except (FileNotFoundError, EncoderIntegrityError) as exc:  # a wrong --encoder or --adapter-from
        fail(str(exc))


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
    from ..training.distill import distill as distill_model
    from ..training.realcorpus import CorporaMissing

    if layers < 1:
        fail(f"--layers must be at least 1, not {layers}")
    if max_sentences < 2 or epochs < 1 or batch_size < 1:
        fail("--max-sentences must be at least 2, --epochs and --batch-size at least 1")
    try:
        distill_model(teacher, out, layers=layers, data=data, seed=seed, max_sentences=max_sentences, epochs=epochs,
                      batch_size=batch_size, lr=lr, log=log)
    except (FileNotFoundError, ValueError, CorporaMissing) as exc:
        fail(str(exc))
