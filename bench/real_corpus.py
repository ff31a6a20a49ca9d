"""Build the real annotated corpus (corpora/real_annotated/): select units, hand them to coders, read labels back.

    .venv/bin/python bench/real_corpus.py pool --round 0            # select round 0 (prevalence, targeted, hard negatives)
    .venv/bin/python bench/real_corpus.py pool --round 1 --active   # a round of active learning from the shipped model
    .venv/bin/python bench/real_corpus.py pool --round 5 --rare --n 600   # the model's likeliest stances
    .venv/bin/python bench/real_corpus.py export --round 0 --out /tmp/coding --size 250
    .venv/bin/python bench/real_corpus.py collect --round 0 --coding /tmp/coding   # coder files -> codings.jsonl
    .venv/bin/python bench/real_corpus.py documents                 # documents for document-level labels
    .venv/bin/python bench/real_corpus.py counts                    # the searches: term hits per corpus

Only references and hashes are written into the repository (see discourse/training/realcorpus.py); the texts for
coders go to a folder outside it. Selection is seeded and reproducible from the shared corpora. Coders see the text,
its register and the codebook; never the stratum, another coder's labels or a model's output.
"""

from __future__ import annotations

import json
import random
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from commands import FLAG, PATH, ROUND, outside_repository, parse_commands  # noqa: E402
from discourse.training import realcorpus  # noqa: E402
from discourse.model.prefilter import PARENTHOOD, RelevancePrefilter  # noqa: E402
from discourse.segment import sentence_texts, split_sentences  # noqa: E402
from discourse.settings import REPO_ROOT  # noqa: E402

OUT_DIR = REPO_ROOT / "corpora" / "real_annotated"
POOL = OUT_DIR / "pool.jsonl"
CODINGS = OUT_DIR / "codings.jsonl"
OLD_VALIDATION = REPO_ROOT / "corpora" / "real_validation" / "labels.jsonl"
SEED = 20261207

#: Where a stance is likely: cues for a norm, risk, burden or felt pressure, and for an offer, relief or a resource.
#: They only steer which sentences coders see; every label is decided by reading the unit.
PRESSURE_CUES = re.compile(
    r"\b(moet\w*|verplicht\w*|druk|schuld\w*|risico\w*|gevaar\w*|schade\w*|schadelijk\w*|achterstand\w*|"
    r"tekort\w*|wachtlijst\w*|onbetaalbaar|te duur|angst\w*|bang|stress\w*|faal\w*|falen|oordeel\w*|veroordeel\w*|"
    r"uitgeput|uitputting|burn-?out|perfect\w*|verantwoordelijk\w*|zorgen|twijfel\w*|schaam\w*|eenzaam\w*|"
    r"overbelast\w*|zwaar|nooit|altijd|het beste voor|controle\w*|sanctie\w*|boete\w*)\b", re.IGNORECASE)
SUPPORT_CUES = re.compile(
    r"\b(steun\w*|ondersteun\w*|gratis|hulp|helpen|recht op|verleng\w*|uitbreid\w*|uitbreiding|extra|"
    r"geruststel\w*|hoeft niet|hoef je niet|mag|begeleid\w*|toegankelijk\w*|betaalbaar\w*|investeer\w*|"
    r"investering\w*|premie\w*|tegemoetkoming\w*|terugbetaal\w*|kraamzorg|vroedvrouw\w*|huis van het kind|"
    r"opvoedingsondersteuning|ontlast\w*|flexibel\w*)\b", re.IGNORECASE)

#: Relevance hard negatives: parenthood words in another sense or topic.
HARD_NEGATIVES: dict[str, re.Pattern] = {
    "benefit_affair": re.compile(r"toeslagen\w*|kinderopvangtoeslag|belastingdienst|gedupeerde", re.IGNORECASE),
    "childcare_sector": re.compile(r"\b(sector|werknemers?|personeel\w*|vakbond\w*|cao|loon\w*|staking\w*|"
                                   r"ondernem\w*|arbeidsmarkt\w*)\b", re.IGNORECASE),
    "animals": re.compile(r"\b(dierentuin\w*|panda\w*|olifant\w*|giraf\w*|kalf\w*|kalveren|veulen\w*|lam\w*|"
                          r"welp\w*|pups?|ijsbeer\w*|neushoorn\w*|gorilla\w*|aap|apen|zeehond\w*|dier\w*)\b",
                          re.IGNORECASE),
    "celebrity": re.compile(r"\b(prins\w*|koning\w*|hertogin\w*|zangeres\w*|zanger|actrice|acteur|"
                            r"atlete?\w*|wielrenster|schaatsster|tennisster|voetballer|sterren?|influencer\w*)\b",
                            re.IGNORECASE),
    "school_age_youth": re.compile(r"\b(leerling\w*|school\w*|middelbare|jongeren|tieners?|puber\w*|"
                                   r"studenten|jeugdhulp|jeugdzorg|minderjarig\w*)\b", re.IGNORECASE),
    "kinderen_other_sense": re.compile(r"\b(kinderen van|kinder(?:arbeid|rechten|pornografie|misbruik)\w*|"
                                       r"kinderziekte\w*|geesteskind\w*|moedermaatschappij\w*|vaderland\w*|"
                                       r"moederbedrijf\w*|kind aan huis|ouderen)\b", re.IGNORECASE),
}
#: Early parenthood in the narrow sense (pregnancy, birth, babies and toddlers, their services and leave): in these
#: corpora so rare (about 1,200 eligible sentences in all) that round 0 takes every one of them.
CORE = re.compile(
    r"\b(baby\w*|zwanger\w*|bevall\w*|geboorte\w*|kraam\w*|ouderschap\w*|kinderopvang\w*|opvang(?:plaats|aanbod)\w*|"
    r"cr[eè]che\w*|kinderdagverblijf\w*|onthaalouder\w*|peuter\w*|zuigeling\w*|borstvoeding|flesvoeding|luier\w*|"
    r"consultatiebureau\w*|jeugdgezondheid\w*|vroedvrouw\w*|verlosk\w*|prenata\w*|postnata\w*|perinata\w*|"
    r"miskraam\w*|ivf|pasgeboren\w*|moederschap\w*|vaderschap\w*|jonge (?:ouders|gezinnen|kinderen|moeders|vaders)|"
    r"kind en gezin|opgroeien|groeipakket|huis van het kind|eerste (?:1000|duizend) dagen|kleine kinderen|"
    r"jonge kind\w*|kinderwens|vruchtbaarheid\w*|opvoedingsondersteuning)\b", re.IGNORECASE)
CHILDCARE = re.compile(r"kinderopvang\w*|opvang|cr[eè]che\w*|kinderdagverblijf\w*", re.IGNORECASE)
BIRTH = re.compile(r"geboren|geboorte\w*|zwanger\w*|bevall\w*|baby\w*|jong(?:en|e)?\b", re.IGNORECASE)


def _register_key(corpus: str, file: str) -> str:
    source = realcorpus.source_of(corpus, file)
    return f"{corpus}:{source.register}"


def _eligible(text: str, register: str) -> bool:
    words = len(text.split())
    return 5 <= words <= (80 if register == "radio_speech" else 60)


def candidates() -> list[dict]:
    """Every eligible real sentence, once per text (the first occurrence), with its reference."""
    seen: set[str] = set()
    rows = []
    for corpus, file, row, doc in realcorpus.iter_documents():
        source = realcorpus.source_of(corpus, file)
        for sentence in split_sentences(doc):
            text = sentence.text
            if not _eligible(text, source.register):
                continue
            digest = realcorpus.sha256(text)
            if digest in seen:
                continue
            seen.add(digest)
            rows.append({"corpus": corpus, "file": file, "row": row, "start": sentence.start, "end": sentence.end,
                         "sha256": digest, "register": source.register, "genre": source.genre,
                         "text": text})
    return rows


def _uid(ref: dict) -> str:
    return "r" + realcorpus.sha256(f"{ref['corpus']}/{ref['file']}/{ref['row']}/{ref['start']}/{ref['end']}")[:10]


def _capped_sample(rng: random.Random, rows: list[dict], n: int, per_doc: int, taken: set[str],
                   doc_count: Counter) -> list[dict]:
    """Up to n random rows not yet taken, at most per_doc from one document (across all strata)."""
    return _take_in_order(rng.sample(rows, len(rows)), n, per_doc, taken, doc_count)


def _take_in_order(rows: list[dict], n: int, per_doc: int, taken: set[str], doc_count: Counter) -> list[dict]:
    """The first n of `rows` not yet taken, at most per_doc from one document; `taken` and `doc_count` are updated,
    so that several draws can share them."""
    out = []
    for row in rows:
        if len(out) == n:
            break
        key = (row["corpus"], row["file"], row["row"])
        if row["sha256"] in taken or doc_count[key] >= per_doc:
            continue
        out.append(row)
        taken.add(row["sha256"])
        doc_count[key] += 1
    return out


def _prefilter_passing(fresh: list[dict], n: int, rng: random.Random) -> list[dict]:
    """Up to n sentences without a parenthood word that pass the pre-filter (where the relevance head's false
    positives are), from a seeded sample of 20 × n such sentences."""
    others = [r for r in fresh if not PARENTHOOD.search(r["text"])]
    others = rng.sample(others, min(len(others), n * 20))
    return [r for r, ok in zip(others, RelevancePrefilter.load().passes([r["text"] for r in others])) if ok][:n]


def _old_validation_refs() -> list[dict]:
    refs = realcorpus.read_rows(OLD_VALIDATION)
    out = []
    for ref in refs:
        text = realcorpus.resolve(ref)
        doc = realcorpus.document_text(ref["corpus"], ref["file"], ref["line"])
        start = doc.find(text)
        source = realcorpus.source_of(ref["corpus"], ref["file"])
        out.append({"corpus": ref["corpus"], "file": ref["file"], "row": ref["line"], "start": start,
                    "end": start + len(text), "sha256": ref["sha256"], "register": source.register,
                    "genre": source.genre, "text": text})
    return out


def select_round0(rows: list[dict], plan: dict) -> list[dict]:
    """Census of early-parenthood sentences, prevalence sample, targeted rare-class search, relevance hard
    negatives and the older validation set (no model involved)."""
    rng = random.Random(SEED)
    taken: set[str] = set()
    doc_count: Counter = Counter()
    chosen = []

    def take(stratum: str, pool: list[dict], n: int, per_doc: int = 2):
        for row in _capped_sample(rng, pool, n, per_doc, taken, doc_count):
            chosen.append({**row, "stratum": stratum})

    for row in _old_validation_refs():  # coded again, blind, so that they may join the test split
        taken.add(row["sha256"])
        chosen.append({**row, "stratum": "prior_validation"})
    prefilter = RelevancePrefilter.load()
    by_register: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_register[_register_key(row["corpus"], row["file"])].append(row)
    for key, group in sorted(by_register.items()):
        core = [r for r in group if CORE.search(r["text"])]
        take("core_census", [r for r in core if not _negative_kind(r["text"])], len(core), per_doc=10 ** 6)
        take("core_hard_negative", [r for r in core if _negative_kind(r["text"])], plan["core_negative"])
        broad = [r for r in group if PARENTHOOD.search(r["text"]) and not CORE.search(r["text"])]
        cued = [r for r in broad if (PRESSURE_CUES.search(r["text"]) or SUPPORT_CUES.search(r["text"]))
                and not _negative_kind(r["text"])]
        take("targeted_broad", cued, plan["targeted"])
        for kind in HARD_NEGATIVES:
            take(f"hard_negative:{kind}", [r for r in broad if _negative_kind(r["text"]) == kind],
                 plan["hard_negative"])
        passed = [r for r, ok in zip(group, prefilter.passes([r["text"] for r in group])) if ok]
        take("prevalence", passed, plan["prevalence"])
    return chosen


def select_targeted_rest() -> list[dict]:
    """Every remaining sentence with a broad parenthood word and a pressure or support cue that is no hard negative:
    the rest of the search for the rare classes that round 0 sampled (train only)."""
    known = {r["sha256"] for r in load_pool()}
    rows = candidates()
    return [{**r, "stratum": "targeted_broad_rest"} for r in rows
            if r["sha256"] not in known and PARENTHOOD.search(r["text"]) and not _negative_kind(r["text"])
            and (PRESSURE_CUES.search(r["text"]) or SUPPORT_CUES.search(r["text"]))]


def _negative_kind(text: str) -> str | None:
    if HARD_NEGATIVES["benefit_affair"].search(text):
        return "benefit_affair"
    if CHILDCARE.search(text) and HARD_NEGATIVES["childcare_sector"].search(text):
        return "childcare_sector"
    if BIRTH.search(text) and HARD_NEGATIVES["animals"].search(text):
        return "animals"
    if BIRTH.search(text) and HARD_NEGATIVES["celebrity"].search(text):
        return "celebrity"
    for kind in ("school_age_youth", "kinderen_other_sense"):
        if HARD_NEGATIVES[kind].search(text):
            return kind
    return None


def select_active(rows: list[dict], n: int, model_dir: Path, sample: int, round_no: int,
                  committee: Path | None = None, prefilter_share: float = 0.0) -> list[dict]:
    """Units the model is least sure of: stance entropy among likely-relevant ones, relevance near 0.5, and (with a
    `committee` model, e.g. the version before) the units on which the two models' labels differ.

    The pool is a seeded sample of unselected sentences with a parenthood word; `prefilter_share` of it comes from
    sentences without one that pass the pre-filter, where the relevance head's false positives are."""
    import numpy as np

    from discourse.model.framing import FramingModel

    known = {r["sha256"] for r in realcorpus.read_rows(POOL)}
    rng = random.Random(SEED + round_no)
    fresh = [r for r in rows if r["sha256"] not in known]
    worded = [r for r in fresh if PARENTHOOD.search(r["text"])]
    n_other = round(sample * prefilter_share)
    pool = rng.sample(worded, min(sample - n_other, len(worded)))
    if n_other:
        pool += _prefilter_passing(fresh, n_other, rng)
    texts = [r["text"] for r in pool]
    model = FramingModel.load(model_dir)
    relevance, stance, label = _active_view(model.predict(texts))
    entropy = -(stance * np.log(np.clip(stance, 1e-9, 1))).sum(axis=1)
    score = np.where(relevance >= 0.5, entropy, 0.0) + (1 - np.abs(relevance - 0.5) * 2) * 0.5
    if committee is not None:
        other = FramingModel.load(committee)  # its own encoder: a committee may carry another adapter
        other_relevance, _, other_label = _active_view(other.predict(texts))
        score += 0.5 * ((label != other_label) | ((relevance >= 0.5) != (other_relevance >= 0.5)))
    chosen = _take_in_order([pool[i] for i in np.argsort(-score)], n, 2, set(), Counter())
    return [{**row, "stratum": f"active_round{round_no}"} for row in chosen]


def select_rare(rows: list[dict], n: int, model_dir: Path, round_no: int, prefilter_share: float = 0.0,
                sample: int = 0) -> list[dict]:
    """A search for the rare classes by the model: every unselected sentence with a parenthood word (and, with
    `prefilter_share`, that share again of pre-filter-passing sentences without one), ranked by the model's
    P(pressuring) and P(supportive) (relevance folded in); half of `n` from the top of each ranking, at most two
    units from one document, none from a document labelled for the test (its sentences may never train).
    What the model ranks high is only a candidate: coders see the unit without the model's view."""
    import numpy as np

    from discourse.model.framing import FramingModel

    known = {r["sha256"] for r in realcorpus.read_rows(POOL)}
    test_documents = {(d["corpus"], d["file"], d["row"]) for d in load_documents() if d["split"] == "test"}
    rng = random.Random(SEED + 500 + round_no)
    fresh = [r for r in rows if r["sha256"] not in known and (r["corpus"], r["file"], r["row"]) not in test_documents]
    pool = [r for r in fresh if PARENTHOOD.search(r["text"])]
    if sample and len(pool) > sample:
        pool = rng.sample(pool, sample)
    n_other = round(len(pool) * prefilter_share)
    if n_other:
        pool += _prefilter_passing(fresh, n_other, rng)
    print(f"scoring {len(pool)} candidate sentences with {model_dir}", file=sys.stderr)
    preds = FramingModel.load(model_dir).predict([r["text"] for r in pool])
    scores = {label: np.array([p["scores"][label] for p in preds]) for label in ("pressuring", "supportive")}
    doc_count: Counter = Counter()
    chosen, taken = [], set()
    for label in ("supportive", "pressuring"):  # supportive first: the rarer class
        quota = n // 2 if label == "supportive" else n - len(chosen)
        ranked = [pool[i] for i in np.argsort(-scores[label], kind="stable")]
        chosen += [{**row, "stratum": f"rare_{label}_round{round_no}"}
                   for row in _take_in_order(ranked, quota, 2, taken, doc_count)]
    return chosen


def _active_view(preds: list[dict]):
    """Relevance, conditional stance distribution and product label of a model's predictions, as arrays."""
    import numpy as np

    relevance = np.array([p["relevance"] for p in preds])
    stance = np.array([[p["stance_given_relevant"][k] for k in ("supportive", "pressuring", "neutral")]
                       for p in preds])
    label = np.array([p["label"] if p["relevance"] >= 0.5 else "irrelevant" for p in preds])
    return relevance, stance, label


PLAN0 = {"core_negative": 30, "targeted": 35, "hard_negative": 4, "prevalence": 55}
#: The share of every (stratum, register) cell that goes to the frozen test split, decided before any label.
TEST_SHARE = 0.55


def write_pool(chosen: list[dict], round_no: int) -> None:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    existing = []
    if POOL.exists():
        existing = realcorpus.read_rows(POOL)
    existing = [r for r in existing if r["round"] != round_no]
    fields = ("uid", "round", "stratum", "split", "corpus", "file", "row", "start", "end", "sha256", "register",
              "genre")
    splits = _test_assignment(chosen, round_no)
    rows = existing + [{**{k: r.get(k) for k in fields[4:]}, "uid": _uid(r), "round": round_no,
                        "stratum": r["stratum"], "split": splits[r["sha256"]]} for r in chosen]
    with open(POOL, "w", encoding="utf-8") as handle:
        for r in rows:
            handle.write(json.dumps({k: r[k] for k in fields}, ensure_ascii=False) + "\n")


def _test_assignment(chosen: list[dict], round_no: int) -> dict[str, str]:
    """Round 0: TEST_SHARE of each (stratum, register) cell to "test", the rest to "pool" (train and dev later).
    Later rounds and units that a model chose (active learning) never enter the test split: it is frozen."""
    rng = random.Random(SEED + 7 + round_no)
    cells: dict[tuple, list[str]] = defaultdict(list)
    for r in chosen:
        cells[(r["stratum"], r["register"])].append(r["sha256"])
    out = {}
    for (stratum, _), digests in sorted(cells.items()):
        digests = sorted(digests)
        rng.shuffle(digests)
        n_test = 0 if stratum.startswith("active") or round_no > 0 else round(len(digests) * TEST_SHARE)
        out.update({d: ("test" if i < n_test else "pool") for i, d in enumerate(digests)})
    return out


def load_pool(round_no: int | None = None) -> list[dict]:
    rows = realcorpus.read_rows(POOL)
    return [r for r in rows if round_no is None or r["round"] == round_no]


def export(round_no: int, out: Path, size: int, second: int = 0) -> None:
    """Texts for coders, one file per batch (r<round>_<split>_b<nn>.jsonl), shuffled across strata; a coder writes
    labels_<batch>_<coder>.jsonl beside it. Test batches are coded by two blind coders, the others by one.
    `second`: instead, a seeded random sample of that many of the round's units for a second blind coder
    (r<round>_second_b<nn>.jsonl), to measure agreement on rounds that are otherwise coded once."""
    rows = load_pool(round_no)
    rng = random.Random(SEED + 100 + round_no)
    rng.shuffle(rows)
    out.mkdir(parents=True, exist_ok=True)
    parts = {"second": random.Random(SEED + 500 + round_no).sample(rows, min(second, len(rows)))} if second else {
        split: [r for r in rows if r["split"] == split] for split in ("test", "pool")}
    for split, part in parts.items():
        if not part:
            continue
        n_batches = max(1, -(-len(part) // size))
        for b in range(n_batches):
            with open(out / f"r{round_no}_{split}_b{b:02d}.jsonl", "w", encoding="utf-8") as handle:
                for r in part[b::n_batches]:
                    handle.write(json.dumps({"uid": r["uid"], "register": r["register"],
                                             "text": realcorpus.resolve(r)}, ensure_ascii=False) + "\n")
        print(f"{split}: {len(part)} units in {n_batches} batches in {out}")


def collect(round_no: int, coding: Path) -> None:
    """Read coder label files (labels_<batch>_<coder>.jsonl) into corpora/real_annotated/codings.jsonl."""
    uids = {r["uid"] for r in load_pool(round_no)}
    existing = []
    if CODINGS.exists():
        existing = realcorpus.read_rows(CODINGS)
    have = {(c["uid"], c["coder"]) for c in existing}
    new = []
    for path in sorted(coding.glob(f"labels_r{round_no}_*_b*_*.jsonl")):
        coder = path.stem.rsplit("_", 1)[1]
        for label in realcorpus.read_rows(path):
            if label["uid"] not in uids or (label["uid"], coder) in have:
                continue
            have.add((label["uid"], coder))
            new.append(_coding(label, coder))
    with open(CODINGS, "a", encoding="utf-8") as handle:
        for c in new:
            handle.write(json.dumps(c, ensure_ascii=False) + "\n")
    print(f"{len(new)} new codings ({Counter(c['coder'] for c in new)})")


def _coding(label: dict, coder: str) -> dict:
    relevant = bool(label["relevant"])
    stance = label.get("stance") if relevant else None
    if relevant and stance not in ("supportive", "pressuring", "neutral"):
        raise ValueError(f"{label['uid']}: coder {coder} gave stance {stance!r}")
    return {"uid": label["uid"], "coder": coder, "relevant": relevant, "stance": stance,
            "frames": sorted(label.get("frames") or []) if relevant else []}


def _codings() -> dict[str, dict[str, dict]]:
    """uid -> coder -> coding ({} before the first coding is collected)."""
    return _by_coder(CODINGS, "uid") if CODINGS.exists() else {}


def _by_coder(path: Path, key: str) -> dict[str, dict[str, dict]]:
    """unit (its `key` field) -> coder -> coding, from a codings file."""
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    for c in realcorpus.read_rows(path):
        out[c[key]][c["coder"]] = c
    return out


def _keyed(path: Path, key: str) -> dict[str, dict]:
    """The rows of an adjudication file by their `key` field ({} when there is none yet)."""
    return {row[key]: row for row in realcorpus.read_rows(path)} if path.exists() else {}


def _differs(a: dict, b: dict) -> bool:
    return (a["relevant"], a["stance"], sorted(a["frames"])) != (b["relevant"], b["stance"], sorted(b["frames"]))


def agreement(round_no: int) -> dict:
    """Kappa of coders A and B on the double-coded units, overall and per corpus register."""
    from discourse.training.agreement import pairwise_agreement

    pool = {r["uid"]: r for r in load_pool(round_no)}
    codings = _codings()
    ids = sorted(u for u in pool if {"A", "B"} <= set(codings.get(u, {})))
    first = {u: codings[u]["A"] for u in ids}
    second = {u: codings[u]["B"] for u in ids}
    report = {"all": pairwise_agreement(first, second, ids), "per_register": {}}
    for register in sorted({pool[u]["register"] for u in ids}):
        sub = [u for u in ids if pool[u]["register"] == register]
        report["per_register"][register] = pairwise_agreement(first, second, sub)
    confusion = Counter((stance_or_irrelevant(first[u]), stance_or_irrelevant(second[u])) for u in ids)
    report["stance_confusion_A_by_B"] = {f"{a}|{b}": n for (a, b), n in sorted(confusion.items())}
    report["disagreements"] = sum(_differs(first[u], second[u]) for u in ids)
    return report


def stance_or_irrelevant(coding: dict) -> str:
    return coding["stance"] if coding["relevant"] else "irrelevant"


def export_disagreements(round_no: int, out: Path) -> None:
    """Units where A and B differ, with both codings (unnamed, in random order) for a blind adjudicator."""
    pool = {r["uid"]: r for r in load_pool(round_no)}
    codings = _codings()
    rng = random.Random(SEED + 200 + round_no)
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(out / f"r{round_no}_disagreements.jsonl", "w", encoding="utf-8") as handle:
        for uid in sorted(pool):
            pair = codings.get(uid, {})
            if not {"A", "B"} <= set(pair) or not _differs(pair["A"], pair["B"]):
                continue
            options = [pair["A"], pair["B"]]
            rng.shuffle(options)
            handle.write(json.dumps({"uid": uid, "register": pool[uid]["register"], "text": realcorpus.resolve(
                pool[uid]), "coding_1": _public(options[0]), "coding_2": _public(options[1])},
                ensure_ascii=False) + "\n")
            n += 1
    print(f"{n} disagreements in {out}")


def _public(coding: dict) -> dict:
    return {k: coding[k] for k in ("relevant", "stance", "frames")}


def finalize() -> None:
    """Final labels into corpora/real_annotated/labels.jsonl: agreed, adjudicated or single-coded; the pool units
    split into train and dev by a hash of their uid (fixed before any label); the test split's checksum frozen."""
    codings = _codings()
    adjudicated = _keyed(ADJUDICATION, "uid")
    rows, pending = [], []
    documents = {(d["corpus"], d["file"], d["row"]) for d in load_documents() if d["split"] == "test"}
    for ref in load_pool():
        pair = codings.get(ref["uid"], {})
        if {"A", "B"} <= set(pair):
            if not _differs(pair["A"], pair["B"]):
                label, decided = pair["A"], "agreed"
            elif ref["uid"] in adjudicated:
                label, decided = _coding(adjudicated[ref["uid"]], "adjudicator"), "adjudicated"
            else:
                pending.append(ref["uid"])
                continue
        elif pair:
            label, decided = next(iter(pair.values())), "single"
        else:
            pending.append(ref["uid"])
            continue
        # dev is drawn from round 0 only: units a model chose are not representative, so they only train
        split = ref["split"] if ref["split"] == "test" else _train_or_dev(ref["uid"]) if ref["round"] == 0 else "train"
        if split != "test" and (ref["corpus"], ref["file"], ref["row"]) in documents:
            split = "document_holdout"  # its document is labelled as a whole: never trained on
        rows.append({**{k: ref[k] for k in REF_FIELDS}, "split": split, "relevant": label["relevant"],
                     "stance": label["stance"], "frames": label["frames"], "decided": decided})
    with open(realcorpus.REAL_LABELS, "w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(rows)} labelled units, {len(pending)} pending; " + json.dumps(Counter(r["split"] for r in rows)))


REF_FIELDS = ("uid", "round", "stratum", "corpus", "file", "row", "start", "end", "sha256", "register", "genre")
ADJUDICATION = OUT_DIR / "adjudication.jsonl"
DEV_SHARE = 0.3


def _train_or_dev(uid: str) -> str:
    return "dev" if int(realcorpus.sha256("dev:" + uid)[:8], 16) / 16 ** 8 < DEV_SHARE else "train"


def freeze_test() -> None:
    """Write the test split's checksum; tests/test_real_corpus.py fails if the test labels ever change."""
    digest = realcorpus.test_split_digest()
    realcorpus.FROZEN_TEST.write_text(json.dumps(digest, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(digest))


DOCUMENTS = OUT_DIR / "documents_pool.jsonl"


def select_documents(n_relevant: int, n_other: int, max_words: int = 1500) -> list[dict]:
    """Documents for document-level labels (first draw): documents of at most `max_words` words whose pooled
    sentences are all in the test split and include an early-parenthood or targeted one (stratified by register),
    plus `n_other` random documents without any pooled sentence."""
    rng = random.Random(SEED + 300)
    by_doc = _pooled_by_document()
    keep = ("core_census", "prior_validation", "targeted_broad")
    eligible = sorted(k for k, units in by_doc.items() if all(u["split"] == "test" for u in units)
                      and any(u["stratum"] in keep for u in units)
                      and len(realcorpus.document_text(*k).split()) <= max_words)
    by_register: dict[str, list] = defaultdict(list)
    for key in eligible:
        by_register[realcorpus.source_of(key[0], key[1]).register].append(key)
    share = n_relevant / len(eligible)
    chosen = []
    for register, keys in sorted(by_register.items()):
        chosen += [(k, "relevant_candidate") for k in rng.sample(keys, min(len(keys), round(len(keys) * share)))]
    others = [(c, f, r) for c, f, r, text in realcorpus.iter_documents()
              if (c, f, r) not in by_doc and 30 <= len(text.split()) <= max_words]
    chosen += [(k, "random") for k in rng.sample(others, n_other)]
    return [_document_row(key, stratum) for key, stratum in chosen]


def select_dense_documents(n: int, exclude: set[tuple], max_words: int = 1500, split: str = "test") -> list[dict]:
    """Documents where early parenthood is likely a main topic: at least two sentences with a narrow
    early-parenthood term (not hard negatives), or one that makes up a fifth of the sentences. All such documents
    whose pooled sentences are on the test side first, then a random draw of the others; the sentences of every
    chosen document leave train and dev (finalize), so the document labels stay unseen by training."""
    rng = random.Random(SEED + 302)
    by_doc = _pooled_by_document()
    test_side, other = [], []
    for corpus, file, row, text in realcorpus.iter_documents():
        if (corpus, file, row) in exclude or not 30 <= len(text.split()) <= max_words:
            continue
        sentences = sentence_texts(text)
        core = sum(bool(CORE.search(t)) and not _negative_kind(t) for t in sentences)
        if core >= 2 or (core and core / len(sentences) >= 0.2):
            units = by_doc.get((corpus, file, row), [])
            (test_side if all(u["split"] == "test" for u in units) else other).append((corpus, file, row))
    if split == "dev":  # documents for choosing the document aggregate: any that the test draw left
        chosen = rng.sample(test_side + other, min(n, len(test_side) + len(other)))
        return [{**_document_row(key, "dense_dev"), "split": "dev"} for key in chosen]
    chosen = test_side if len(test_side) >= n else test_side + rng.sample(other, min(len(other), n - len(test_side)))
    return [_document_row(key, "dense") for key in chosen[:n]]


def _pooled_by_document() -> dict[tuple, list[dict]]:
    by_doc: dict[tuple, list[dict]] = defaultdict(list)
    for r in load_pool():
        by_doc[(r["corpus"], r["file"], r["row"])].append(r)
    return by_doc


def _document_row(key: tuple, stratum: str) -> dict:
    corpus, file, row = key
    source = realcorpus.source_of(corpus, file)
    return {"did": "d" + realcorpus.sha256(f"{corpus}/{file}/{row}")[:10], "stratum": stratum, "split": "test",
            "corpus": corpus, "file": file, "row": row,
            "sha256": realcorpus.sha256(realcorpus.document_text(corpus, file, row)),
            "register": source.register, "genre": source.genre}


def load_documents() -> list[dict]:
    if not DOCUMENTS.exists():
        return []
    return realcorpus.read_rows(DOCUMENTS)


def export_documents(out: Path, size: int, stratum: str | None = None) -> None:
    rows = [r for r in load_documents() if stratum is None or r["stratum"] == stratum]
    random.Random(SEED + 301).shuffle(rows)
    out.mkdir(parents=True, exist_ok=True)
    n_batches = -(-len(rows) // size)
    for b in range(n_batches):
        with open(out / f"docs_b{b:02d}.jsonl", "w", encoding="utf-8") as handle:
            for r in rows[b::n_batches]:
                handle.write(json.dumps({"did": r["did"], "register": r["register"],
                                         "text": realcorpus.document_text(r["corpus"], r["file"], r["row"])},
                                        ensure_ascii=False) + "\n")
    print(f"{len(rows)} documents in {n_batches} batches in {out}")


DOCUMENT_CODINGS = OUT_DIR / "document_codings.jsonl"
DOCUMENT_ADJUDICATION = OUT_DIR / "document_adjudication.jsonl"
DOCUMENT_LABELS = OUT_DIR / "document_labels.jsonl"


def collect_documents(folders: list[Path]) -> None:
    """Document coder files (labels_docs_b<nn>_<coder>.jsonl) into document_codings.jsonl (rewritten)."""
    dids = {d["did"] for d in load_documents()}
    rows, seen = [], set()
    for folder in folders:
        for path in sorted(folder.glob("labels_docs_b*_*.jsonl")):
            coder = path.stem.rsplit("_", 1)[1]
            for label in realcorpus.read_rows(path):
                if label["did"] not in dids or (label["did"], coder) in seen:
                    continue
                seen.add((label["did"], coder))
                coding = _coding({**label, "uid": label["did"]}, coder)
                rows.append({"did": label["did"], "coder": coder, "relevant": coding["relevant"],
                             "stance": coding["stance"]})
    with open(DOCUMENT_CODINGS, "w", encoding="utf-8") as handle:
        for r in rows:
            handle.write(json.dumps(r) + "\n")
    print(f"{len(rows)} document codings: {Counter(r['coder'] for r in rows)}")


def _document_codings() -> dict[str, dict[str, dict]]:
    return _by_coder(DOCUMENT_CODINGS, "did")


def document_agreement() -> dict:
    from discourse.training.metrics import kappa

    codings = _document_codings()
    both = sorted(d for d, c in codings.items() if {"D1", "D2"} <= set(c))
    one = [codings[d]["D1"] for d in both]
    two = [codings[d]["D2"] for d in both]
    rel = [d for d in both if codings[d]["D1"]["relevant"] and codings[d]["D2"]["relevant"]]
    return {"documents_double_coded": len(both),
            "relevance_kappa": kappa([c["relevant"] for c in one], [c["relevant"] for c in two]),
            "stance_kappa_4way": kappa([stance_or_irrelevant(c) for c in one], [stance_or_irrelevant(c) for c in two]),
            "stance_kappa_both_relevant": kappa([codings[d]["D1"]["stance"] for d in rel],
                                                [codings[d]["D2"]["stance"] for d in rel]),
            "disagreements": sum(stance_or_irrelevant(a) != stance_or_irrelevant(b) for a, b in zip(one, two))}


def export_document_disagreements(out: Path) -> None:
    docs = {d["did"]: d for d in load_documents()}
    codings = _document_codings()
    rng = random.Random(SEED + 400)
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(out / "document_disagreements.jsonl", "w", encoding="utf-8") as handle:
        for did in sorted(codings):
            pair = codings[did]
            if not {"D1", "D2"} <= set(pair) or stance_or_irrelevant(pair["D1"]) == stance_or_irrelevant(pair["D2"]):
                continue
            options = [pair["D1"], pair["D2"]]
            rng.shuffle(options)
            d = docs[did]
            handle.write(json.dumps({"did": did, "register": d["register"],
                                     "text": realcorpus.document_text(d["corpus"], d["file"], d["row"]),
                                     "coding_1": {k: options[0][k] for k in ("relevant", "stance")},
                                     "coding_2": {k: options[1][k] for k in ("relevant", "stance")}},
                                    ensure_ascii=False) + "\n")
            n += 1
    print(f"{n} document disagreements in {out}")


def finalize_documents() -> None:
    codings = _document_codings()
    adjudicated = _keyed(DOCUMENT_ADJUDICATION, "did")
    rows, pending = [], []
    for d in load_documents():
        pair = codings.get(d["did"], {})
        if d["split"] == "dev" and len(pair) == 1:  # dev documents are coded once
            label = next(iter(pair.values()))
            rows.append({**d, "relevant": label["relevant"], "stance": label["stance"], "decided": "single"})
            continue
        if len(pair) < 2:
            pending.append(d["did"])
            continue
        one, two = pair["D1"], pair["D2"]
        if stance_or_irrelevant(one) == stance_or_irrelevant(two):
            label, decided = one, "agreed"
        elif d["did"] in adjudicated:
            label, decided = _coding({**adjudicated[d["did"]], "uid": d["did"]}, "adjudicator"), "adjudicated"
        else:
            pending.append(d["did"])
            continue
        rows.append({**d, "relevant": label["relevant"], "stance": label["stance"], "decided": decided})
    with open(DOCUMENT_LABELS, "w", encoding="utf-8") as handle:
        for r in rows:
            handle.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(rows)} labelled documents, {len(pending)} pending; "
          + json.dumps(Counter(stance_or_irrelevant(r) for r in rows)))


def counts() -> None:
    """How often the selection terms occur per corpus: the record of the searches for the rare classes."""
    rows = candidates()
    table: dict[str, Counter] = defaultdict(Counter)
    for r in rows:
        key = _register_key(r["corpus"], r["file"])
        table[key]["sentences"] += 1
        if PARENTHOOD.search(r["text"]):
            table[key]["parenthood"] += 1
            table[key]["parenthood+pressure_cue"] += bool(PRESSURE_CUES.search(r["text"]))
            table[key]["parenthood+support_cue"] += bool(SUPPORT_CUES.search(r["text"]))
            kind = _negative_kind(r["text"])
            if kind:
                table[key][f"hard_negative:{kind}"] += 1
    print(json.dumps(table, indent=1))


def main() -> None:
    model = {"type": Path, "default": REPO_ROOT / "models" / "framing-e5-small"}
    args = parse_commands(__doc__.split("\n\n")[0], {
        "pool": {"--round": ROUND, "--active": FLAG, "--rare": FLAG, "--targeted-rest": FLAG,
                 "--n": {"type": int, "default": 400},
                 "--sample": {"type": int, "help": "candidates to score (--active: default 6000; --rare: all)"},
                 "--model": model,
                 "--committee": {"type": Path, "help": "a second model: units on which its labels differ rank higher"},
                 "--prefilter-share": {"type": float, "default": 0.0,
                                       "help": "share of the sample drawn from pre-filter-passing sentences without "
                                               "a parenthood word"}},
        "export": {"--round": ROUND, "--out": PATH, "--size": {"type": int, "default": 250},
                   "--second": {"type": int, "default": 0,
                                "help": "export a random sample of this many units for a second blind coder"}},
        "collect": {"--round": ROUND, "--coding": PATH},
        "counts": {},
        "agreement": {"--round": ROUND, "--write": FLAG},
        "disagreements": {"--round": ROUND, "--out": PATH},
        "finalize": {},
        "collect-documents": {"--coding": {**PATH, "nargs": "+"}},
        "document-agreement": {},
        "document-disagreements": {"--out": PATH},
        "finalize-documents": {},
        "documents": {"--relevant": {"type": int, "default": 200}, "--other": {"type": int, "default": 20},
                      "--dense": {"type": int, "default": 0, "help": "add this many dense documents to the existing draw"},
                      "--split": {"default": "test", "choices": ("test", "dev")}},
        "export-documents": {"--out": PATH, "--size": {"type": int, "default": 110}, "--stratum": {}},
        "freeze-test": {},
    })
    if args.command == "pool":
        rows = candidates()
        if args.active:
            chosen = select_active(rows, args.n, args.model, args.sample or 6000, args.round, args.committee,
                                    args.prefilter_share)
        elif args.rare:
            chosen = select_rare(rows, args.n, args.model, args.round, args.prefilter_share, args.sample or 0)
        elif args.targeted_rest:
            chosen = select_targeted_rest()
        else:
            chosen = select_round0(rows, PLAN0)
        write_pool(chosen, args.round)
        print(json.dumps(Counter(r["stratum"] for r in chosen), indent=1))
        print(json.dumps(Counter(_register_key(r["corpus"], r["file"]) for r in chosen), indent=1))
    elif args.command == "export":
        export(args.round, outside_repository(args.out), args.size, args.second)
    elif args.command == "collect":
        collect(args.round, args.coding)
    elif args.command == "agreement":
        report = agreement(args.round)
        print(json.dumps(report, indent=1))
        if args.write:
            name = "agreement.json" if args.round == 0 else f"agreement_round{args.round}.json"
            (OUT_DIR / name).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    elif args.command == "disagreements":
        export_disagreements(args.round, args.out)
    elif args.command == "documents":
        if args.dense:
            existing = load_documents()
            rows = existing + select_dense_documents(args.dense, {(r["corpus"], r["file"], r["row"])
                                                                  for r in existing}, split=args.split)
        else:
            rows = select_documents(args.relevant, args.other)
        with open(DOCUMENTS, "w", encoding="utf-8") as handle:
            for r in rows:
                handle.write(json.dumps(r, ensure_ascii=False) + "\n")
        print(len(rows), json.dumps(Counter(r["register"] for r in rows)))
    elif args.command == "export-documents":
        export_documents(outside_repository(args.out), args.size, args.stratum)
    elif args.command == "collect-documents":
        collect_documents(args.coding)
    elif args.command == "document-agreement":
        print(json.dumps(document_agreement(), indent=1))
    elif args.command == "document-disagreements":
        export_document_disagreements(args.out)
    elif args.command == "finalize-documents":
        finalize_documents()
    elif args.command == "finalize":
        finalize()
    elif args.command == "freeze-test":
        freeze_test()
    else:
        counts()


if __name__ == "__main__":
    main()
