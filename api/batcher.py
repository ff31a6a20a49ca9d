"""Micro-batching: concurrent requests share one model call.

Each request puts its records on a queue and awaits a future per record. One collector task takes what arrives
within `wait_ms` (up to `max_items`), groups it by level and runs the model in a single worker thread (the
encoder spreads a batch over the cores). The event loop never blocks on inference, and `/v1/health` keeps
answering while a long batch runs. Results go back to each record's own future, so callers never see each
other's rows.
"""

from __future__ import annotations

import asyncio
import math
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import numpy as np

from discourse.classify import Level, classify_records, classify_texts


def warm_up(model) -> None:
    """One classification before the first request: lingua loads its language models (~4 s, holding the GIL) and
    the encoder runs its first batch; done lazily, that would stall the first requests and /v1/health with them."""
    classify_texts(model, ["Een eerste zin om het model op te warmen."])


@dataclass
class _Pending:
    record: dict
    level: Level
    future: asyncio.Future = field(repr=False)


class MicroBatcher:
    def __init__(self, model, max_items: int = 64, wait_ms: float = 5.0, language_check: str = "strict") -> None:
        self.model = model
        self.language_check = language_check
        self.max_items = max_items
        self.wait = wait_ms / 1000.0
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self.batches_run = 0  # for tests and metrics: how many model calls served how many records
        self.records_run = 0

    async def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.create_task(self._collect(), name="micro-batcher")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def replace_model(self, load) -> object:
        """Load a model with `load()` in the model thread and serve it from the next batch on. Batches already
        running finish on the old model; nothing runs half on one and half on the other. If `load` fails the old
        model stays."""
        loop = asyncio.get_running_loop()

        def load_and_warm():
            model = load()
            warm_up(model)
            return model

        self.model = await loop.run_in_executor(self._executor, load_and_warm)
        return self.model

    def submit(self, work) -> Future:
        """Run `work(model)` in the model thread, after what is already queued there; callable from any thread."""
        return self._executor.submit(lambda: work(self.model))

    async def classify(self, records: list[dict], level: Level) -> list[dict]:
        if self._queue is None:
            raise RuntimeError("the micro-batcher is not running")
        loop = asyncio.get_running_loop()
        pending = [_Pending(r, level, loop.create_future()) for r in records]
        for item in pending:
            self._queue.put_nowait(item)
        return list(await asyncio.gather(*(p.future for p in pending)))

    async def _collect(self) -> None:
        assert self._queue is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            deadline = loop.time() + self.wait
            while len(batch) < self.max_items:
                timeout = deadline - loop.time()
                if timeout <= 0:
                    break
                try:
                    batch.append(await asyncio.wait_for(self._queue.get(), timeout))
                except asyncio.TimeoutError:
                    break
            for level in ("sentence", "document"):
                group = [p for p in batch if p.level == level and not p.future.cancelled()]
                if group:
                    await self._run(loop, group, level)

    async def _run(self, loop, group: list[_Pending], level: Level) -> None:
        try:
            rows = await loop.run_in_executor(
                self._executor,
                lambda: list(classify_records(self.model, [p.record for p in group], level, self.language_check)))
        except Exception as exc:  # a model failure fails these callers, never the collector
            for p in group:
                if not p.future.done():
                    p.future.set_exception(exc)
            return
        self.batches_run += 1
        self.records_run += len(group)
        for p, row in zip(group, rows):
            if not p.future.done():
                p.future.set_result(row)


class ModelThreadEncoder:
    """The served model's encoder for work besides classification (compare's echo), run in the batcher's model
    thread: `chunk` texts per turn, so classify batches queued meanwhile run between the chunks instead of
    competing with them for the cores. Embeddings come from `cache` where it has them. The encoder is taken
    once, so a model reload during a long encode does not mix two models' vectors in one result.

    `encode` blocks: call it from a worker thread, never from the model thread itself."""

    def __init__(self, batcher: MicroBatcher, cache=None, chunk: int = 32):
        self.batcher = batcher
        self.encoder = batcher.model.encoder.with_cache(cache)
        self.chunk = chunk

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        texts = list(texts)
        parts = [self.batcher.submit(lambda _model, part=texts[start:start + self.chunk]:
                                     self.encoder.encode(part, batch_size)).result()
                 for start in range(0, len(texts), self.chunk)]
        return np.concatenate(parts) if parts else np.zeros((0, self.encoder.dim), np.float32)


class Busy(Exception):
    def __init__(self, retry_after_s: int):
        super().__init__(f"busy; retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class OneAtATime:
    """At most one holder at a time; a caller waits up to `wait_s` for its turn (first come, first served), then
    gets `Busy`. For work that takes seconds of every core: running two at once only makes both slower."""

    def __init__(self, wait_s: float):
        self.wait_s = wait_s
        self._lock = asyncio.Lock()

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
