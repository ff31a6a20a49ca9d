"""Topic curation: a researcher merges topics, splits one off, or renames one, and keeps what the algorithm found.

Every change is saved as a NEW topic model version beside the old one (`ouders` -> `ouders.v2` -> `ouders.v3`),
which stays selectable in the CLI, the API and the dashboard with its own assignments; the new version's
metadata says which version it came from (`parent`) and what was done (`curation`).

    discourse topics merge  --name ouders --topics 2,5 [--label "slaap"]    -> ouders.v2
    discourse topics split  --name ouders --topic 3 --into 2                -> ouders.v2
    discourse topics rename --name ouders --topic 1 --label "kinderopvang"  -> ouders.v2

A merge or split re-computes what depends on the assignment (terms, sizes, centroids that `assign` uses,
examples) by the same path as the fit (TopicModel.curated), on every segment the old version assigned in the store
(those it was fitted on and any `topics assign` added later). A rename changes only the label. BERTopic's
own merge_topics is not used: it re-sorts topic ids by size, and its topic embeddings would be weighted
c-TF-IDF ones rather than the centroids `assign` relies on. Topic ids stay 0..n-1 (BERTopic's c-TF-IDF rows
follow them): after a merge the ids above the merged ones move down, a split adds ids at the end; the
`mapping` in the curation record (old id -> new id) says where each old topic went.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass

import numpy as np
from sqlalchemy.orm import Session

from ..store.assignments import add_topic_assignments, clear_topic_assignments
from ..store.filters import ROLES, Condition, SegmentFilter
from ..store.selection import SegmentRow, assigned_topics, select_segments
from .model import OUTLIER, TopicModel
from .service import cached_topic_encoder, distinct_rows, list_models, load_topic_model, model_path

_VERSION = re.compile(r"^(?P<base>.+)\.v(?P<n>\d+)$")
MAX_LABEL = 200


class VersionExists(ValueError):
    """The name asked for the new version is taken: a version is never overwritten."""


@dataclass
class Curated:
    name: str  # the new version
    parent: str
    model: TopicModel
    assigned: int  # segments whose topic was written for the new version


def base_name(name: str) -> str:
    """The name all versions of a topic model share: the fitted model's (`ouders` for `ouders.v3`, and for a
    version saved under a name of its own, as its metadata records)."""
    path = model_path(name) / "topic_model.json"
    meta = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    if meta.get("versions_of"):
        return meta["versions_of"]
    match = _VERSION.match(name)
    return match.group("base") if match else name


def versions(name: str) -> list[str]:
    """Every saved version of `name`'s topic model: the fitted one first, then `.v2`, `.v3`..., then versions
    saved under names of their own, alphabetically."""
    base = base_name(name)

    def order(version: str) -> tuple[int, str]:
        match = _VERSION.match(version)
        return (1 if version == base else int(match.group("n")) if match else 10**9, version)

    return sorted((m for m in list_models() if base_name(m) == base), key=order)


def next_version_name(name: str) -> str:
    """The name of the next version: one more than the highest saved one of the same base."""
    base = base_name(name)
    numbers = [int(m.group("n")) for m in map(_VERSION.match, versions(name)) if m and m.group("base") == base]
    return f"{base}.v{max(numbers, default=1) + 1}"


# ---------------------------------------------------------------------- what each operation does to the topics


def merged(topics: list[int], ids: list[int]) -> tuple[list[int], dict[int, int]]:
    """`ids` (two or more, no outliers) become one topic with the smallest id; then ids are made contiguous."""
    ids = sorted(set(ids))
    _check_ids(topics, ids)
    if len(ids) < 2:
        raise ValueError("merging needs at least two different topics")
    if OUTLIER in ids:
        raise ValueError("the outliers (-1) cannot be merged into a topic: they are the sentences no topic fits")
    joined = {t: ids[0] if t in ids else t for t in set(topics)}
    new_topics, renumbered = _contiguous([joined[t] for t in topics])
    return new_topics, {old: renumbered[joined[old]] for old in joined}


def split(topics: list[int], embeddings: np.ndarray, topic_id: int, k: int, seed: int = 42
          ) -> tuple[list[int], dict[int, int]]:
    """Topic `topic_id`'s sentences re-clustered into `k` (k-means on their embeddings, seeded): the largest part
    keeps the id, the others get new ids at the end."""
    from sklearn.cluster import KMeans

    _check_ids(topics, [topic_id])
    if topic_id == OUTLIER:
        raise ValueError("the outliers (-1) cannot be split: fit again with a smaller min_topic_size instead")
    members = np.flatnonzero(np.asarray(topics) == topic_id)
    if k < 2 or len(members) < 2 * k:
        raise ValueError(f"topic {topic_id} has {len(members)} sentences: splitting into k={k} needs k >= 2 and "
                         f"at least two sentences per part")
    parts = KMeans(n_clusters=k, random_state=seed, n_init=10).fit_predict(embeddings[members])
    sizes = np.bincount(parts, minlength=k)
    if sizes.min() == 0:
        raise ValueError(f"topic {topic_id}'s sentences do not fall into {k} parts (too many identical ones)")
    by_size = [p for p, _ in sorted(enumerate(sizes), key=lambda kv: (-kv[1], kv[0]))]
    first_new = max(topics) + 1
    new_ids = {part: topic_id if rank == 0 else first_new + rank - 1 for rank, part in enumerate(by_size)}
    out = list(topics)
    for member, part in zip(members, parts):
        out[member] = new_ids[int(part)]
    return out, {t: t for t in set(topics)}


def _contiguous(topics: list[int]) -> tuple[list[int], dict[int, int]]:
    real = sorted(set(topics) - {OUTLIER})
    mapping = {old: new for new, old in enumerate(real)} | {OUTLIER: OUTLIER}
    return [mapping[t] for t in topics], mapping


def _check_ids(topics: list[int], ids: list[int]) -> None:
    unknown = sorted(set(ids) - set(topics))
    if unknown:
        raise KeyError(f"no topic {', '.join(map(str, unknown))} among the assigned sentences "
                       f"(topics: {', '.join(map(str, sorted(set(topics))))})")


def clean_label(label: str) -> str:
    label = " ".join((label or "").split())
    if not label or len(label) > MAX_LABEL:
        raise ValueError(f"a topic label is 1 to {MAX_LABEL} characters (not only spaces)")
    return label


# ---------------------------------------------------------------------- on the store


def merge_topics(session: Session, name: str, ids: list[int], label: str | None = None,
                 new_name: str | None = None, encoder=None) -> Curated:
    """Merge topics `ids` of model `name` into one (labelled `label` if given) as a new version."""
    label = clean_label(label) if label is not None else None

    def change(model, topics, embeddings):
        new_topics, mapping = merged(topics, ids)
        labels = {mapping[t]: lab for t, lab in model.labels.items() if t not in ids}
        if label:
            labels[mapping[min(ids)]] = label
        return new_topics, labels, {"operation": "merge", "topics": sorted(set(ids)), "label": label,
                                    "mapping": _str_keys(mapping)}

    return _curate(session, name, new_name, change, encoder)


def split_topic(session: Session, name: str, topic_id: int, k: int = 2, new_name: str | None = None,
                encoder=None) -> Curated:
    """Re-cluster topic `topic_id` of model `name` into `k` topics, as a new version."""

    def change(model, topics, embeddings):
        new_topics, mapping = split(topics, embeddings, topic_id, k, model.config.seed)
        labels = {t: lab for t, lab in model.labels.items() if t != topic_id}
        added = sorted(set(new_topics) - set(topics))
        return new_topics, labels, {"operation": "split", "topic": topic_id, "into": k, "new_topics": added,
                                    "mapping": _str_keys(mapping)}

    return _curate(session, name, new_name, change, encoder)


def rename_topic(session: Session, name: str, topic_id: int, label: str, new_name: str | None = None) -> Curated:
    """Give topic `topic_id` of model `name` the label `label`, as a new version with the same topics and
    assignments (nothing is re-computed)."""
    label = clean_label(label)
    model = load_topic_model(name)
    if topic_id not in model.topic_ids():
        raise KeyError(f"no topic {topic_id}: the model has {', '.join(map(str, model.topic_ids()))}")
    target = _new_name(name, new_name)
    rows, topics = _assigned(session, name)
    model.meta = {**model.meta, "labels": {**model.meta.get("labels", {}), str(topic_id): label},
                  "curation": {"operation": "rename", "topic": topic_id, "label": label,
                               "mapping": _str_keys({t: t for t in model.topic_ids()})}}
    return _save(session, name, target, model, rows, topics)


def _curate(session: Session, name: str, new_name: str | None, change, encoder) -> Curated:
    model = load_topic_model(name)
    target = _new_name(name, new_name)
    rows, topics = _assigned(session, name)
    encoder = encoder or cached_topic_encoder()
    if model.meta.get("encoder_version") and encoder.version != model.meta["encoder_version"]:
        raise ValueError(f"topic model {name!r} was fitted with encoder {model.meta['encoder_version']}, "
                         f"not {encoder.version}: fit it again")
    texts = [r.text for r in rows]
    embeddings = encoder.encode(texts)
    new_topics, labels, curation = change(model, topics, embeddings)
    curated = model.curated(texts, embeddings, new_topics, labels, encoder, curation)
    return _save(session, name, target, curated, rows, new_topics)


def _assigned(session: Session, name: str) -> tuple[list[SegmentRow], list[int]]:
    """Every segment model `name` assigned a topic (any speaker role), and that topic."""
    conditions = (Condition("topic_model", "=", name), Condition("role", "=", ROLES))
    rows = distinct_rows(select_segments(session, SegmentFilter(conditions)))
    if not rows:
        raise ValueError(f"topic model {name!r} has no assignments in this store: curate it on the store it was "
                         f"fitted on")
    topics = assigned_topics(session, name, rows)
    return rows, [topics[(r.document_id, r.position)] for r in rows]


def _new_name(name: str, new_name: str | None) -> str:
    target = new_name or next_version_name(name)
    path = model_path(target)  # checks the name
    if path.exists():
        raise VersionExists(f"topic model {target!r} exists already: curation never overwrites a version")
    return target


def _save(session: Session, parent: str, target: str, model: TopicModel, rows: list[SegmentRow],
          topics: list[int]) -> Curated:
    """Save the new version and write its assignments; on any failure neither is left behind."""
    model.meta = {**model.meta, "parent": parent, "versions_of": base_name(parent)}
    path = model_path(target)
    try:
        model.save(path)
        # A name is new on disk (_new_name checked), but the store may still hold rows of a removed version of
        # that name: the new version has exactly its own assignments.
        clear_topic_assignments(session, target)
        stored = add_topic_assignments(session, target, ((r.document_id, r.position, t)
                                                         for r, t in zip(rows, topics)))
    except BaseException:
        session.rollback()
        shutil.rmtree(path, ignore_errors=True)
        raise
    return Curated(target, parent, model, stored)


def _str_keys(mapping: dict[int, int]) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(mapping.items())}
