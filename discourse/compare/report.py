"""The comparison as one self-contained HTML page, and as JSON.

The page is meant to be mailed, archived next to a thesis chapter and opened years later: inline CSS, inline
SVG, no JavaScript, no fonts or images from elsewhere, not one external URL. Every piece of text comes from the
corpus or the caller and goes through jinja2's autoescaping; the template never marks anything safe. Colours
are the Okabe–Ito palette (A blue, B orange), readable with every common colour-vision deficiency, and no
information is carried by colour alone (each bar has its number next to it).

The template lives in this module rather than in a .j2 file so the page cannot lose its template in a wheel
that ships no package data.

The result dict that `build_report` and `report_json` take (another module fills it; only "a" and "b" are
required, every other section is left out of the page when absent):

    {
      "title": str,                          # optional, default "Vergelijking A – B"
      "generated": str,                      # optional, printed as given (e.g. a date, a run id)
      "a": {"label": str,                    # short name of the side, e.g. "Ouders (interviews)"
            "filter": str | dict,            # the selection, as text or {field: value}
            "units": int, "clusters": int},
      "b": {... same keys ...},
      "confidence": 0.95,                    # optional, the bootstrap's confidence level
      "n_resamples": 2000,                   # optional
      "stance":  {stance: Interval},         # cluster_bootstrap(..., stance_distribution)
      "frames":  {frame: Interval},          # cluster_bootstrap(..., frame_distribution)
      "topics":  {topic_id: Interval},       # cluster_bootstrap(..., topic_prevalence)
      "topic_labels": {topic_id: str},       # optional names for the topics
      "keyness": KeynessResult.to_dict(),    # {"size_a", "size_b", "min_freq", "lemmas", "n_terms",
                                             #  "top_a": [KeyTerm], "top_b": [KeyTerm]};
                                             #  KeyTerm = {"term", "freq_a", "freq_b", "g2", "log_ratio", "p_value"}
      "adoption": adoption(...),             # {"words_a", "words_b", "per_words", "terms": [{"term", "merged",
                                             #  "count_a", "count_b", "texts_a", "texts_b", "rate_a", "rate_b",
                                             #  "ratio"}]}
      "echo": EchoResult.to_dict(),          # {"threshold", "n_a", "n_above", "share_above", "median_similarity",
                                             #  "most": [EchoMatch], "least": [EchoMatch]};
                                             #  EchoMatch = {"a_index", "a_text", "b_index", "b_text", "similarity"}
    }

An Interval is bootstrap.Interval or its to_dict(): {"a", "a_low", "a_high", "b", "b_low", "b_high", "diff",
"diff_low", "diff_high", "p_value"}, shares in [0, 1]. The dataclass objects themselves (Interval, KeynessResult,
EchoResult) are accepted wherever their dicts are.
"""

from __future__ import annotations

import dataclasses
import json
import math
from functools import lru_cache

import jinja2
import numpy as np

# Okabe & Ito (2008), "Color universal design".
COLOUR_A = "#0072B2"  # blue
COLOUR_B = "#E69F00"  # orange
COLOUR_DIFF = "#000000"

CHART_WIDTH = 260  # px, the bar area of one row
DIFF_WIDTH = 150
_NICE_MAXIMA = (0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1.0)


def build_report(result: dict) -> str:
    """The comparison as a self-contained HTML page (see the module docstring for the shape of `result`)."""
    result = to_plain(result)
    confidence = result.get("confidence", 0.95)
    sections = [
        _share_section("stance", "Houding", "stance", result.get("stance"), _codebook_labels()),
        _share_section("frames", "Deelframes", "sub-frames", result.get("frames"), _codebook_labels()),
        _share_section("topics", "Onderwerpen", "topic prevalence", result.get("topics"), _topic_labels(result)),
    ]
    return _template().render(
        title=result.get("title") or "Vergelijking A – B",
        generated=result.get("generated"),
        sides=[_side(result["a"], "A"), _side(result["b"], "B")],
        confidence_pct=_number(100 * confidence, 0 if float(100 * confidence).is_integer() else 1),
        n_resamples=result.get("n_resamples"),
        share_sections=[s for s in sections if s is not None],
        keyness=result.get("keyness"),
        adoption=result.get("adoption"),
        echo=result.get("echo"),
        colour_a=COLOUR_A, colour_b=COLOUR_B, colour_diff=COLOUR_DIFF,
        chart_width=CHART_WIDTH, diff_width=DIFF_WIDTH,
    )


def report_json(result: dict) -> str:
    """The result as JSON: dataclasses as dicts, numpy numbers as numbers, NaN and infinities as null."""
    return json.dumps(_finite(to_plain(result)), ensure_ascii=False, indent=2, allow_nan=False)


def to_plain(value):
    """Plain dicts, lists, strings and Python numbers all the way down."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_plain(value.to_dict() if hasattr(value, "to_dict") else dataclasses.asdict(value))
    if isinstance(value, dict):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(item) for item in value]
    if isinstance(value, np.ndarray):
        return to_plain(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def _finite(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_finite(item) for item in value]
    return value


# ---- formatting (also registered as template filters) ----

def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _number(value, digits: int = 2) -> str:
    return "–" if _missing(value) else f"{value:,.{digits}f}".replace(",", "\u202f")


def _percent(share, digits: int = 1) -> str:
    return "–" if _missing(share) else f"{100 * share:.{digits}f} %"


def _points(diff) -> str:
    """A difference of shares in percentage points, with its sign."""
    return "–" if _missing(diff) else f"{100 * diff:+.1f} pp"


def _p(value) -> str:
    if _missing(value):
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _ratio(value) -> str:
    return "∞" if value is None else _number(value, 2)


# ---- sections ----

def _side(side: dict, default_label: str) -> dict:
    selection = side.get("filter")
    if isinstance(selection, dict):
        selection = "; ".join(f"{key} = {value}" for key, value in selection.items())
    return {"label": side.get("label") or default_label, "filter": selection or "–",
            "units": side.get("units"), "clusters": side.get("clusters")}


@lru_cache(maxsize=1)
def _codebook_labels() -> dict[str, tuple[str, str | None]]:
    """Dutch name (and English, in small print) of each stance and frame: the codebook definition's head."""
    try:
        from ..codebook import load_codebook

        definitions = load_codebook().definitions
    except (OSError, KeyError, ValueError):  # a report must not fail for want of pretty names
        return {}
    return {key: (d.get("nl", key).split(" — ")[0], d.get("en", "").split(" — ")[0] or None)
            for key, d in definitions.items()}


def _topic_labels(result: dict) -> dict[str, tuple[str, str | None]]:
    # Topic -1 is where a BERTopic-style model puts the units it could not place.
    labels = {"-1": ("Overige (geen onderwerp)", "outliers, no topic")}
    labels.update({str(key): (str(name), None) for key, name in (result.get("topic_labels") or {}).items()})
    return labels


def _share_section(anchor: str, title_nl: str, title_en: str, intervals: dict | None,
                   labels: dict[str, tuple[str, str | None]]) -> dict | None:
    if not intervals:
        return None
    rows = list(intervals.items())
    scale = _nice_max([v for _, iv in rows for v in (iv["a"], iv["a_high"], iv["b"], iv["b_high"])])
    diff_scale = _nice_max([abs(v) for _, iv in rows for v in (iv["diff"], iv["diff_low"], iv["diff_high"])])
    return {
        "anchor": anchor, "title_nl": title_nl, "title_en": title_en,
        "ticks": [{"x": _x(t, scale, CHART_WIDTH), "label": _percent(t, 0)} for t in _ticks(scale)],
        "diff_scale": _points(diff_scale).lstrip("+"),
        "rows": [_share_row(key, iv, labels.get(str(key), (str(key), None)), scale, diff_scale) for key, iv in rows],
    }


def _share_row(key, iv: dict, label: tuple[str, str | None], scale: float, diff_scale: float) -> dict:
    half = DIFF_WIDTH / 2

    def diff_x(value):
        return None if _missing(value) else round(half + half * value / diff_scale, 1)

    name, english = label
    return {
        "key": str(key), "label": name, "english": english if english and english != name else None,
        "iv": iv,
        "a_x": _x(iv["a"], scale, CHART_WIDTH), "a_lo": _x(iv["a_low"], scale, CHART_WIDTH),
        "a_hi": _x(iv["a_high"], scale, CHART_WIDTH),
        "b_x": _x(iv["b"], scale, CHART_WIDTH), "b_lo": _x(iv["b_low"], scale, CHART_WIDTH),
        "b_hi": _x(iv["b_high"], scale, CHART_WIDTH),
        "d_x": diff_x(iv["diff"]), "d_lo": diff_x(iv["diff_low"]), "d_hi": diff_x(iv["diff_high"]),
        # Whether the interval of the difference excludes 0: shown as a filled dot (and by the p-value).
        "clear": not _missing(iv["diff_low"]) and (iv["diff_low"] > 0 or iv["diff_high"] < 0),
    }


def _x(value, scale: float, width: float) -> float | None:
    if _missing(value):
        return None
    return round(width * min(max(value, 0.0), scale) / scale, 1)


def _nice_max(values: list) -> float:
    """The smallest round maximum for an axis that holds every value (so small frame shares are not slivers)."""
    top = max((v for v in values if not _missing(v)), default=0.0)
    return next((m for m in _NICE_MAXIMA if top <= m), max(1.0, top))


def _ticks(scale: float) -> list[float]:
    step = scale / 4 if scale in (0.2, 1.0) else scale / 5 if scale in (0.05, 0.1, 0.25, 0.5) else scale / 3
    return [round(step * i, 4) for i in range(int(round(scale / step)) + 1)]


@lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    # autoescape=True explicitly: select_autoescape() decides by file name, and a string template has none.
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters.update(number=_number, percent=_percent, points=_points, p=_p, ratio=_ratio)
    return env.from_string(_TEMPLATE)


_TEMPLATE = """<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222; margin: 2rem auto;
       max-width: 1100px; padding: 0 1rem; line-height: 1.4; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
h3 { font-size: 1.05rem; }
small, .en { color: #666; font-size: .8em; font-weight: normal; }
table { border-collapse: collapse; margin: .6rem 0; }
th, td { padding: .25rem .6rem; text-align: left; vertical-align: middle; border-bottom: 1px solid #eee; }
th { font-size: .85rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.swatch { display: inline-block; width: .9em; height: .9em; vertical-align: -.1em; margin-right: .3em; }
.a { background: {{ colour_a }}; } .b { background: {{ colour_b }}; }
.legend { font-size: .85rem; color: #444; }
.big { font-size: 2rem; font-weight: bold; }
td.sentence { max-width: 420px; font-size: .9rem; }
svg { display: block; }
.note { font-size: .85rem; color: #555; }
</style>
</head>
<body>
<header>
<h1>{{ title }}</h1>
{% if generated %}<p class="note">{{ generated }}</p>{% endif %}
<table>
<tr><th></th><th>Selectie <small>filter</small></th><th class="num">Eenheden <small>units</small></th>
<th class="num">Clusters <small>clusters</small></th></tr>
{% for side in sides %}
<tr><td><span class="swatch {{ 'a' if loop.first else 'b' }}"></span><strong>{{ side.label }}</strong></td>
<td>{{ side.filter }}</td><td class="num">{{ side.units|number(0) }}</td>
<td class="num">{{ side.clusters|number(0) }}</td></tr>
{% endfor %}
</table>
<p class="note">Intervallen: {{ confidence_pct }} %-betrouwbaarheidsinterval uit een clusterbootstrap
{% if n_resamples %}({{ n_resamples|number(0) }} trekkingen){% endif %}; de clusters (sprekers of documenten) worden
hertrokken, niet de losse eenheden. p: tweezijdige bootstrap-p voor verschil = 0. pp = procentpunt.
<small>Intervals: {{ confidence_pct }} % cluster-bootstrap percentile intervals; speakers or documents are resampled,
not units. p: two-sided bootstrap p-value for difference = 0. pp = percentage points.</small></p>
</header>

{% for section in share_sections %}
<section id="{{ section.anchor }}">
<h2>{{ section.title_nl }} <small>{{ section.title_en }}</small></h2>
<p class="legend"><span class="swatch a"></span>{{ sides[0].label }} &nbsp; <span class="swatch b"></span>{{ sides[1].label }}
&nbsp; — balk: aandeel, streep: {{ confidence_pct }} %-interval <small>bar: share, whisker: interval</small></p>
<table>
<tr><th></th>
<th><svg width="{{ chart_width + 20 }}" height="16" role="img" aria-label="as">
{% for t in section.ticks %}<text x="{{ t.x + 2 }}" y="12" font-size="10" text-anchor="{{ 'start' if loop.first else ('end' if loop.last else 'middle') }}" fill="#555">{{ t.label }}</text>{% endfor %}
</svg></th>
<th class="num">{{ sides[0].label }}</th><th class="num">{{ sides[1].label }}</th>
<th>Verschil {{ sides[0].label }} − {{ sides[1].label }} <small>difference, ±{{ section.diff_scale }}</small></th><th class="num">p</th></tr>
{% for row in section.rows %}
<tr>
<td>{{ row.label }}{% if row.english %}<br><span class="en">{{ row.english }}</span>{% endif %}</td>
<td><svg width="{{ chart_width + 20 }}" height="34" role="img" aria-label="{{ row.label }}">
<title>{{ row.label }}: {{ sides[0].label }} {{ row.iv.a|percent }}, {{ sides[1].label }} {{ row.iv.b|percent }}</title>
{% for t in section.ticks %}<line x1="{{ t.x + 2 }}" x2="{{ t.x + 2 }}" y1="0" y2="34" stroke="#e4e4e4"/>{% endfor %}
{% for bar in [(row.a_x, row.a_lo, row.a_hi, 4, colour_a), (row.b_x, row.b_lo, row.b_hi, 19, colour_b)] %}
{% if bar[0] is not none %}<rect x="2" y="{{ bar[3] }}" width="{{ bar[0] }}" height="11" fill="{{ bar[4] }}"/>{% endif %}
{% if bar[1] is not none and bar[2] is not none %}
<line x1="{{ bar[1] + 2 }}" x2="{{ bar[2] + 2 }}" y1="{{ bar[3] + 5.5 }}" y2="{{ bar[3] + 5.5 }}" stroke="#000" stroke-width="1.2"/>
<line x1="{{ bar[1] + 2 }}" x2="{{ bar[1] + 2 }}" y1="{{ bar[3] + 2 }}" y2="{{ bar[3] + 9 }}" stroke="#000" stroke-width="1.2"/>
<line x1="{{ bar[2] + 2 }}" x2="{{ bar[2] + 2 }}" y1="{{ bar[3] + 2 }}" y2="{{ bar[3] + 9 }}" stroke="#000" stroke-width="1.2"/>
{% endif %}
{% endfor %}
</svg></td>
<td class="num">{{ row.iv.a|percent }}<br><small>{{ row.iv.a_low|percent }} – {{ row.iv.a_high|percent }}</small></td>
<td class="num">{{ row.iv.b|percent }}<br><small>{{ row.iv.b_low|percent }} – {{ row.iv.b_high|percent }}</small></td>
<td><svg width="{{ diff_width }}" height="18" role="img" aria-label="verschil">
<line x1="{{ diff_width / 2 }}" x2="{{ diff_width / 2 }}" y1="0" y2="18" stroke="#999"/>
{% if row.d_lo is not none and row.d_hi is not none %}<line x1="{{ row.d_lo }}" x2="{{ row.d_hi }}" y1="9" y2="9" stroke="{{ colour_diff }}" stroke-width="1.5"/>{% endif %}
{% if row.d_x is not none %}<circle cx="{{ row.d_x }}" cy="9" r="4" stroke="{{ colour_diff }}" fill="{{ colour_diff if row.clear else '#fff' }}"/>{% endif %}
</svg>
<span class="num">{{ row.iv.diff|points }}</span> <small>({{ row.iv.diff_low|points }} tot {{ row.iv.diff_high|points }})</small></td>
<td class="num">{{ row.iv.p_value|p }}</td>
</tr>
{% endfor %}
</table>
</section>
{% endfor %}

{% if keyness %}
<section id="keyness">
<h2>Kenmerkende woorden <small>keyness</small></h2>
<p class="note">{{ sides[0].label }}: {{ keyness.size_a|number(0) }} woorden, {{ sides[1].label }}: {{ keyness.size_b|number(0) }} woorden;
{{ 'lemma’s' if keyness.lemmas else 'woordvormen' }}, minimaal {{ keyness.min_freq }} keer samen. G²: log-likelihood (Dunning);
log ratio: log2 van de verhouding van relatieve frequenties (Hardie; 1 = dubbel zo vaak).
<small>G²: Dunning's log-likelihood; log ratio: log2 of the ratio of relative frequencies.</small></p>
{% for side_key, side in [('top_a', sides[0]), ('top_b', sides[1])] %}
<h3>Vaker bij {{ side.label }} <small>overused in {{ side.label }}</small></h3>
{% if keyness[side_key] %}
<table>
<tr><th>Term</th><th class="num">G²</th><th class="num">Log ratio</th><th class="num">p</th>
<th class="num">Freq. {{ sides[0].label }}</th><th class="num">Freq. {{ sides[1].label }}</th></tr>
{% for t in keyness[side_key] %}
<tr><td>{{ t.term }}</td><td class="num">{{ t.g2|number(2) }}</td><td class="num">{{ t.log_ratio|number(2) }}</td>
<td class="num">{{ t.p_value|p }}</td><td class="num">{{ t.freq_a|number(0) }}</td><td class="num">{{ t.freq_b|number(0) }}</td></tr>
{% endfor %}
</table>
{% else %}<p class="note">Geen termen. <small>No terms.</small></p>{% endif %}
{% endfor %}
</section>
{% endif %}

{% if adoption %}
<section id="adoption">
<h2>Overname van discourstermen <small>adoption of discourse terms</small></h2>
<p class="note">Per {{ adoption.per_words|number(0) }} woorden; {{ sides[0].label }}: {{ adoption.words_a|number(0) }} woorden,
{{ sides[1].label }}: {{ adoption.words_b|number(0) }} woorden. Verhouding = frequentie A / frequentie B.
<small>Rate per {{ adoption.per_words|number(0) }} words; ratio = rate A / rate B (∞: absent from B).</small></p>
<table>
<tr><th>Term</th><th class="num">Aantal {{ sides[0].label }}</th><th class="num">Per {{ adoption.per_words|number(0) }}</th>
<th class="num">Aantal {{ sides[1].label }}</th><th class="num">Per {{ adoption.per_words|number(0) }}</th>
<th class="num">Verhouding <small>ratio</small></th></tr>
{% for t in adoption.terms %}
<tr><td>{{ t.term }}{% if t.merged %}<br><span class="en">ook: {{ t.merged|join(', ') }}</span>{% endif %}</td>
<td class="num">{{ t.count_a|number(0) }}</td><td class="num">{{ t.rate_a|number(2) }}</td>
<td class="num">{{ t.count_b|number(0) }}</td><td class="num">{{ t.rate_b|number(2) }}</td>
<td class="num">{{ '–' if t.count_a == 0 and t.count_b == 0 else t.ratio|ratio }}</td></tr>
{% endfor %}
</table>
</section>
{% endif %}

{% if echo %}
<section id="echo">
<h2>Echo van {{ sides[1].label }} in {{ sides[0].label }} <small>echo: nearest-sentence similarity</small></h2>
<p><span class="big">{{ echo.share_above|percent }}</span> van de zinnen van {{ sides[0].label }}
{% if echo.n_above is defined %}({{ echo.n_above|number(0) }} van {{ echo.n_a|number(0) }}){% endif %}
lijkt sterk op een zin van {{ sides[1].label }} (cosinusgelijkenis ≥ {{ echo.threshold|number(2) }}{% if echo.median_similarity is defined %};
mediaan {{ echo.median_similarity|number(3) }}{% endif %}).
<small>Share of A sentences whose nearest B sentence has cosine similarity ≥ {{ echo.threshold|number(2) }}.</small></p>
<svg width="{{ chart_width + 4 }}" height="14" role="img" aria-label="aandeel">
<rect x="2" y="2" width="{{ chart_width }}" height="10" fill="#eee"/>
{% if echo.share_above is not none %}<rect x="2" y="2" width="{{ (chart_width * echo.share_above)|round(1) }}" height="10" fill="{{ colour_a }}"/>{% endif %}
</svg>
{% for list_key, heading_nl, heading_en in [('most', 'Sterkste echo', 'most echoing'), ('least', 'Zwakste echo', 'least echoing')] %}
<h3>{{ heading_nl }} <small>{{ heading_en }}</small></h3>
<table>
<tr><th>{{ sides[0].label }}</th><th>Dichtste zin in {{ sides[1].label }} <small>nearest</small></th><th class="num">Gelijkenis <small>cosine</small></th></tr>
{% for m in echo[list_key] %}
<tr><td class="sentence">{{ m.a_text }}</td><td class="sentence">{{ m.b_text }}</td><td class="num">{{ m.similarity|number(3) }}</td></tr>
{% endfor %}
</table>
{% endfor %}
</section>
{% endif %}
</body>
</html>
"""
