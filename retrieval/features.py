"""The ranking features of a candidate passage: how close its sentences and the
passage are to the question, its keyword score, how much of the question's vocabulary
it holds, and cues from what the question wants (a figure, a recommendation, a grade,
the part of the report an instruction points to) and what the passage is (a summary,
a note, a description of the inspection itself). The ranker (retrieval/config.py)
weighs them linearly."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

from core.models import Passage
from retrieval.query import Query
from retrieval.text import (
    PASSAGE_CACHE,
    has_figure,
    has_number,
    stem,
    stem_fragment,
    token_text,
    tokens,
)

#: Sections that describe the inspection itself rather than what it found.
_BOILERPLATE = re.compile(
    r"^\W*(introduction|methodology|method|about (?:this|the) (?:inspection|report)|"
    r"what each judg(?:e)?ment means|judg(?:e)?ments? explained|terms of reference|"
    r"scope(?: of the inspection)?|glossary|annex\b.*|appendix\b.*|contents|"
    r"background|definitions)\W*$", re.I)


def is_boilerplate(p: Passage) -> bool:
    """Whether a passage describes the inspection (introduction, methodology, what the
    grades mean) rather than the inspected body."""
    return any(_BOILERPLATE.match(s) for s in p.section)


def features(query: Query, p: Passage, sentences: list[tuple[float, str]], *, dense: float,
             bm25: float, dense_rank: int | None, kw_rank: int | None,
             own: dict[str, float] | None = None) -> dict[str, float]:
    """The ranking features of passage `p` for a question: `sentences` holds each
    sentence's similarity to the question and its text; `dense` is the passage's
    similarity, `bm25` its keyword score over the best one's, and the ranks its
    0-based places in the dense and keyword hits (None when not among them). `own`:
    the passage's :func:`own_features` for this question, when already computed."""
    own = own if own is not None else own_features(query, p, sentences)
    return {
        "sentence": own["sentence"],
        "sentence2": own["sentence2"],
        "dense_rr": 1 / (1 + dense_rank) if dense_rank is not None else 0.0,
        "kw_rr": 1 / (1 + kw_rank) if kw_rank is not None else 0.0,
        "dense": dense,
        "bm25": bm25,
        **{k: v for k, v in own.items() if k not in ("sentence", "sentence2")},
    }


def own_features(query: Query, p: Passage, sentences: list[tuple[float, str]]
                 ) -> dict[str, float]:
    """The features that depend on the question and the passage alone, not on the
    other candidates or the ranks: the same in every search of one question (a
    comparison searches each report again)."""
    return exact_own(query, p, sentences, cheap_own(query, p, sentences))


def cheap_own(query: Query, p: Passage, sentences: list[tuple[float, str]]
              ) -> dict[str, float]:
    """:func:`own_features` with the two dear ones, `coverage` and `fig_focus` (they
    read every word of the passage), left at 0, their least value (:func:`exact_own`
    completes it; :func:`fragment_share` bounds them)."""
    sims = sorted((x for x, _ in sentences), reverse=True)
    return {
        "sentence": sims[0],
        "sentence2": sum(sims[:2]) / min(2, len(sims)),
        "coverage": 0.0,
        "figure": float("figure" in query.wants and (p.kind == "table" or has_figure(p.text))),
        "fig_focus": 0.0,
        "kind_match": float((query.wants_recommendation and p.kind == "recommendation")
                            or ("grade" in query.wants and p.kind == "judgment")),
        "summary": float(p.kind == "summary" and "grade" not in query.wants),
        "note": float(p.kind == "note"),
        "boilerplate": float(is_boilerplate(p) and not query.about_inspection),
        "hint": hint_share(query.hints, p),
    }


def exact_own(query: Query, p: Passage, sentences: list[tuple[float, str]],
              cheap: dict[str, float]) -> dict[str, float]:
    """:func:`own_features` from its :func:`cheap_own` part (the same keys, in the same
    order: a score sums them in that order)."""
    return cheap | {"coverage": coverage(query, p),
                    "fig_focus": (figure_focus(query, sentences)
                                  if "figure" in query.wants else 0.0)}


def fragment_share(query: Query, p: Passage) -> float:
    """The IDF-weighted share of the question's terms whose stem fragment or an
    equivalent or related word occurs in the passage (text and section path) as a
    substring: at least :func:`coverage` and :func:`figure_focus`, and several times
    cheaper (it reads no word: a term's stem needs its fragment, see
    text.stem_fragment)."""
    total, tests = _fragment_tests(query)
    if total <= 0:
        return 0.0
    text = p.text + " " + " ".join(p.section)
    tlow, low = token_text(text), None
    got = 0.0
    for weight, fragment, phrases in tests:
        if fragment in tlow:
            got += weight
        elif phrases:
            low = text.lower() if low is None else low
            if any(x in low for x in phrases):
                got += weight
    return got / total


@lru_cache(maxsize=64)
def _fragment_tests(query: Query) -> tuple[float, tuple[tuple[float, str, tuple[str, ...]], ...]]:
    """The sum of the question's term weights, and per stem its weight (at least 0),
    fragment and every equivalent or related word of its terms, lower-cased."""
    phrases: dict[str, list[str]] = {}
    for t in query.terms:
        phrases.setdefault(t.stem, []).extend(x.lower() for x in t.equivalents + t.related)
    weights = query.weights
    return sum(weights.values()), tuple(
        (max(0.0, weights[st]), stem_fragment(st), tuple(dict.fromkeys(ph)))
        for st, ph in phrases.items())


def figure_focus(query: Query, sentences: list[tuple[float, str]]) -> float:
    """The largest IDF-weighted share of the question's terms found beside a number in
    one sentence or table row — where the figure asked for would be."""
    return max((term_share(query, text, has_number) for _, text in sentences), default=0.0)


def term_share(query: Query, text: str, where: Callable[[str], bool] | None = None) -> float:
    """The IDF-weighted share of the question's terms that a sentence holds (0 when it
    fails the test `where`, e.g. it states no number)."""
    weights = query.weights
    st = query.stems_in(text)
    if not st or (where and not where(text)):
        return 0.0
    return sum(w for k, w in weights.items() if k in st) / (sum(weights.values()) or 1.0)


def coverage(query: Query, p: Passage) -> float:
    """IDF-weighted share of the question's terms the passage contains; a term also
    counts as present when an equivalent or related word is."""
    weights = query.weights
    if not weights:
        return 0.0
    pst, low = _passage_terms(p)
    got = 0.0
    for t in query.terms:
        if t.stem in pst or any(_phrase_in(x, low) for x in t.equivalents + t.related):
            got += weights[t.stem]
            weights = {**weights, t.stem: 0.0}  # a stem counts once
    return got / sum(query.weights.values())


@lru_cache(maxsize=PASSAGE_CACHE)
def _passage_terms(p: Passage) -> tuple[frozenset[str], str]:
    """A passage's stems (text and section path) and its lower-cased text."""
    text = p.text + " " + " ".join(p.section)
    return frozenset(map(stem, set(tokens(text)))), text.lower()


def _phrase_in(phrase: str, low_text: str) -> bool:
    """Whether a phrase occurs in a lower-cased text as whole words (the substring
    test first: most candidates lack most equivalents, and it is ~50x cheaper)."""
    ph = phrase.lower()
    return ph in low_text and re.search(r"\b" + re.escape(ph) + r"\b", low_text) is not None


def hint_share(hints: tuple[str, ...], p: Passage) -> float:
    """The best share of a hint's words ("statement cash flows") that the passage's
    section path (and a table's caption) holds: the part of the report an instruction
    points to."""
    if not hints:
        return 0.0
    have = _section_stems(p)
    best = 0.0
    for h in hints:
        want = {stem(t) for t in tokens(h) if len(t) > 1}
        if want:
            best = max(best, len(want & have) / len(want))
    return best


@lru_cache(maxsize=PASSAGE_CACHE)
def _section_stems(p: Passage) -> frozenset[str]:
    lines = p.text.split("\n")
    # A table's caption is its first line: it names the statement as a heading would.
    head = " ".join(p.section) + (" " + lines[0] if p.kind == "table" else "")
    return frozenset(stem(t) for t in tokens(head))
