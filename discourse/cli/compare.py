"""`discourse compare`: two filtered sets of scored segments side by side, as a report."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ._app import app, fail, store_session


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
    from ..compare import build_report, report_json
    from ..compare.run import compare
    from ..store.selection import SegmentFilter

    try:
        filter_a, filter_b = SegmentFilter.parse(a), SegmentFilter.parse(b)
        encoder = _cached_encoder() if echo else None
        with store_session(db) as session:
            result = compare(session, filter_a, filter_b, encoder=encoder, topic_model=topic_model,
                             n_resamples=resamples, seed=seed, min_freq=min_freq, lemmas=lemmas,
                             labels=(label_a, label_b))
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
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
    from ..encoder.cache import EmbeddingCache
    from ..model.loading import load_model
    from ..settings import embedding_cache_path

    encoder = load_model().encoder
    encoder.cache = EmbeddingCache(embedding_cache_path())
    return encoder
