"""Deciding that no passage answers. One similarity score is not enough (a question
about another year or force can be very similar to a passage that answers it for
this one), so the decision combines signals about the best passages: how close their
best sentence is, how much of the question's (IDF-weighted) vocabulary they hold,
whether the names and years the question mentions occur in them at all, and whether
a question that asks for a figure finds passages with figures. A logistic model over
these signals is fitted by `python -m retrieval.calibrate` on the dev and calibration
questions and stored in retrieval/data/abstain.json."""

from __future__ import annotations

import math
import re

from retrieval.text import has_figure, has_number, stem, tokens

FEATURES = ("bias", "sentence", "dense", "coverage", "missing_name", "missing_year",
            "missing_figure", "missing_rare", "absent_terms", "figure_unfocused")

def _text_of(hits, n: int = 3) -> str:
    return " ".join(h.passage.text + " " + " ".join(h.passage.section) for h in hits[:n])


def _figure_focus(hits, weights: dict[str, float]) -> float:
    """For a question that asks for a figure: the largest share of the question's
    (IDF-weighted) terms found together with a number in one sentence or table row
    of the best passages. A report that mentions the topic but gives no figure for
    it scores low."""
    total = sum(weights.values()) or 1.0
    best = 0.0
    from retrieval.text import split_units

    for h in hits[:5]:
        for unit in split_units(h.passage.text):
            if not has_number(unit):
                continue
            st = {stem(t) for t in tokens(unit)}
            best = max(best, sum(w for k, w in weights.items() if k in st) / total)
    return best


def abstain_features(question, prof, hits, weights: dict[str, float], groups, store,
                     absent=frozenset()) -> dict[str, float]:
    """Signals from the question and its best hits (see module docstring)."""
    total_w = sum(weights.values()) or 1.0
    absent_share = sum(w for k, w in weights.items() if k in absent) / total_w
    if not hits:
        return {f: 0.0 for f in FEATURES} | {"bias": 1.0, "missing_rare": 1.0,
                                             "absent_terms": absent_share,
                                             "figure_unfocused": float(prof.wants_figure)}
    top = _text_of(hits)
    low = top.lower()
    top_stems = {stem(t) for t in tokens(top)}
    known = " ".join(f"{r.force} {r.title}" for r in store.reports).lower()
    missing_name = 0.0
    for name in prof.names:
        n = name.lower()
        if n not in low and n not in known:
            missing_name = 1.0
    missing_year = 0.0
    years = {str(r.year) for r in store.reports if r.year}
    for y in prof.years:
        if y not in top and y not in years:
            missing_year = 1.0
        elif y not in top:
            missing_year = max(missing_year, 0.5)
    missing_figure = 1.0 if prof.wants_figure and not any(
        h.passage.kind == "table" or has_figure(h.passage.text) for h in hits[:3]) else 0.0
    # The rarest question term (highest IDF) that no top passage (nor a glossary
    # equivalent) contains: its weight relative to the question's total.
    missing_rare = 0.0
    total = sum(weights.values()) or 1.0
    for st, w in weights.items():
        if st in top_stems:
            continue
        if any(any(stem(x) == st for t in g for x in tokens(t)) and any(
                re.search(r"\b" + re.escape(t.lower()) + r"\b", low) for t in g) for g in groups):
            continue
        missing_rare = max(missing_rare, w / total)
    h0 = hits[0].features
    return {
        "bias": 1.0,
        "sentence": max(h.features.get("sentence", 0.0) for h in hits[:3]),
        "dense": h0.get("dense", 0.0),
        "coverage": max(h.features.get("coverage", 0.0) for h in hits[:3]),
        "missing_name": missing_name,
        "missing_year": missing_year,
        "missing_figure": missing_figure,
        "missing_rare": missing_rare,
        "absent_terms": absent_share,
        "figure_unfocused": (1.0 - _figure_focus(hits, weights)) if prof.wants_figure else 0.0,
    }


def probability(feats: dict[str, float], model: dict) -> float:
    """P(some passage answers) under the fitted model; a plain similarity fallback
    when no model has been fitted."""
    w = model.get("weights")
    if not w:
        return 1 / (1 + math.exp(-(12 * (feats["sentence"] - 0.45))))
    z = sum(w.get(f, 0.0) * feats.get(f, 0.0) for f in FEATURES)
    z = max(-30.0, min(30.0, z))
    return 1 / (1 + math.exp(-z))


def decide(feats: dict[str, float], model: dict) -> tuple[bool, float]:
    """(abstain?, confidence that an answer was found)."""
    p = probability(feats, model)
    return p < float(model.get("threshold", 0.5)), p
