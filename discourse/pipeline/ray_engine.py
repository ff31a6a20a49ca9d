"""`discourse score-archive --engine ray`: the local engine's per-batch function on a Ray cluster.

    files (one row each) → read (Ray tasks) → rebatch to `batch_size` rows → ScoringActor (an actor pool, the
    model loaded once per actor): split_items, resume check, score_records → the driver: StoreSink, one
    transaction per batch (discourse.pipeline.score_archive)

Why it is shaped this way:
- Workers only compute. They return ScoredRecords, the same plain rows the local engine writes, and the driver
  alone writes, through the same StoreSink: SQLite allows one writer, and one writer keeps "a batch is written
  whole or not at all" (resumability) exactly as in the local engine. A worker only reads the store, to skip the
  ids this model version has scored, so a run killed at any moment resumes like a local one.
- Items travel between steps as pickled bytes (one binary column): exact for every field (`published` is a
  date, `meta` holds whatever JSON the archive had, which Arrow would force into one inferred schema per block).
- Ray Data hands an actor whole blocks, so parallelism comes from the block count: the read output is cut into
  blocks of `batch_size` rows (`repartition(target_num_rows_per_block=...)`, fused into the read tasks).
- The read tasks need a CPU of their own: with actors holding every CPU the read step is never scheduled and
  the run hangs (seen on Ray 2.60). So the default pool leaves READ_CPUS free, and a local instance gets
  os.cpu_count() + READ_CPUS logical CPUs: an actor per core, plus the light read step.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
from pathlib import Path

import numpy as np

from ..ingest import FieldMapping, expand_paths, read_records
from ..model.framing import FramingConfig
from ..model.loading import model_type
from ..model.prefilter import RelevancePrefilter
from ..settings import model_dir as default_model_dir
from ..settings import ray_address
from ..store import ScoreWriter, default_database_url, make_engine, upgrade
from ..store.rows import recorded_run, start_run
from .score_archive import (DEFAULT_BATCH, ArchiveSummary, Progress, StoreSink, remembering, score_records,
                            split_items)

READ_CPUS = 1  # logical CPUs kept free for the read step (see the module docstring)
MISSING_RAY = "--engine ray needs the ray extra: pip install 'discourse[ray]'"


def start_local_ray(num_cpus: int | None = None) -> None:
    """A quiet single-machine Ray instance: `num_cpus` (default: every core) actors' worth of CPUs + the reader."""
    import ray

    ray.init(num_cpus=(num_cpus or os.cpu_count() or 1) + READ_CPUS, include_dashboard=False,
             logging_level=logging.WARNING)


def score_archive_ray(paths, model_dir: str | None = None, backend: str | None = None, db_url: str | None = None,
                      source: str | None = None, mapping: FieldMapping | None = None, batch_size: int = DEFAULT_BATCH,
                      use_prefilter: bool = True, genre: str = "news", progress: Progress | None = None,
                      command: str | None = None, address: str | None = None, workers: int | None = None,
                      threads_per_worker: int = 1, language_check: str = "strict") -> ArchiveSummary:
    """score_archive() on Ray: `address` (or RAY_ADDRESS) names a cluster, else a local instance is started (and
    shut down after). `workers` actors of `threads_per_worker` CPUs each (default: all CPUs but READ_CPUS)."""
    try:
        import ray
        from ray.data import ActorPoolStrategy
    except ImportError as exc:
        raise RuntimeError(MISSING_RAY) from exc
    files = expand_paths(list(paths))
    meta = _model_meta(model_dir)
    url = _shared_url(db_url)
    started_ray = not ray.is_initialized()
    if started_ray:
        address = address or ray_address()
        if address:
            ray.init(address=address)
        else:
            start_local_ray()
    data_logger = logging.getLogger("ray.data")
    level = data_logger.level
    data_logger.setLevel(logging.WARNING)  # no "execution started/finished" lines per run
    try:
        cpus = int(ray.cluster_resources().get("CPU", 0))
        workers = workers or max(1, (cpus - READ_CPUS) // threads_per_worker)
        if workers * threads_per_worker + READ_CPUS > cpus:
            raise ValueError(f"{workers} workers x {threads_per_worker} threads + {READ_CPUS} CPU to read need more "
                             f"than the cluster's {cpus} CPUs: the run would wait forever")
        engine = make_engine(url)
        upgrade(engine)
        writer = ScoreWriter(engine)
        prefilter = RelevancePrefilter.load() if use_prefilter else None
        run_id = start_run(writer, meta, files, source, batch_size, prefilter, command, engine_name="ray")
        summary = ArchiveSummary(run_id)
        sink = StoreSink(writer, summary, genre)
        started, read = time.perf_counter(), 0
        with recorded_run(writer, summary, engine, started):
            ds = ray.data.from_items([{"path": str(Path(f).resolve()), "spelled": str(f)} for f in files],
                                     override_num_blocks=len(files))
            ds.context.enable_progress_bars = False  # the caller's `progress` reports; no bars on stderr
            ds.context.print_on_execution_start = False
            ds = (ds.map_batches(_reader(mapping, batch_size), batch_size=1)
                  .repartition(target_num_rows_per_block=batch_size)
                  .map_batches(ScoringActor, batch_size=batch_size, num_cpus=threads_per_worker,
                               compute=ActorPoolStrategy(size=workers),  # `concurrency=` is deprecated since 2.51
                               # the onnx encoder's parallel runs, read in the worker (settings.onnx_threads)
                               runtime_env={"env_vars": {"DISCOURSE_THREADS": str(threads_per_worker)}},
                               fn_constructor_kwargs={"model_dir": model_dir, "backend": backend, "db_url": url,
                                                      "meta": meta, "use_prefilter": use_prefilter,
                                                      "source": source, "genre": genre,
                                                      "language_check": language_check,
                                                      "threads": threads_per_worker}))
            for row in ds.iter_rows():  # streams: results arrive as batches finish, in any order
                rejections, scored, n_items = pickle.loads(row["result"])
                read += n_items
                sink.reject(rejections)
                sink.write(scored)
                summary.seconds = time.perf_counter() - started
                if progress:
                    progress(summary, read)
        return summary
    finally:
        data_logger.setLevel(level)
        if started_ray:
            ray.shutdown()


class ScoringActor:
    """One per worker: loads the model and the prefilter once, then scores batch after batch."""

    def __init__(self, model_dir: str | None, backend: str | None, db_url: str, meta: dict, use_prefilter: bool,
                 source: str | None, genre: str, threads: int, language_check: str = "strict"):
        import torch

        torch.set_num_threads(threads)  # the torch backend, and the adapter merge at load
        from ..model.loading import load_model

        self.model = remembering(load_model(model_dir, backend))  # a sentence met again is encoded once
        got = self.model.describe()
        if (got["model"], got["model_version"]) != (meta["model"], meta["model_version"]):
            raise RuntimeError(f"this node's model is {got['model']} {got['model_version']}, the run's is "
                               f"{meta['model']} {meta['model_version']}: install the same model on every node")
        self.meta, self.source, self.genre, self.language_check = meta, source, genre, language_check
        self.prefilter = RelevancePrefilter.load() if use_prefilter else None
        self.store = ScoreWriter(make_engine(db_url))  # used for reads only: the resume check

    def _stored(self, ids: list[str]) -> dict:
        return self.store.stored_documents(ids, self.meta["model"], self.meta["model_version"])

    def __call__(self, batch: dict) -> dict:
        items = [pickle.loads(payload) for payload in batch["payload"]]
        records, rejections = split_items(items)
        scored = score_records(self.model, records, self.prefilter, self._stored, self.source, self.genre,
                               self.language_check)
        return {"result": np.array([pickle.dumps((rejections, scored, len(items)))], dtype=object)}


def _reader(mapping: FieldMapping | None, chunk: int):
    """The read step: files → rows of pickled reader items (IngestRecord | Rejection), `chunk` at a time. A
    closure, so that Ray ships it by value: a read task then imports discourse.ingest alone (0.1 s) instead of
    this module and its torch and scikit-learn (8 s per fresh worker process). Files are opened by absolute path
    (a worker's working directory is not the driver's) but items name them as the user spelled them, as the local
    engine does (rejected_records.source_path, and the default source name)."""

    def read(batch: dict):
        for path, spelled in zip(batch["path"], batch["spelled"]):
            items = []
            for item in read_records([path], mapping):
                item.path = str(spelled)
                items.append(pickle.dumps(item))
                if len(items) == chunk:
                    yield {"payload": np.array(items, dtype=object)}
                    items = []
            if items:
                yield {"payload": np.array(items, dtype=object)}

    return read


def _model_meta(model_dir: str | None) -> dict:
    """model, model_version and codebook_version from the model folder's config.json alone: the driver never
    loads the encoder (15 s and a GB of memory on a machine that only writes). Workers check they load the same."""
    directory = Path(model_dir) if model_dir else default_model_dir()
    if model_type(directory) != "framing":
        raise ValueError("score-archive needs a framing model (relevance, stance and sub-frames), not a "
                         "`discourse train` classifier")
    config = FramingConfig.read(directory)
    return {"model": config.name, "model_version": config.version, "codebook_version": config.codebook_version}


def _shared_url(db_url: str | None) -> str:
    """The store URL as workers must see it: a relative SQLite path made absolute; in-memory SQLite refused."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url or default_database_url())
    if url.get_backend_name() == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:" or database.startswith("file:"):
            raise ValueError("--engine ray needs a store file or a PostgreSQL URL that the workers can open")
        url = url.set(database=str(Path(database).expanduser().resolve()))
    return url.render_as_string(hide_password=False)
