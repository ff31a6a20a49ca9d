"""Comparing two bodies of text — parent speech with institutional discourse, one filter of rows with another.

Everything here is pure and takes plain Python data: the caller selects rows from the store, turns them into
`Unit`s and texts, and hands them over. Keeping the statistics apart from the database means they can be
checked against numbers worked out by hand (tests/test_compare_stats.py) and reused on any two samples.

The modules, one question each:
    tokens     Dutch word tokens and stop words, shared by keyness and adoption
    keyness    which words one side uses more than the other (G², log ratio)
    bootstrap  stance, frame and topic shares with cluster-bootstrap intervals and p-values
    adoption   how often each side uses the institutional discourse terms
    echo       how closely each sentence of A echoes its nearest sentence of B (embedding similarity)
    report     a self-contained HTML page and JSON from a comparison result
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Unit:
    """One classified unit of text on one side of a comparison."""

    text: str
    cluster: str  # what to resample: the speaker (interviews) or the document (news, policy)
    stance: str  # "supportive" | "pressuring" | "neutral"
    frames: tuple[str, ...] = ()
    topic: int | None = None


# Imported after Unit: the submodules import Unit from this package.
from .adoption import adoption, term_pattern  # noqa: E402
from .bootstrap import (  # noqa: E402
    Interval,
    ShareStatistic,
    cluster_bootstrap,
    frame_distribution,
    stance_distribution,
    topic_prevalence,
)
from .echo import EchoMatch, EchoResult, echo  # noqa: E402
from .keyness import KeynessResult, KeyTerm, keyness  # noqa: E402
from .report import build_report, report_json  # noqa: E402
from .tokens import tokenize  # noqa: E402

__all__ = [
    "EchoMatch",
    "EchoResult",
    "Interval",
    "KeyTerm",
    "KeynessResult",
    "ShareStatistic",
    "Unit",
    "adoption",
    "build_report",
    "cluster_bootstrap",
    "echo",
    "frame_distribution",
    "keyness",
    "report_json",
    "stance_distribution",
    "term_pattern",
    "tokenize",
    "topic_prevalence",
]
