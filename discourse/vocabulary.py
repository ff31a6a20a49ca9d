"""The project's Dutch stop words: one list, and the two uses that read it differently.

Interview transcripts are Flemish speech, full of hesitations ("euh", "allee") and tussentaal ("ge", "da");
news and policy are written Standard Dutch. stopwordsiso's Dutch list knows only the written language, so the
domain's fillers are added here, once, for every use.

Two uses read the list, and they disagree on purpose about a few groups of words:

- TOPIC_LABELS (c-TF-IDF terms of `discourse.topics`): a label names what a topic is about. Hedging verbs
  ("denk", "weet", "vind"), reporting and light verbs ("zegt", "gaan") and the words of norms and measure
  ("moet", "altijd", "allemaal", "keer") occur in every theme, so a label made of them ("denk · weet · moet")
  says nothing; all of them are stop words.
- KEYNESS (`discourse.compare.keyness`, parent speech against institutional text): the difference in how often
  each side uses a word is the finding. That parents say "denk" and "weet" more (hedging), that the press wraps
  statements in "zegt", and that a text leans on "moet" and "altijd" (the pressure of checklist parenting) are
  what the comparison is for, so those groups stay terms. Only the fillers, which nobody means, are dropped.

Each use tokenises the list its own way (`discourse.topics.vocabulary` with a serialisable pattern,
`discourse.compare.tokens` with clitics and inner hyphens); the words are written here as whole words.
"""

from __future__ import annotations

from functools import lru_cache

# ---------------------------------------------------------------- fillers: stop words for every use

# Hesitations and back-channels of transcribed speech: the transcriber writes them, nobody means them.
HESITATIONS = frozenset("""
    euh eh ehm uh uhm hm hmm mm mmm ah oh oei ok oké okay ja jaja nee neen tja nou hè he hé hoor zeg bon
""".split())

# Flemish interjections and tussentaal forms of function words ("ge hebt da ni"), absent from the written list
# because newspapers do not print them; left in, they would make every Flemish word "key" and fill the labels
# of whichever topic is the most spoken.
FLEMISH = frozenset("""
    allee allez awel amai ewa ge gij gulle da dadde ni nie wa ne nen den kik zijt hebde zedde goa efkes eventjes
    kzou kheb kweet wadde ist zenne se
""".split())

# Discourse particles, vague fillers and clitics of speech ("dus ja, gewoon eigenlijk wel echt heel...").
PARTICLES = frozenset("""
    zo gewoon eigenlijk nu wel echt heel dus toch maar ook even eens nog misschien soort beetje precies natuurlijk
    sowieso zoiets enzo ofzo enzovoort dinges ding zo'n da's 't 'k 'n 's
""".split())

FILLERS = HESITATIONS | FLEMISH | PARTICLES

# ---------------------------------------------------------------- groups the two uses disagree on

# Hedging and opinion verbs: in speech the most frequent verbs after "zijn" and "hebben".
STANCE_VERBS = frozenset("denk denkt weet vind vindt".split())

# News and reports wrap every statement in a reporting verb ("…, zegt de minister"); "gaan" and "komen" appear in
# every theme.
REPORTING_AND_LIGHT_VERBS = frozenset("""
    zegt zeggen gezegd gaan gaat ging gingen gegaan komen komt kwam kwamen gekomen laten laat liet
""".split())

# The codebook's frames are made of these: the "moet" and "mag" of norms and permission, the absolutes of
# checklist parenting ("altijd", "elke dag", "nooit", "allemaal", "helemaal"), "genoeg" of "goed genoeg", "best"
# of "je best doen", the counts of "één keer per dag". Most are in stopwordsiso's list.
NORM_WORDS = frozenset("""
    moet moeten moest moesten mag mogen mocht mochten altijd nooit elke elk iedere ieder alles niets steeds genoeg
    allemaal helemaal best keer één eén
""".split())

# Adverbs of frequency, degree and time and the light words of speech ("soms", "half", "zin hebben") that
# stopwordsiso's list lacks (it has "vaak", "veel", "weer"...): a parent says "soms" in every theme, so in a topic's
# words they crowd out what the topic is about. How often one side hedges with "soms" is a keyness finding.
VAGUE_WORDS = frozenset("""
    soms half zin zot plots ineens straks nadien vroeger tenminste amper zoveel zovele
""".split())

# Deliberately in no group: kind, kinderen, baby, ouders, moeder, mama, vader, papa, partner, gezin, maanden,
# weken. They are the domain's most frequent nouns, but which side (or which topic) uses one more is the finding:
# "papa"/"vader" marks the father-as-helper theme, "moeder" versus "ouders" separates gendered from neutral
# framing. c-TF-IDF's idf factor already discounts a word spread evenly over all topics, and keyness's G² one
# used evenly by both sides. Removing them would make both analyses blind to who a text is about.

# ---------------------------------------------------------------- the two uses

TOPIC_LABELS = "topic_labels"
KEYNESS = "keyness"

#: For each use, the words of the one list it keeps as terms (see the module docstring for why).
KEPT_AS_TERMS = {
    TOPIC_LABELS: frozenset(),
    KEYNESS: STANCE_VERBS | REPORTING_AND_LIGHT_VERBS | NORM_WORDS | VAGUE_WORDS,
}


@lru_cache(maxsize=8)
def stop_words(use: str, language: str = "nl") -> frozenset[str]:
    """stopwordsiso's list for `language` plus the fillers, stance, reporting, norm and vague words, less the words
    `use` (TOPIC_LABELS or KEYNESS) keeps as terms."""
    if use not in KEPT_AS_TERMS:
        raise ValueError(f"unknown stop-word use {use!r}; one of {sorted(KEPT_AS_TERMS)}")
    import stopwordsiso

    words = (set(stopwordsiso.stopwords(language)) | FILLERS | STANCE_VERBS | REPORTING_AND_LIGHT_VERBS | NORM_WORDS
             | VAGUE_WORDS)
    return frozenset(words - KEPT_AS_TERMS[use])
