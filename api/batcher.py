"""Micro-batching: concurrent requests share the model, in short turns.

Each request puts its records on a queue and awaits a future per record. A collector task (the short lane) runs
the model in a worker thread, one turn at a time, so the event loop never blocks on inference and `/v1/health`
keeps answering: each turn prepares what arrived (language check, sentence split, token count) and encodes the
short records together. A record with more than `max_tokens` tokens to encode is long: a 100,000-character
document (1,200 sentences, ~15 s of encoding on two cores), or texts that fill the encoder's 512-token window
although they are short (0.1-0.3 s each: emoji, combining accents and ligatures are one or two tokens per
character). Long records go to the long lane, which encodes `max_tokens` tokens a turn (at least one unit), those
that have had the least encoding first. With an encoder that may be called from two threads (onnxruntime) the long
lane has its own thread, so an ordinary text shares the cores with a long turn instead of waiting for it;
otherwise the lanes take turns in the one model thread, and an ordinary text waits for at most one long turn,
never for a whole document. Each text's prediction is a function of that text alone, so a record's row is the one
a single model call would give. Rows go back to each record's own future as soon as its last unit is encoded, so
callers never see each other's rows.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import math
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from discourse.pipeline.classify import Level, RecordPlan, classify_texts, plan_record


def warm_up(model) -> None:
    """One classification before the first request: the language detectors load their models (holding the GIL) and
    the encoder runs its first batch; done lazily, that would stall the first requests and /v1/health with them."""
    classify_texts(model, ["Een eerste zin om het model op te warmen."])


def freeze_heap() -> None:
    """Move every object alive now (the model, the libraries, the language models) out of the garbage
    collector's view. A full collection otherwise walks them all, ~60 ms holding the GIL, at moments set by
    allocation counts: the event loop, /v1/health included, stalls meanwhile. Objects made later are collected
    as usual; `unfreeze` first when a model is replaced, so the old one can be collected."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


#: Tokens of long records encoded in one turn: five or so sentences, ~0.1 s on two cores. A record with more left
#: is long, and waits while the short ones (ordinary texts) have their turn.
TURN_TOKENS = 128
#: How far below the short lane the long lane's thread runs: with both busy, ordinary texts get most of the CPU.
LONG_LANE_NICENESS = 5
#: Characters prepared (language check, sentence split, token count) in one turn beyond the short texts, which are
#: always prepared at once: the preparation of a 100,000-character document takes ~50 ms.
PREPARE_CHARS = 100_000


@dataclass
class _Pending:
    record: dict
    level: Level
    future: asyncio.Future = field(repr=False)


@dataclass
class _Job:
    """A record in the model thread's care: the model it runs on (taken at arrival, so a reload never mixes two
    models in one row), its plan once prepared, and the predictions of the units encoded so far."""
    pending: _Pending
    model: object
    seq: int
    plan: RecordPlan | None = None
    costs: list[int] = field(default_factory=list)  # tokens per unit (before the encoder truncates)
    predictions: list[dict] = field(default_factory=list)
    served: int = 0  # tokens encoded so far
    row: dict | None = None
    error: BaseException | None = None

    @property
    def remaining(self) -> int:
        """Tokens still to encode."""
        return sum(self.costs) - self.served

    @property
    def finished(self) -> bool:
        return self.row is not None or self.error is not None

    def next_key(self) -> tuple[int, int]:
        return self.served + self.costs[len(self.predictions)], self.seq


class MicroBatcher:
    def __init__(self, model, max_items: int = 64, wait_ms: float = 5.0, language_check: str = "strict",
                 max_tokens: int = TURN_TOKENS) -> None:
        self.model = model
        self.language_check = language_check
        self.max_items = max_items
        self.max_tokens = max_tokens
        self.wait = wait_ms / 1000.0
        self._queue: asyncio.Queue[_Pending] | None = None
        self._tasks: list[asyncio.Task] = []
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        # Long records get their own lane when the encoder may be called from two threads at once (onnxruntime):
        # a long turn is one model call that cannot be interrupted (a 512-token unit takes 0.1-0.3 s), and in its
        # own thread it shares the cores with the short turns instead of making them wait. Otherwise both lanes
        # use the one model thread and take turns.
        concurrent = getattr(model.encoder, "concurrent_calls", False)
        self._long_executor = (ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-long",
                                                  initializer=_lower_priority, initargs=(LONG_LANE_NICENESS,))
                               if concurrent else self._executor)
        self._long_jobs: list[_Job] = []
        self._long_waiting: asyncio.Event | None = None
        self._seq = itertools.count()
        self.batches_run = 0  # for tests and metrics: how many model calls (turns) served how many records
        self.records_run = 0

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._long_waiting = asyncio.Event()
        self._tasks = [asyncio.create_task(self._collect(), name="micro-batcher"),
                       asyncio.create_task(self._long_lane(), name="micro-batcher-long")]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._long_executor.shutdown(wait=False, cancel_futures=True)

    async def replace_model(self, load) -> object:
        """Load a model with `load()` in the model thread and serve it from the next record on. Records already
        taken in finish on the old model; nothing runs half on one and half on the other. If `load` fails the
        old model stays."""
        loop = asyncio.get_running_loop()

        def load_and_warm():
            model = load()
            warm_up(model)
            return model

        self.model = await loop.run_in_executor(self._executor, load_and_warm)
        freeze_heap()
        return self.model

    def submit(self, work) -> Future:
        """Run `work(model)` in the model thread, after what is already queued there; callable from any thread."""
        return self._executor.submit(lambda: work(self.model))

    def submit_long(self, work) -> Future:
        """`submit` for work that may wait for ordinary texts: in the long lane's thread, where it has one."""
        return self._long_executor.submit(lambda: work(self.model))

    async def classify(self, records: list[dict], level: Level) -> list[dict]:
        if self._queue is None:
            raise RuntimeError("the micro-batcher is not running")
        loop = asyncio.get_running_loop()
        pending = [_Pending(r, level, loop.create_future()) for r in records]
        for item in pending:
            self._queue.put_nowait(item)
        return list(await asyncio.gather(*(p.future for p in pending)))

    async def _collect(self) -> None:
        """The short lane: prepares every record that arrives, encodes the short ones, hands the long ones on."""
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        jobs: list[_Job] = []
        while True:
            if not jobs:  # idle: wait for a request, then up to `wait` for others to share its turn
                jobs.append(self._job(await self._queue.get()))
                deadline = loop.time() + self.wait
                while len(jobs) < self.max_items and (timeout := deadline - loop.time()) > 0:
                    try:
                        jobs.append(self._job(await asyncio.wait_for(self._queue.get(), timeout)))
                    except asyncio.TimeoutError:
                        break
            while not self._queue.empty():  # what arrived during the last turn joins the next one
                jobs.append(self._job(self._queue.get_nowait()))
            jobs = [j for j in jobs if not j.pending.future.done()]  # callers gone: their work is dropped
            if not jobs:
                continue
            await self._run_turn(self._executor, self._short_turn, jobs)
            long = [j for j in jobs if not j.finished and j.plan is not None and j.remaining > self.max_tokens]
            if long:
                self._long_jobs.extend(long)
                self._long_waiting.set()
            jobs = [j for j in jobs if not j.finished and j not in long]

    async def _long_lane(self) -> None:
        """The long lane: `max_tokens` tokens a turn of the long records, those that have had the least encoding
        first, until none is left."""
        while True:
            await self._long_waiting.wait()
            self._long_jobs = [j for j in self._long_jobs if not j.finished and not j.pending.future.done()]
            if not self._long_jobs:
                self._long_waiting.clear()
                continue
            await self._run_turn(self._long_executor, self._long_turn, list(self._long_jobs))

    async def _run_turn(self, executor, turn, jobs: list[_Job]) -> None:
        try:
            if await asyncio.get_running_loop().run_in_executor(executor, turn, jobs):
                self.batches_run += 1
        except Exception as exc:  # never the lane: fail the records of this turn
            for job in jobs:
                job.error = job.error or exc
        for job in jobs:
            if job.finished:
                self._resolve(job)

    def _job(self, pending: _Pending) -> _Job:
        return _Job(pending, self.model, next(self._seq))

    def _resolve(self, job: _Job) -> None:
        future = job.pending.future
        if future.done():
            return
        if job.error is not None:
            future.set_exception(job.error)
        else:
            self.records_run += 1
            future.set_result(job.row)

    # ------------------------------------------------------------------------------------------ the model threads

    def _short_turn(self, jobs: list[_Job]) -> bool:
        """One turn of the short lane: prepare what arrived and encode the short records (at most `max_tokens`
        tokens left: ordinary texts) in arrival order, at most `max_items` units. True if the model ran."""
        self._prepare(jobs)
        short = sorted((j for j in jobs if not j.finished and j.plan is not None and j.remaining <= self.max_tokens),
                       key=lambda j: j.seq)
        return self._encode(self._take(short, math.inf))

    def _long_turn(self, jobs: list[_Job]) -> bool:
        """One turn of the long lane: `max_tokens` tokens (at least one unit) of the long records that have had
        the least encoding, new ones first, then those that have had turns, in rotation."""
        return self._encode(self._take(sorted(jobs, key=_Job.next_key), self.max_tokens))

    def _take(self, chosen: list[_Job], budget: float) -> list[tuple[_Job, int]]:
        """(job, how many of its next units) for one model call: in the order given, at most `max_items` units and
        `budget` tokens (at least one unit), all of one model (after a reload the old model's records go first)."""
        model = chosen[0].model if chosen else None
        taken: list[tuple[_Job, int]] = []
        units = tokens = 0
        for job in chosen:
            if job.model is not model:
                continue
            first = n = len(job.predictions)
            while (n < len(job.costs) and units < self.max_items
                   and (not units or tokens + job.costs[n] <= budget)):
                tokens += job.costs[n]
                units += 1
                n += 1
            if n > first:
                taken.append((job, n - first))
            if units >= self.max_items or tokens >= budget:
                break
        return taken

    def _encode(self, taken: list[tuple[_Job, int]]) -> bool:
        if not taken:
            return False
        model = taken[0][0].model
        units = [unit for job, n in taken for unit in job.plan.units[len(job.predictions):len(job.predictions) + n]]
        try:
            predictions = model.predict(units)
        except Exception as exc:
            for job, _ in taken:
                job.error = exc
            return True
        start = 0
        for job, n in taken:
            job.predictions.extend(predictions[start:start + n])
            job.served += sum(job.costs[len(job.predictions) - n:len(job.predictions)])
            start += n
            if len(job.predictions) == len(job.plan.units):
                self._finish(job)
        return True

    def _prepare(self, jobs: list[_Job]) -> None:
        """Plan the records that arrived (language check, sentence split, token count): shortest first, about
        PREPARE_CHARS characters a turn (at least one record), so short texts are never held up by long ones."""
        waiting = sorted((j for j in jobs if j.plan is None and not j.finished),
                         key=lambda j: len(j.pending.record["text"]))
        budget = PREPARE_CHARS
        for job in waiting:
            size = len(job.pending.record["text"])
            if size > budget and budget < PREPARE_CHARS:
                break
            budget -= size
            try:
                plan = plan_record(job.pending.record, job.pending.level, self.language_check, job.model)
                costs = job.model.encoder.count_tokens(plan.units)
            except Exception as exc:  # this record's failure, not its turn mates'
                job.error = exc
                continue
            job.plan, job.costs = plan, costs
            if not plan.units:
                self._finish(job)

    def _finish(self, job: _Job) -> None:
        try:
            job.row = job.plan.finish(job.model, job.predictions)
        except Exception as exc:
            job.error = exc


class ModelThreadEncoder:
    """The served model's encoder for work besides classification (compare's echo), run in the batcher's long
    lane (its model thread where it has no long lane): `chunk` texts per turn, so classify batches run beside or
    between the chunks instead of waiting for the whole selection. Embeddings come from `cache` where it has
    them. The encoder is taken once, so a model reload during a long encode does not mix two models' vectors in
    one result.

    `encode` blocks: call it from a worker thread, never from the model thread itself."""

    def __init__(self, batcher: MicroBatcher, cache=None, chunk: int = 8):
        self.batcher = batcher
        self.encoder = batcher.model.encoder.with_cache(cache)
        self.chunk = chunk

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        texts = list(texts)
        parts = [self.batcher.submit_long(lambda _model, part=texts[start:start + self.chunk]:
                                          self.encoder.encode(part, batch_size)).result()
                 for start in range(0, len(texts), self.chunk)]
        return np.concatenate(parts) if parts else np.zeros((0, self.encoder.dim), np.float32)


class Busy(Exception):
    def __init__(self, retry_after_s: int):
        super().__init__(f"busy; retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class OneAtATime:
    """Work that takes seconds of every core (a comparison's bootstrap), one at a time, in its own thread at a
    lower CPU priority than the model thread and the event loop: on two cores it would otherwise take half the
    CPU from classification for seconds. A caller waits up to `wait_s` for its turn (first come, first served),
    then gets `Busy`; running two at once would only make both slower."""

    def __init__(self, wait_s: float, niceness: int = 10):
        self.wait_s = wait_s
        self._lock = asyncio.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analysis",
                                            initializer=_lower_priority, initargs=(niceness,))

    async def run(self, fn, *args):
        """`fn(*args)` in the analysis thread once it is this caller's turn."""
        async with self.turn():
            return await asyncio.get_running_loop().run_in_executor(self._executor, partial(fn, *args))

    @asynccontextmanager
    async def turn(self):
        try:
            async with asyncio.timeout(self.wait_s):
                await self._lock.acquire()
        except TimeoutError:
            raise Busy(max(1, math.ceil(self.wait_s))) from None
        try:
            yield
        finally:
            self._lock.release()

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _lower_priority(niceness: int) -> None:
    """`niceness` steps below the process's priority (at most 19). Linux keeps a nice value per thread, so this
    lowers the calling thread only; elsewhere the thread keeps the process's priority."""
    try:
        thread = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, thread, min(19, os.getpriority(os.PRIO_PROCESS, thread) + niceness))
    except (AttributeError, OSError):
        pass
