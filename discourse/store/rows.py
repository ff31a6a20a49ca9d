"""What a scoring run writes besides its documents: the rows of document and segment scores, made from the
pipeline's plain results, and the run itself (recorded at the start, kept alive while it works, closed with its
counts whatever happens). Archive scoring (local and Ray) and interview ingestion share them."""

from __future__ import annotations

import time
from contextlib import contextmanager

from discourse.codebook import STANCES
from discourse.store.liveness import Heartbeat, Interrupted
from discourse.store.writer import ScoreWriter


@contextmanager
def recorded_run(writer: ScoreWriter, summary, engine, started: float):
    """Keeps the run's heartbeat while it works, then closes it whatever happens: state "finished",
    "interrupted" (Ctrl-C, or liveness.Interrupted: its job was handed to another server) or "failed" (an
    exception), with the summary's counts (`summary`: anything with run_id, seconds and as_dict()); then disposes
    of the engine. A run killed outright (SIGKILL) cannot record anything: its heartbeat stops, and the next run
    or job server marks it "interrupted" (ScoreWriter.interrupt_orphaned_runs)."""
    state = "failed"
    try:
        with Heartbeat(lambda: writer.heartbeat_run(summary.run_id)):
            yield
        state = "finished"
    except (KeyboardInterrupt, Interrupted):
        state = "interrupted"
        raise
    finally:
        summary.seconds = time.perf_counter() - started
        writer.finish_run(summary.run_id, state, summary.as_dict())
        engine.dispose()


def start_run(writer: ScoreWriter, meta: dict, files: list, source: str | None, batch_size: int,
              prefilter, command: str | None, engine_name: str) -> int:
    """Record the run; `meta` is the model's describe() (model, model_version, codebook_version); of `prefilter`
    only whether there is one is recorded."""
    return writer.start_run(model=meta["model"], model_version=meta["model_version"],
                            codebook_version=meta["codebook_version"], command=command,
                            parameters={"paths": [str(p) for p in files], "source": source,
                                        "batch_size": batch_size, "prefilter": prefilter is not None,
                                        "engine": engine_name})


def document_score_row(document_id: str, d: dict) -> dict:
    """A document_scores row from a model's document result (FramingModel.aggregate)."""
    return {"document_id": document_id, "label": d["label"],
            **{f"score_{s}": d["scores"][s] for s in STANCES}, "relevance": d["relevance"],
            "n_sentences": d["sentences"]["total"], "n_relevant": d["sentences"]["relevant"],
            "evidence": d["evidence"], "frames": {"frames": d["frames"],
                                                  "stance_given_relevant": d["stance_given_relevant"]}}


def segment_score_row(document_id: str, s: dict) -> dict:
    """A segment_scores row from a sentence's position, offsets, text and prediction (FramingModel.predict)."""
    return {"document_id": document_id, "position": s["position"], "start": s["start"], "end": s["end"],
            "text": s["text"], "label": s["label"], **{f"score_{k}": s["scores"][k] for k in STANCES},
            "relevance": s["relevance"], "frames": {f["frame"]: f["score"] for f in s["frames"]} or None,
            "passed_prefilter": s.get("passed_prefilter", True)}
