"""`discourse topics fit|assign|show`: topic models (BERTopic) over the scored segments in the store."""

from __future__ import annotations

import json
from typing import Optional

import typer

from ._app import fail, store_session, topics_app


@topics_app.command("fit")
def topics_fit(
    name: str = typer.Option(..., "--name", help="Name of the topic model (saved under $DISCOURSE_HOME/topics/NAME)."),
    filter_spec: str = typer.Option("", "--filter", help="Segments to fit on, e.g. 'genre=interview' (default: all but interviewer turns)."),
    db: Optional[str] = typer.Option(None, "--db", help="Database URL (default: the embedded SQLite store)."),
    min_topic_size: int = typer.Option(10, "--min-topic-size", min=2),
    seed: int = typer.Option(42, "--seed"),
    max_outliers: float = typer.Option(0.15, "--max-outliers", min=0.0, max=1.0, help="Reduce outliers (topic -1) to at most this share when the data allow it."),
    representation: str = typer.Option("c-tf-idf", "--representation", help="How topic terms are chosen: c-tf-idf, keybert, mmr or keybert-mmr (BERTopic's representation models on the project's encoder)."),
) -> None:
    """Fit BERTopic on the selected segments (embeddings cached), save it, and store every segment's topic."""
    from ..store.selection import SegmentFilter
    from ..topics import TopicConfig
    from ..topics.service import fit_from_store

    try:
        segment_filter = SegmentFilter.parse(filter_spec)
        with store_session(db) as session:
            config = TopicConfig(min_topic_size=min_topic_size, seed=seed, max_outlier_share=max_outliers,
                                 representation=representation)
            model = fit_from_store(session, name, segment_filter, config)
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
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
    from ..store.selection import SegmentFilter
    from ..topics.service import assign_from_store

    try:
        with store_session(db) as session:
            stored = assign_from_store(session, name, SegmentFilter.parse(filter_spec))
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
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
    from ..store.selection import SegmentFilter
    from ..topics.service import load_topic_model, topic_shares

    try:
        model = load_topic_model(name)
        shares = None
        if group_by:
            with store_session(db) as session:
                shares = topic_shares(session, name, group_by, SegmentFilter.parse(filter_spec))
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
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


NEW_NAME = typer.Option(None, "--as", help="Name of the new version (default: NAME.vN, one more than the highest).")
FROM = typer.Option(..., "--name", help="Topic model (version) to start from; it is kept as it is.")
DB = typer.Option(None, "--db", help="Database URL (default: the embedded SQLite store).")


@topics_app.command("merge")
def topics_merge(
    name: str = FROM,
    topics: str = typer.Option(..., "--topics", help="Comma-separated topic ids to merge, e.g. 2,5."),
    label: Optional[str] = typer.Option(None, "--label", help="Label of the merged topic (default: its terms)."),
    new_name: Optional[str] = NEW_NAME,
    db: Optional[str] = DB,
) -> None:
    """Merge topics into one, saved as a new version with its own assignments."""
    from ..topics.curation import merge_topics

    ids = _topic_ids(topics)
    _curate(db, lambda session: merge_topics(session, name, ids, label, new_name))


@topics_app.command("split")
def topics_split(
    name: str = FROM,
    topic: int = typer.Option(..., "--topic", help="The topic to split."),
    into: int = typer.Option(2, "--into", min=2, max=20, help="Into how many topics (k-means on its sentences)."),
    new_name: Optional[str] = NEW_NAME,
    db: Optional[str] = DB,
) -> None:
    """Re-cluster one topic's sentences into several topics, saved as a new version."""
    from ..topics.curation import split_topic

    _curate(db, lambda session: split_topic(session, name, topic, into, new_name))


@topics_app.command("rename")
def topics_rename(
    name: str = FROM,
    topic: int = typer.Option(..., "--topic", help="The topic to label."),
    label: str = typer.Option(..., "--label", help="The topic's new label."),
    new_name: Optional[str] = NEW_NAME,
    db: Optional[str] = DB,
) -> None:
    """Give a topic a label of your own, saved as a new version (topics and assignments unchanged)."""
    from ..topics.curation import rename_topic

    _curate(db, lambda session: rename_topic(session, name, topic, label, new_name))


@topics_app.command("shares")
def topics_shares(
    name: str = typer.Option(..., "--name"),
    interval: str = typer.Option("month", "--interval", help="month or year of publication."),
    group_by: Optional[str] = typer.Option(None, "--group-by", help="source, genre, role or a speaker attribute."),
    filter_spec: str = typer.Option("", "--filter", help="Restrict to these segments."),
    db: Optional[str] = DB,
    json_output: bool = typer.Option(False, "--json", help="JSON instead of CSV."),
) -> None:
    """Each topic's share per period and group, as CSV (period, group, topic, label, n, count, share)."""
    from ..dashboard.export import to_csv
    from ..store.selection import SegmentFilter
    from ..topics.service import topic_shares_over_time

    try:
        with store_session(db) as session:
            answer = topic_shares_over_time(session, name, interval, group_by, SegmentFilter.parse(filter_spec))
    except (FileNotFoundError, ValueError) as exc:
        fail(str(exc))
    typer.echo(json.dumps(answer, ensure_ascii=False, indent=2) if json_output else to_csv("topic_shares", answer),
               nl=json_output)


def _topic_ids(spec: str) -> list[int]:
    try:
        return [int(part) for part in spec.split(",") if part.strip()]
    except ValueError:
        fail(f"--topics {spec!r}: expected comma-separated topic ids, e.g. 2,5")


def _curate(db: Optional[str], operation) -> None:
    try:
        with store_session(db) as session:
            curated = operation(session)
    except (FileNotFoundError, KeyError, ValueError) as exc:
        fail(str(exc.args[0]) if isinstance(exc, KeyError) else str(exc))
    _print_topics(curated.model.topics())
    typer.echo(f"{curated.name}: new version of {curated.parent} ({curated.model.meta['curation']['operation']}), "
               f"{curated.assigned} segments assigned; {curated.parent} is kept", err=True)
