"""Fitting the relevance words' thresholds (retrieval/relevance.py reads them).

Fit and report (in-sample, grouped 2-fold out of sample, and on the locked split) with

    reportqa-fit relevance --index DIR      # writes retrieval/data/relevance.json
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from retrieval.relevance import STRONG_PRECISION, WEAK_PRECISION, WORDS, match_word


def fit_thresholds(scores: np.ndarray, relevant: np.ndarray) -> dict:
    """Thresholds from (score, holds the evidence) pairs: the lowest score at which
    the isotonic (monotone) fit of precision reaches STRONG_PRECISION, and
    WEAK_PRECISION."""
    from sklearn.isotonic import IsotonicRegression

    order = np.argsort(scores)
    s, y = scores[order], relevant[order].astype(float)
    p = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(s, y).predict(s)

    def lowest(level: float) -> float:
        above = np.nonzero(p >= level)[0]
        return float(s[above[0]]) if len(above) else float(s[-1]) + 1e-6

    return {"strong": round(lowest(STRONG_PRECISION), 4),
            "partial": round(lowest(WEAK_PRECISION), 4)}


def word_table(scores: np.ndarray, relevant: np.ndarray, thresholds: dict) -> dict:
    """Per word: how many passages got it and the share that hold the evidence."""
    words = np.array([match_word(s, thresholds, False) for s in scores])
    out = {}
    for w in WORDS:
        m = words == w
        out[w] = {"n": int(m.sum()),
                  "precision": round(float(relevant[m].mean()), 3) if m.any() else None}
    return out


def _pairs(searcher, questions: list[dict]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(score, holds the evidence, question group) of each cited passage of each
    answerable question that the system answered (abstained answers are "weak"
    whatever their scores)."""
    from fitting.matching import answers

    scores, rel, groups = [], [], []
    for q in questions:
        if not q.get("answerable", True) or not q.get("evidence"):
            continue
        a = searcher.ask(q["question"], top_k=5, history=q.get("history"))
        if a.abstained:
            continue
        for h in a.hits:
            scores.append(h.score)
            rel.append(answers(q["evidence"], h.passage.text))
            groups.append(q["group"])
    return np.array(scores), np.array(rel, dtype=bool), groups


def fit_and_write(searcher, train: list[dict], test: list[dict], fitted_on: list[str],
                  out: Path, echo=print) -> Path:
    """Fit the thresholds on the `train` questions (fitting.crossval.load_questions),
    print the figures (in-sample, grouped 2-fold out of sample, the locked `test`
    questions) and write relevance[.<model>].json to `out`."""
    from retrieval.config import fitted_name

    x, y, groups = _pairs(searcher, train)
    fitted = fit_thresholds(x, y)
    echo(f"training passages {len(x)}, thresholds {fitted}")
    echo("in-sample " + json.dumps(word_table(x, y, fitted)))
    # Grouped 2-fold: a question and the variants made from it stay on one side.
    ug = sorted(set(groups))
    rng = np.random.default_rng(0)
    half = set(rng.permutation(ug)[: len(ug) // 2].tolist())
    side = np.array([g in half for g in groups])
    oos_w, oos_y = [], []
    for fold in (True, False):
        t = fit_thresholds(x[side != fold], y[side != fold])
        oos_w += [match_word(v, t, False) for v in x[side == fold]]
        oos_y += y[side == fold].tolist()
    oos_w, oos_y = np.array(oos_w), np.array(oos_y)
    echo("out of sample (2-fold) " + json.dumps(
        {w: {"n": int((oos_w == w).sum()),
             "precision": round(float(oos_y[oos_w == w].mean()), 3)
             if (oos_w == w).any() else None} for w in WORDS}))
    if test:
        tx, ty, _ = _pairs(searcher, test)
        echo("locked test split " + json.dumps(word_table(tx, ty, fitted)))
    path = out / fitted_name("relevance.json", searcher.store.model)
    path.write_text(json.dumps({**fitted, "model": searcher.store.model,
                                "fitted_on": fitted_on},
                               indent=2) + "\n")
    echo(f"wrote {path}")
    return path
