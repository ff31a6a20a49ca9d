"""The invented demo corpus (corpora/demo/, a clone's data) scored into a store, as `make run` loads it: 12
institutional texts (genre policy, pre-filter on) and 8 parent interviews with their respondents' attributes.
The tests and the service benches start from it."""

from __future__ import annotations

from ..interviews.ingest import ingest_interviews
from ..model.prefilter import RelevancePrefilter
from ..settings import REPO_ROOT
from .score_archive import score_archive

DEMO_DIR = REPO_ROOT / "corpora" / "demo"


def load_demo(db_url: str, model) -> None:
    score_archive([str(DEMO_DIR / "institutional.jsonl")], model, db_url=db_url, genre="policy",
                  prefilter=RelevancePrefilter.load())
    ingest_interviews(DEMO_DIR / "interviews", model, DEMO_DIR / "interviews" / "respondents.csv", db_url=db_url,
                      source="demo-interviews")
