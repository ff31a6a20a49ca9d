"""The micro-batcher with the real shipped model: long work is spread over turns of the model thread, short texts
are answered in between, and every row is the one a single model call gives."""

from __future__ import annotations

import asyncio

import pytest

from api.batcher import MicroBatcher
from discourse.pipeline.classify import classify_records
from discourse.training.corpus import running_text
from discourse.model.loading import load_model

pytestmark = pytest.mark.encoder

SHORT = "Ge moet u niet schuldig voelen als het niet perfect loopt; goed genoeg is echt genoeg."
# Each fills the encoder's 512-token window although it is short: one or two tokens per character.
ODD = ["a\u0301" * 2000, "\u01c5" * 500, "\U0001f476\U0001f37c" * 300, "\U0001f468\u200d\U0001f469\u200d\U0001f467" * 150]


@pytest.fixture(scope="module")
def model(default_encoder):
    return load_model()


async def _serve(model, work, **options):
    batcher = MicroBatcher(model, **options)
    await batcher.start()
    try:
        return await work(batcher), batcher
    finally:
        await batcher.stop()


def test_a_long_document_in_turns_gives_the_row_of_one_call(model):
    records = [{"id": "doc", "text": running_text(12_000), "bron": "test"},
               {"id": "odd", "text": ODD[0]}, {"id": "kort", "text": SHORT}]
    expected = list(classify_records(model, records, "document"))
    assert expected[0]["sentences"]["total"] > 100

    rows, batcher = asyncio.run(_serve(model, lambda b: b.classify(records, "document"), max_tokens=32))
    assert rows == expected
    assert batcher.batches_run > 20  # spread over many turns, not one model call
    sentence_rows, _ = asyncio.run(_serve(model, lambda b: b.classify(records, "sentence"), max_tokens=32))
    assert sentence_rows == list(classify_records(model, records, "sentence"))


@pytest.mark.parametrize("level, slow", [("document", [running_text(30_000, seed=1)]), ("sentence", ODD * 3)],
                         ids=["long document", "odd-Unicode texts"])
def test_a_short_text_is_answered_while_long_work_is_still_running(model, level, slow):
    """Before, the model thread ran a request's records in one call: a short text that came in meanwhile waited
    for the whole document (or all twelve 512-token texts)."""
    async def work(batcher):
        long = asyncio.create_task(batcher.classify([{"id": i, "text": t} for i, t in enumerate(slow)], level))
        while batcher.batches_run == 0:  # the long work has the model thread
            await asyncio.sleep(0.005)
        [short] = await batcher.classify([{"id": "kort", "text": SHORT}], "sentence")
        still_running = not long.done()
        return short, still_running, await long

    (short, still_running, long_rows), _ = asyncio.run(_serve(model, work))
    assert short["id"] == "kort" and short["label"] == "supportive"
    assert still_running
    assert [r["id"] for r in long_rows] == list(range(len(slow))) and all("label" in r for r in long_rows)


def test_comparisons_run_one_at_a_time_in_a_thread_below_the_model_thread():
    import os
    import threading

    from api.batcher import Busy, OneAtATime

    def niceness() -> tuple[str, int]:
        return threading.current_thread().name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    async def scenario():
        turn = OneAtATime(wait_s=0.2)
        try:
            name, nice = await turn.run(niceness)
            async with turn.turn():  # a comparison holds the turn: the next caller gets Busy after wait_s
                with pytest.raises(Busy):
                    await turn.run(niceness)
            return name, nice
        finally:
            turn.close()

    name, nice = asyncio.run(scenario())
    assert name.startswith("analysis")
    assert nice == min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)


def test_long_records_and_echo_have_their_own_lane_with_the_onnx_encoder(model):
    """A long turn is one model call that cannot be interrupted (a 512-token unit: 0.1-0.3 s); in its own thread
    it shares the cores with the ordinary texts instead of making them wait."""
    import threading

    assert model.encoder.concurrent_calls

    async def work(batcher):
        loop = asyncio.get_running_loop()
        lanes = set()
        original = batcher._encode

        def watched(taken):
            if taken:
                lanes.add((threading.current_thread().name.split("_")[0], taken[0][0].pending.record["id"]))
            return original(taken)

        batcher._encode = watched
        await batcher.classify([{"id": "odd", "text": ODD[0]}, {"id": "kort", "text": SHORT}], "sentence")
        echo = await asyncio.wrap_future(batcher.submit_long(lambda m: threading.current_thread().name), loop=loop)
        return lanes, echo

    (lanes, echo), _ = asyncio.run(_serve(model, work))
    assert lanes == {("model-long", "odd"), ("model", "kort")}
    assert echo.startswith("model-long")
