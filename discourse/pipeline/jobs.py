"""Background jobs: submitted over HTTP, kept in the store, run one at a time in a background thread. Most score
an archive; a training job (`kind` "train_from_annotations") runs `discourse train --from-annotations` as a child
process at a lower CPU priority, so the service keeps answering while heads are fitted and the store is rescored,
and the training code never loads into the service.

A job is a row in `jobs`. Several servers may share one store (PostgreSQL), so a server takes a job by claiming
it: a compare-and-set `UPDATE jobs SET state = 'running', owner = me WHERE id = ? AND state = 'queued'
RETURNING ...` that only one server can win. While it runs the job, the server writes a heartbeat on the job
(and on its run). A running job whose server died (discourse.store.liveness: its pid is gone on this host, or its
heartbeat is stale) is queued again by whichever server notices first — at start-up and every RECOVER_EVERY_S —
and its old run is marked "interrupted"; the new run skips every document the old one finished (score_archive
is resumable), so nothing is scored twice. A server whose job was taken from it (it was thought dead) stops the
job at its next progress report and leaves the job alone.

Only files under the configured data roots may be scored: a path is resolved (symlinks followed) and must lie
inside a root when the job is submitted; ".." is refused outright. When the job runs, every file its folders and
globs expand to is checked again, after resolving symlinks, and opened without following a link
(discourse.ingest.paths.open_raw): a link inside a root to a file outside it is rejected, not read.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from sqlalchemy import Engine

from ..ingest import FieldMapping
from ..ingest.paths import PathNotAllowed
from ..model.prefilter import RelevancePrefilter
from ..settings import data_folder
from ..store import ScoreWriter
from ..store.jobs import JobQueue
from ..store.liveness import HEARTBEAT_S, Heartbeat, Interrupted, process_owner
from ..store.schema import utcnow
from .score_archive import RunSummary, score_archive

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 1.0
TRAIN_FROM_ANNOTATIONS = "train_from_annotations"
#: The options a training job passes on to `discourse train --from-annotations`, by flag.
TRAIN_FLAGS = {"queue": "--queue", "filter": "--filter", "base_model": "--base-model", "holdout": "--holdout",
               "model_version": "--model-version"}
#: How often a server looks for jobs and runs whose process died.
RECOVER_EVERY_S = 30.0

__all__ = ["JobRunner", "PathNotAllowed", "allowed_paths"]


def allowed_paths(paths: list[str], roots: list[Path]) -> list[str]:
    """The resolved paths, each an existing file or folder inside one of `roots`; otherwise PathNotAllowed or
    FileNotFoundError naming the offending path. Relative paths are taken relative to the first root."""
    if not roots:
        raise PathNotAllowed("this server scores no files: no data roots are configured (DISCOURSE_API_DATA_ROOTS)")
    resolved_roots = [Path(root).resolve() for root in roots]
    out = []
    for raw in paths:
        path = Path(raw)
        if ".." in path.parts:
            raise PathNotAllowed(f"{raw!r}: '..' is not allowed in job paths")
        resolved = (path if path.is_absolute() else resolved_roots[0] / path).resolve()
        if not any(resolved.is_relative_to(root) for root in resolved_roots):
            raise PathNotAllowed(f"{raw!r} is outside the data roots")
        if not resolved.exists():
            raise FileNotFoundError(f"{raw!r} does not exist under the data roots")
        out.append(str(resolved))
    return out


class JobRunner:
    """Runs the store's jobs in a background thread. `roots`: the data roots jobs may read (every file a job
    expands to must be a regular file inside one). `owner`: this server's name in the jobs table (default
    liveness.process_owner())."""

    def __init__(self, engine: Engine, model: Callable[[], object], prefilter: RelevancePrefilter | None = None,
                 *, roots: Iterable[str | Path] = (), owner: str | None = None,
                 heartbeat_s: float = HEARTBEAT_S, stale_after_s: float | None = None):
        self.engine = engine
        self.model = model  # called per job, so a model reload applies to the next job
        self.prefilter = prefilter or RelevancePrefilter.load()
        self.roots = [Path(root) for root in roots]
        self.owner = owner or process_owner()
        self.heartbeat_s, self.stale_after_s = heartbeat_s, stale_after_s
        self.queue = JobQueue(engine, self.owner, stale_after_s)
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Queue again the jobs whose server died, then start the worker thread."""
        self.recover()
        self._thread = threading.Thread(target=self._loop, name="jobs", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop taking new jobs. A job in the middle of a batch is not waited for: its batch is rolled back with
        the process, and the job resumes when a server finds it orphaned."""
        self._stopping.set()
        self._wake.set()

    # -- submitting, reading, claiming and recovering: the queue in the store ---------------------------------------

    def submit(self, paths: list[str], options: dict) -> int:
        job_id = self.queue.submit(paths, options)
        self._wake.set()
        return job_id

    def get(self, job_id: int) -> dict | None:
        return self.queue.get(job_id)

    def recent(self, limit: int = 50) -> list[dict]:
        return self.queue.recent(limit)

    def claim(self) -> dict | None:
        """Take the oldest queued job for this server, or None (JobQueue.claim)."""
        return self.queue.claim()

    def recover(self) -> list[int]:
        """Queue again every running job whose server is gone, marking its runs "interrupted" (JobQueue.recover);
        also marks "interrupted" the orphaned runs of the command line (ScoreWriter.interrupt_orphaned_runs).
        Returns the jobs' ids."""
        recovered = self.queue.recover()
        ScoreWriter(self.engine).interrupt_orphaned_runs(self.stale_after_s)
        if recovered:
            self._wake.set()
        return recovered

    # -- the worker ----------------------------------------------------------------------------------------------

    def _loop(self) -> None:
        last_recover = time.monotonic()
        while not self._stopping.is_set():
            try:
                if time.monotonic() - last_recover >= RECOVER_EVERY_S:
                    last_recover = time.monotonic()
                    self.recover()
                job = self.claim()
            except Exception:  # noqa: BLE001 - the store away for a moment: try again, never die
                log.warning("cannot read the jobs table", exc_info=True)
                job = None
            if job is None:
                self._wake.wait(timeout=1.0)
                self._wake.clear()
                continue
            self._run(job)

    def _run(self, job: dict) -> None:
        options = dict(job["options"])
        last = [0.0]
        lost = threading.Event()

        def beat() -> None:
            if not self._update(job["id"], heartbeat_at=utcnow()):
                lost.set()  # another server took the job: it thought this one dead

        def progress(summary: RunSummary, read: int) -> None:
            if lost.is_set():
                raise Interrupted(f"job {job['id']} was taken over by another server")
            if time.monotonic() - last[0] >= PROGRESS_EVERY_S:
                last[0] = time.monotonic()
                if not self._update(job["id"], progress={"read": read, **summary.as_dict()}):
                    lost.set()

        if options.get("kind") == TRAIN_FROM_ANNOTATIONS:
            with Heartbeat(beat, self.heartbeat_s):
                self._train(job)
            return
        run_ids = list(job["run_ids"] or [])
        try:
            with Heartbeat(beat, self.heartbeat_s):
                summary = score_archive(
                    job["paths"], self.model(), db_url=self.engine.url.render_as_string(hide_password=False),
                    source=options.get("source"), mapping=FieldMapping.parse(options.get("map")),
                    batch_size=int(options.get("batch_size") or 64),
                    prefilter=self.prefilter if options.get("prefilter", True) else None, progress=progress,
                    command=f"job {job['id']}", roots=self.roots,
                    on_run=lambda run_id: self._update(job["id"], run_ids=run_ids + [run_id]))
        except Interrupted:
            log.warning("job %s was taken over by another server; stopped here", job["id"])
            return
        except Exception as exc:  # a job fails alone; the worker goes on with the next one
            self._update(job["id"], state="failed", error=f"{type(exc).__name__}: {exc}")
            return
        self._update(job["id"], state="finished", progress=summary.as_dict())

    def _train(self, job: dict) -> None:
        """The training job: the command line in a child process; its model folder's metrics are the progress."""
        options = job["options"]
        out = data_folder() / "models" / f"framing-job{job['id']}"
        command = [sys.executable, "-m", "discourse.cli", "train", "--from-annotations", "--out", str(out),
                   "--db", self.engine.url.render_as_string(hide_password=False),
                   *("--corpus" if options.get("corpus", True) else "--no-corpus",),
                   *(arg for key, flag in TRAIN_FLAGS.items() if options.get(key) is not None
                     for arg in (flag, str(options[key])))]
        nice = shutil.which("nice")
        done = subprocess.run(([nice, "-n", "10"] if nice else []) + command, capture_output=True, text=True,
                              stdin=subprocess.DEVNULL)
        if done.returncode != 0:
            self._update(job["id"], state="failed", error=(done.stderr or done.stdout).strip()[-2000:])
            return
        metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
        held = metrics["held_out_codes"]
        self._update(job["id"], state="finished", progress={
            "version": metrics["version"], "folder": str(out), "codes": metrics["codes"],
            "held_out": {model: {task: held[model][task].get("macro_f1") for task in ("relevance", "stance")}
                         for model in ("new", "current")},
            "output": done.stderr.strip()[-2000:]})

    def _update(self, job_id: int, **values) -> bool:
        """Update a job this server owns; False when it is no longer this server's (another took it over)."""
        return self.queue.update(job_id, **values)
