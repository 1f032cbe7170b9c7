"""Relevance in words: each cited passage is a "strong", "partial" or "weak" match,
instead of a ranking score a reader cannot interpret.

The words come from the ranking score through two thresholds fitted on the training
questions (tests/data): "strong" where a passage at that score holds the gold
evidence at least half the time, "weak" where it does less than one time in five.
In an abstained answer every passage is "weak": the abstainer has judged that none
answers. Fit and report (in-sample, grouped 2-fold out of sample, and on the locked
dev2 split) with

    python -m retrieval.relevance --index DIR      # writes retrieval/data/relevance.json
"""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path

import numpy as np

#: The words, best first, and what the UI says of each.
WORDS = ("strong", "partial", "weak")
#: Share of passages holding the evidence at the threshold's score.
STRONG_PRECISION = 0.5
WEAK_PRECISION = 0.2


def match_word(score: float, thresholds: dict, abstained: bool) -> str:
    """The relevance word of a passage with this ranking score: "weak" for every
    passage of an abstained answer; "" when no thresholds are fitted for the index's
    model (its scores are on another scale; then only the order says anything)."""
    if abstained:
        return "weak"
    if not thresholds:
        return ""
    if score >= float(thresholds["strong"]):
        return "strong"
    if score >= float(thresholds["partial"]):
        return "partial"
    return "weak"


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
    from retrieval.matching import answers

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


def main(argv: list[str] | None = None) -> None:
    """Fit the thresholds, print the figures, write retrieval/data/relevance.json."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    from core.settings import DEFAULT_MODEL, load_settings
    from retrieval.crossval import DATA, load_questions, training_files
    from retrieval.search import get_searcher

    s = get_searcher(load_settings(index_dir=args.index).index_dir)
    x, y, groups = _pairs(s, load_questions(training_files()))
    fitted = fit_thresholds(x, y)
    print(f"training passages {len(x)}, thresholds {fitted}")
    print("in-sample", json.dumps(word_table(x, y, fitted)))
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
    print("out of sample (2-fold)", json.dumps(
        {w: {"n": int((oos_w == w).sum()),
             "precision": round(float(oos_y[oos_w == w].mean()), 3)
             if (oos_w == w).any() else None} for w in WORDS}))
    tx, ty, _ = _pairs(s, load_questions([DATA / "dev2.jsonl"]))
    print("dev2 (locked)", json.dumps(word_table(tx, ty, fitted)))
    out = args.out or Path(str(resources.files("retrieval").joinpath("data")))
    tag = "" if s.store.model == DEFAULT_MODEL else f".{s.store.model}"
    path = out / f"relevance{tag}.json"
    path.write_text(json.dumps({**fitted, "model": s.store.model,
                                "fitted_on": [p.name for p in training_files()]},
                               indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
