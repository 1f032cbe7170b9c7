"""Deciding that no passage answers, and saying why.

One similarity score is not enough: a question about a topic the reports never cover
can match well on its other words ("What does HMIC say about body-worn video?"). So the
decision reads the parsed question as well as the best hits:

- Rules that hold whatever the wording: a question naming only forces that no indexed
  report covers, or a year no passage mentions, is not answered from other reports.
- A logistic model over signals — how close the best sentences are, how much of the
  question's (IDF-weighted) vocabulary the best passages hold, the share of its words
  the index holds in no form (split into everyday wording, which may just differ, and
  rarer words, which usually carry the subject; how far the nearest corpus word is; how
  much they add to the best match), how well the best sentences meet each of its
  terms (retrieval/answerability.py), and,
  for a question that wants a figure, a date or a grade, whether a sentence holds that
  kind of thing next to its terms. It is
  fitted by `reportqa-fit calibrate` (scikit-learn, cross-validated) and stored
  in retrieval/data/abstain.json.

Every abstention carries a one-line reason built from the signal that caused it.
:func:`signals` computes every signal; :func:`decide` and :func:`reason_for` read them."""

from __future__ import annotations

import math
import re

import numpy as np

from ingest.passages import passage_sentences
from retrieval.answerability import Alignment, align
from retrieval.candidates import QUESTION_SENTENCE_DISCOUNT
from retrieval.features import term_share
from retrieval.query import Query
from retrieval.text import content_terms, english_frequency, has_figure, has_number, tokens
from retrieval.understand import Embed, QueryTexts, query_texts

FEATURES = ("sentence", "dense", "coverage", "absent_share", "absent_rare", "absent_far",
            "absent_far_max", "figure_unfocused", "date_unfocused", "grade_unfocused",
            "absent_gain", "year_elsewhere",
            "unmet", "unmet_top", "unmet_worst", "slot_missing")
#: An absent word whose nearest corpus word is less similar than this has no
#: stand-in in the reports: the reason names it as the missing subject.
FAR_WORD = 0.5
#: Words at least this common in English (symspellpy's counts; "happy" 6e7, "video"
#: 2e8) are everyday wording that a report may just phrase differently; rarer absent
#: words ("cybercrime", "taser") usually name the subject.
EVERYDAY_WORD = 5_000_000
#: Hits whose sentences are read for the kind of thing a question wants.
_FOCUS_HITS = 5

_DATE = re.compile(r"\b(?:January|February|March|April|May|June|July|August|September|"
                   r"October|November|December)\b|\b(?:19|20)\d{2}\b|\b\d{1,2}/\d{1,2}/\d{2,4}\b")
_GRADE = re.compile(r"\b(?:outstanding|good|requires improvement|inadequate)\b", re.I)


def _focus(query: Query, hits, pattern) -> float:
    """The largest IDF-weighted share of the question's terms found in one sentence
    (or table row) of the best hits that also holds the wanted kind of thing."""
    return max((term_share(query, unit, pattern) for h in hits[:_FOCUS_HITS]
                for unit in passage_sentences(h.passage.text)), default=0.0)


def _is_rare(word: str) -> bool:
    return english_frequency(word) < EVERYDAY_WORD


def signals(query: Query, hits, store, embed: Embed) -> tuple[dict[str, float], Alignment]:
    """Every abstention signal of a question against its best hits, in the index in
    `store` with `embed` its embedding model (see module docstring), and how the best
    sentences meet the question (retrieval/answerability.py: its reason names what is
    missing)."""
    texts = query_texts(query)
    best = _HitSentences(store, hits[:5])
    feats = abstain_features(query, hits) | {
        "absent_gain": _absent_gain(texts, best, embed)}
    alignment = align(store, embed, query, hits)
    return feats | alignment.features, alignment


def _absent_gain(texts: QueryTexts, best: _HitSentences, embed: Embed) -> float:
    """How much the question's absent words add to its match with the best passages:
    the best sentence similarity of the full question minus that of the question
    without them. Wording the reports phrase differently ("happy" for satisfied) adds a
    lot; a subject they never cover ("hate crime") adds nothing, however well the rest
    of the question matches."""
    if texts.reduced is None:
        return 0.0
    return best.top(embed, texts.full, 3) - best.top(embed, texts.reduced, 3)


class _HitSentences:
    """The sentences of the best hits with their vectors, read once for the several
    texts whose best similarity to them abstention asks."""

    def __init__(self, store, hits):
        self.rowids = store.rowids_of([h.passage.passage_id for h in hits])
        owners, sents, self.vectors = store.sentence_rows(self.rowids)
        self.owners = np.asarray(owners, dtype=np.int64)
        self.asks = np.asarray([s.rstrip().endswith("?") for s in sents], dtype=bool)

    def top(self, embed: Embed, text: str | None, n: int) -> float | None:
        """The best similarity of `text` to a sentence of the `n` best hits (a sentence
        that is itself a question discounted, as in ranking)."""
        if text is None or not self.rowids:
            return None
        mine = np.isin(self.owners, self.rowids[:n])
        if not mine.any():
            return 0.0
        sims = self.vectors[mine] @ embed([text])[0]
        sims[self.asks[mine]] *= QUESTION_SENTENCE_DISCOUNT
        return float(sims.max())


def abstain_features(query: Query, hits) -> dict[str, float]:
    """Signals from the parsed question and its best hits alone (see module
    docstring)."""
    total = sum(query.weights.values()) or 1.0
    absent = query.absent
    feats = {
        "sentence": max((h.features.get("sentence", 0.0) for h in hits[:3]), default=0.0),
        "dense": hits[0].features.get("dense", 0.0) if hits else 0.0,
        "coverage": max((h.features.get("coverage", 0.0) for h in hits[:3]), default=0.0),
        "absent_share": sum(t.idf for t in absent) / total,
        "absent_rare": sum(t.idf for t in absent if _is_rare(t.word)) / total,
        # Absent words with no near corpus word carry a subject the reports lack.
        "absent_far": sum(t.idf * (1 - t.nearest) for t in absent) / total,
        "absent_far_max": max((1 - t.nearest for t in absent), default=0.0),
        "figure_unfocused": 0.0, "date_unfocused": 0.0, "grade_unfocused": 0.0,
    }
    # A year the question names that the index holds, but not in the best passages:
    # often a question about another period than the one the answer covers.
    if query.years and hits:
        top = " ".join(h.passage.text for h in hits[:3])
        feats["year_elsewhere"] = sum(y not in top for y in query.years) / len(query.years)
    else:
        feats["year_elsewhere"] = 0.0
    if "figure" in query.wants:
        feats["figure_unfocused"] = 1.0 - _focus(
            query, hits, lambda u: has_number(u) or has_figure(u))
    if "date" in query.wants:
        feats["date_unfocused"] = 1.0 - _focus(query, hits, lambda u: bool(_DATE.search(u)))
    if "grade" in query.wants:
        feats["grade_unfocused"] = 1.0 - _focus(query, hits, lambda u: bool(_GRADE.search(u)))
    return feats


def ruled_out(query: Query) -> bool:
    """The questions no wording can save: only unindexed forces, a year no passage
    mentions, a proper name no passage uses, or no word to look for at all."""
    only_missing_forces = bool(query.forces) and set(query.forces) <= set(query.missing_forces)
    return (only_missing_forces or bool(query.missing_years) or bool(query.unknown_names)
            or not query.terms)


def probability(feats: dict[str, float], model: dict) -> float:
    """P(some passage answers) under the fitted model; a plain similarity fallback
    when no model has been fitted."""
    w = model.get("weights")
    if not w:
        return 1 / (1 + math.exp(-(12 * (feats.get("sentence", 0.0) - 0.45))))
    z = float(model.get("bias", 0.0)) + sum(w.get(f, 0.0) * feats.get(f, 0.0) for f in w)
    z = max(-30.0, min(30.0, z))
    return 1 / (1 + math.exp(-z))


def decide(feats: dict[str, float], model: dict, query: Query | None = None
           ) -> tuple[bool, float]:
    """(abstain?, confidence that an answer was found)."""
    p = probability(feats, model)
    if query is not None and ruled_out(query):
        return True, min(p, 0.05)
    return p < float(model.get("threshold", 0.5)), p


def _phrase(query: Query, words: list[str]) -> str:
    """Absent words as the user wrote them: runs of adjacent words kept together, and a
    lone word with the content word after it ("hate" → "hate crime"), which is how
    subjects are named."""
    toks = tokens(query.text)
    content = set(content_terms(query.text))
    want = set(words)
    runs, cur = [], []
    for t in toks:
        if t in want:
            cur.append(t)
            continue
        if cur:
            if len(cur) == 1 and t in content and not any(c.isdigit() for c in t):
                cur.append(t)
            runs.append(" ".join(cur))
            cur = []
    if cur:
        runs.append(" ".join(cur))
    runs = list(dict.fromkeys(runs)) or words
    return runs[0] if len(runs) == 1 else ", ".join(runs[:-1]) + " or " + runs[-1]


def reason_for(query: Query, feats: dict[str, float], hits, alignment=None) -> str:
    """One line saying why nothing answers, from the strongest cause (`alignment`:
    retrieval/answerability.py's reading of the best sentences, which can name the
    part of the question no sentence meets)."""
    missing_forces = [f for f in query.missing_forces]
    if missing_forces and set(query.forces) <= set(missing_forces):
        return "no indexed report covers " + " or ".join(missing_forces)
    if query.missing_years:
        return "the indexed reports say nothing about " + " or ".join(query.missing_years)
    if query.unknown_names:
        return "the indexed reports never mention " + " or ".join(query.unknown_names)
    if not query.terms:
        return "the question has no words to look for"
    absent = [t.word for t in query.absent]
    if any(_is_rare(w) for w in absent) or any(t.nearest < FAR_WORD for t in query.absent):
        return "the reports do not mention " + _phrase(query, absent)
    said = alignment.reason() if alignment is not None else None
    if said:
        return said
    for kind, what in (("figure", "give no figure"), ("date", "give no date"),
                       ("grade", "give no grade")):
        if feats.get(f"{kind}_unfocused", 0.0) >= 0.5:
            return f"the reports {what} for this"
    if absent:
        return "the reports do not mention " + _phrase(query, absent)
    return "no passage is close enough to the question"
