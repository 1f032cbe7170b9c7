"""Every ranking and abstention choice judged out of sample.

The questions (a folder such as tests/data: dev, calibration and the training set under
train/) are read once: each question's parse and candidate features are kept (and the searcher
caches every vector it embeds), so fitting a ranker or an abstainer and scoring it is
cheap. Then:

- k-fold cross-validation, folds grouped so that a question and the variants made
  from it by rule never sit on both sides: in each fold the ranker (a pairwise or a
  pointwise logistic regression over the candidate features, or the hand-set weights),
  the abstainer (a logistic regression over the abstention signals, its regularisation
  and threshold chosen from out-of-fold probabilities inside the training folds) are
  fitted on the other folds and scored on this one; the
  ranker kind with the better out-of-sample figures is kept;
- in-sample figures (fitted on all, scored on all) beside them;
- a locked test split (dev2), scored only as figures, with models fitted on all the
  rest.

`reportqa-fit eval --cv` prints the report; `reportqa-fit calibrate` also writes the
models fitted on everything to retrieval/data/."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fitting.evaluate import Ranked, aggregate, load_gold, score_one
from fitting.matching import answers_question
from retrieval.abstain import FEATURES, ruled_out
from retrieval.config import DEFAULT_WEIGHTS, SearchConfig
from retrieval.followup import choose_reading
from retrieval.search import Searcher

#: Ranking features, in a fixed order for fitting.
RANK_FEATURES = tuple(DEFAULT_WEIGHTS)
#: Target rate of abstaining on answerable questions when the threshold is picked
#: (a little under the 5% ceiling, because a threshold picked on one sample overshoots
#: on the next).
MAX_FALSE_ABSTAIN = 0.04
K = 10
FOLDS = 5


def training_files(data: Path) -> list[Path]:
    """The question files cross-validation uses in a questions folder (a source
    checkout's tests/data): all but the locked test split, dev2.jsonl."""
    return [data / "dev.jsonl", data / "calibration.jsonl",
            *sorted((data / "train").glob("*.jsonl"))]


def load_questions(paths: list[Path]) -> list[dict]:
    """Questions from gold files, each tagged with its source file, style and group."""
    out = []
    for p in paths:
        for q in load_gold(p):
            q = dict(q)
            q.setdefault("style", "formal")
            q.setdefault("made", "hand")
            q["source"] = p.stem
            q["group"] = q.get("group") or f"{p.stem}:{q['id']}"
            out.append(q)
    return out


@dataclass
class Captured:
    """One question read against the index: per reading (None: alone; or the previous
    question it was read as a follow-up of), its Query and candidates."""

    q: dict
    readings: dict = field(default_factory=dict)
    #: Per reading, its scope among the indexed reports (retrieval/scope.py).
    scopes: dict = field(default_factory=dict)
    #: The searcher (index) the question was read against: families of reports live
    #: in indexes of their own.
    searcher: Searcher | None = None


def capture(searcher: Searcher, questions: list[dict], progress=None) -> list[Captured]:
    """Parse and gather candidates for every question (the only costly step)."""
    out = []
    for q in questions:
        c = Captured(q, searcher=searcher)
        contexts = [None] + ([q["history"][-1]] if q.get("history") else [])
        for ctx in contexts:
            query = searcher.understand(q["question"], ctx)
            scope, cands = searcher.scoped_candidates(query)
            c.readings[ctx] = (query, cands)
            c.scopes[ctx] = scope
        out.append(c)
        if progress:
            progress.update(1)
    return out


def _labels(q: dict, cands) -> np.ndarray:
    return np.array([1.0 if answers_question(q, c.passage.text, c.passage.source_file,
                                             c.passage.pdf_pages) else 0.0 for c in cands])


def _matrix(cands) -> np.ndarray:
    return np.array([[c.feats.get(f, 0.0) for f in RANK_FEATURES] for c in cands])


def _scaled(w: np.ndarray) -> dict:
    """Weights rescaled to the hand-set weights' L1 norm: the ranking is unchanged,
    and scores stay on the scale the app's relevance bar reads (useful passages about
    0.5–1.0)."""
    norm = sum(abs(v) for v in DEFAULT_WEIGHTS.values()) / (float(np.abs(w).sum()) or 1.0)
    return {f: round(float(x) * norm, 4) for f, x in zip(RANK_FEATURES, w)}


def fit_ranker(caps: list[Captured], c: float = 1.0) -> dict:
    """Pointwise logistic regression: P(passage answers | features), over every
    candidate of the answerable questions (the question alone)."""
    from sklearn.linear_model import LogisticRegression

    X, y = [], []
    for cap in caps:
        if not cap.q.get("answerable", True):
            continue
        query, cands = cap.readings[None] if not cap.q.get("history") else \
            cap.readings[cap.q["history"][-1]]
        if not cands:
            continue
        lab = _labels(cap.q, cands)
        if lab.sum() == 0:
            continue
        X.append(_matrix(cands))
        y.append(lab)
    X, y = np.vstack(X), np.concatenate(y)
    m = LogisticRegression(C=c, max_iter=2000, class_weight="balanced").fit(X, y)
    return _scaled(m.coef_[0])


#: Pairwise ranker: each answering candidate against this many of the best-scored
#: (by the hand weights) non-answering ones of the same question.
PAIRS_PER_POSITIVE = 15
#: ... and at most this many answering candidates of one question.
POSITIVES_PER_QUESTION = 3


def fit_pairwise(caps: list[Captured], c: float = 1.0) -> dict:
    """Pairwise logistic regression (a linear RankSVM-style ranker): learns weights
    under which a passage that answers outscores the passages that do not, question by
    question — what hit@1 measures — rather than P(answers) over all candidates."""
    from sklearn.linear_model import LogisticRegression

    hand = np.array([DEFAULT_WEIGHTS[f] for f in RANK_FEATURES])
    X, y = [], []
    for cap in caps:
        if not cap.q.get("answerable", True):
            continue
        ctx = cap.q["history"][-1] if cap.q.get("history") else None
        _, cands = cap.readings[ctx]
        if not cands:
            continue
        lab = _labels(cap.q, cands)
        if lab.sum() == 0 or lab.sum() == len(lab):
            continue
        M = _matrix(cands)
        neg = np.where(lab == 0)[0]
        neg = neg[np.argsort(-(M[neg] @ hand))][:PAIRS_PER_POSITIVE]
        # Every question weighs alike: one whose evidence is a whole page has many
        # answering passages, and would otherwise outvote the rest.
        pos = np.where(lab == 1)[0]
        pos = pos[np.argsort(-(M[pos] @ hand))][:POSITIVES_PER_QUESTION]
        for i in pos:
            for j in neg:
                X.append(M[i] - M[j])
                y.append(1)
                X.append(M[j] - M[i])
                y.append(0)
    m = LogisticRegression(C=c, max_iter=5000, fit_intercept=False).fit(np.array(X),
                                                                         np.array(y))
    return _scaled(m.coef_[0])


def _answer(searcher: Searcher, cap: Captured, cfg: SearchConfig):
    """The system's answer for a captured question under one configuration, choosing
    between follow-up readings the way Searcher.ask does."""
    searcher = cap.searcher or searcher
    answers_ = {ctx: searcher.answer_from(query, cands, top_k=K, config=cfg,
                                          scope=cap.scopes.get(ctx))
                for ctx, (query, cands) in cap.readings.items()}
    if len(answers_) == 1:
        return answers_[None]
    joined = next(a for ctx, a in answers_.items() if ctx is not None)
    return choose_reading(cap.q["question"], answers_[None], joined)


def abstain_matrix(searcher, caps, weights) -> tuple[np.ndarray, np.ndarray, list]:
    """Abstention signals (under a ranker) and answerable labels."""
    cfg = SearchConfig(weights=weights, abstain={})
    X, y, ruled = [], [], []
    for cap in caps:
        a = _answer(searcher, cap, cfg)
        X.append([a.signals.get(f, 0.0) for f in FEATURES])
        y.append(1.0 if cap.q.get("answerable", True) else 0.0)
        query = cap.readings[a.follow_up_of][0]
        scope = cap.scopes.get(a.follow_up_of)
        ruled.append(ruled_out(query) or not a.hits or bool(scope and scope.missing))
    return np.asarray(X), np.asarray(y), ruled


def _pick_threshold(p: np.ndarray, y: np.ndarray, max_false: float) -> float:
    """Highest threshold whose false abstention stays within max_false."""
    best = 0.05
    for t in np.arange(0.02, 0.98, 0.01):
        if (p[y == 1] < t).mean() <= max_false:
            best = float(t)
    return round(best, 2)


#: Inverse regularisation strengths tried for the abstainer (chosen per fit by
#: abstention at the false-abstention target, out of fold within the training questions).
ABSTAIN_CS = (1.0, 10.0, 100.0)


def fit_abstainer(X: np.ndarray, y: np.ndarray, groups: list[str]) -> dict:
    """Logistic regression over the abstention signals. Its regularisation and its
    threshold come from probabilities predicted out of fold within these questions."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict

    cv = GroupKFold(n_splits=min(5, len(set(groups))))
    best = None
    for c in ABSTAIN_CS:
        m = LogisticRegression(C=c, max_iter=5000)
        p = cross_val_predict(m, X, y, cv=cv, groups=groups, method="predict_proba")[:, 1]
        t = _pick_threshold(p, y, MAX_FALSE_ABSTAIN)
        caught = float((p[y == 0] < t).mean()) if (y == 0).any() else 0.0
        if best is None or caught > best[0] + 1e-9:
            best = (caught, c, t)
    _, c, t = best
    m = LogisticRegression(C=c, max_iter=5000).fit(X, y)
    return {"weights": {f: round(float(w), 4) for f, w in zip(FEATURES, m.coef_[0])},
            "bias": round(float(m.intercept_[0]), 4), "threshold": t, "C": c}


def fit(searcher, caps: list[Captured], ranker: str = "learned") -> SearchConfig:
    """Ranker and abstainer fitted on these questions."""
    weights = {"learned": fit_ranker, "pairwise": fit_pairwise}[ranker](caps) \
        if ranker != "hand" else dict(DEFAULT_WEIGHTS)
    X, y, ruled = abstain_matrix(searcher, caps, weights)
    # Questions the rules already settle would only blur the model.
    keep = [i for i, r in enumerate(ruled) if not r]
    model = fit_abstainer(X[keep], y[keep], [caps[i].q["group"] for i in keep])
    # Which reading of a follow-up is used is settled by the question's form
    # (retrieval/followup.py), not by a fitted margin.
    cfg = SearchConfig(weights=weights, abstain=model)
    cfg.relevance = fit_relevance(searcher, caps, cfg)
    return cfg


def fit_relevance(searcher, caps: list[Captured], cfg: SearchConfig) -> dict:
    """Thresholds of the relevance words (retrieval/relevance.py) under a fitted
    ranker and abstainer: from the cited passages (top 5) of the answerable questions
    answered, and whether each holds the answer."""
    from fitting.relevance import fit_thresholds

    scores, rel = [], []
    for cap in caps:
        if not cap.q.get("answerable", True):
            continue
        a = _answer(searcher, cap, cfg)
        if a.abstained:
            continue
        for h in a.hits[:5]:
            scores.append(h.score)
            rel.append(answers_question(cap.q, h.passage.text, h.passage.source_file,
                                        h.passage.pdf_pages))
    if len(set(rel)) < 2:
        return {}
    return fit_thresholds(np.array(scores), np.array(rel, dtype=bool))


def score(searcher, caps: list[Captured], cfg: SearchConfig) -> list[dict]:
    """Per-question scoring rows (evaluate.score_one) with style and source."""
    rows = []
    for cap in caps:
        a = _answer(searcher, cap, cfg)
        r = score_one(cap.q, Ranked.of([h.passage for h in a.hits], a.abstained), K)
        top = a.hits[0] if a.hits else None
        r.update(style=cap.q.get("style"), source=cap.q.get("source"),
                 family=cap.q.get("family", "shipped"),
                 top_match=top.match if top else "",
                 top_answers=bool(top and cap.q.get("answerable", True) and answers_question(
                     cap.q, top.passage.text, top.passage.source_file, top.passage.pdf_pages)),
                 made=cap.q.get("made", "hand").split("(")[0],
                 follow_up=bool(cap.q.get("history")), used_context=a.follow_up_of is not None)
        rows.append(r)
    return rows


def cross_validate(searcher, caps: list[Captured], ranker: str = "learned",
                   folds: int = FOLDS, seed: int = 0) -> list[dict]:
    """Out-of-fold scoring rows: each question scored by models fitted without it."""
    from sklearn.model_selection import StratifiedGroupKFold

    y = [int(c.q.get("answerable", True)) for c in caps]
    g = [c.q["group"] for c in caps]
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    rows: list[dict | None] = [None] * len(caps)
    for train, test in cv.split(np.zeros(len(caps)), y, g):
        cfg = fit(searcher, [caps[i] for i in train], ranker)
        for i, r in zip(test, score(searcher, [caps[i] for i in test], cfg)):
            rows[i] = r
    return [r for r in rows if r is not None]


# -- the report ----------------------------------------------------------------------------

_METRICS = ("hit@1", "hit@5", "mrr@10", "recall@10", "abstain_rate", "false_abstain_rate")
_SHORT = {"hit@1": "hit@1", "hit@5": "hit@5", "mrr@10": "MRR", "recall@10": "multi",
          "abstain_rate": "abst-unans", "false_abstain_rate": "abst-ans"}


def _fmt(v) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.2f}"


def summarise(rows: list[dict]) -> dict:
    """aggregate() plus the count."""
    a = aggregate(rows)
    a["n"] = len(rows)
    return a


def side_by_side(columns: dict[str, list[dict]], by: str | None = None) -> str:
    """A table: one row per metric (or per group of `by`), one column set per system."""
    lines = []
    if by is None:
        head = f"{'metric':<12}" + "".join(f"{name:>14}" for name in columns)
        lines.append(head)
        aggs = {name: summarise(rows) for name, rows in columns.items()}
        for m in _METRICS:
            lines.append(f"{_SHORT[m]:<12}" + "".join(f"{_fmt(aggs[n].get(m)):>14}"
                                                      for n in columns))
        lines.append(f"{'questions':<12}" + "".join(f"{aggs[n]['n']:>14}" for n in columns))
        return "\n".join(lines)
    names = list(columns)
    groups = sorted({str(r.get(by)) for rows in columns.values() for r in rows})
    lines.append(f"{by:<20}{'n':>5}  " + "  ".join(
        f"{'/'.join(_SHORT[m] for m in _METRICS)} ({n})" for n in names))
    for gname in groups:
        parts = []
        n = 0
        for name in names:
            rs = [r for r in columns[name] if str(r.get(by)) == gname]
            n = len(rs)
            a = summarise(rs)
            parts.append(" ".join(f"{_fmt(a.get(m)):>5}" for m in _METRICS))
        lines.append(f"{gname:<20}{n:>5}  " + "   ".join(parts))
    return "\n".join(lines)


def report(searcher, train_paths: list[Path], test_path: Path | None = None,
           rankers: tuple[str, ...] = ("pairwise", "learned", "hand"), progress=None
           ) -> tuple[str, dict]:
    """The full out-of-sample report (text) and the configuration fitted on all
    training questions with the ranker that wins out of sample."""
    qs = load_questions(train_paths)
    caps = capture(searcher, qs, progress)
    out = []
    cv_rows = {r: cross_validate(searcher, caps, r) for r in rankers}
    winner = max(rankers, key=lambda r: _objective(cv_rows[r]))
    final = fit(searcher, caps, winner)
    ins = score(searcher, caps, final)
    cols = {"in-sample": ins, **{f"CV {r}": rows for r, rows in cv_rows.items()}}
    out.append(f"{len(caps)} questions ({sum(not q.get('answerable', True) for q in qs)} "
               f"unanswerable), {FOLDS}-fold cross-validation grouped by base question; "
               f"ranker kept: {winner}")
    out.append(side_by_side(cols))
    best = cv_rows[winner]
    out.append("\nper kind (in-sample | out-of-sample):")
    out.append(side_by_side({"in": ins, "out": best}, by="kind"))
    out.append("\nper style (in-sample | out-of-sample):")
    out.append(side_by_side({"in": ins, "out": best}, by="style"))
    out.append("\nper source (out-of-sample):")
    out.append(side_by_side({"out": best}, by="source"))
    out.append("\nhow made (out-of-sample):")
    out.append(side_by_side({"out": best}, by="made"))
    if test_path and test_path.exists():
        tq = load_questions([test_path])
        tcaps = capture(searcher, tq)
        out.append(f"\nlocked test split {test_path.name} (models fitted on all the above):")
        out.append(side_by_side({"test": score(searcher, tcaps, final)}))
    return "\n".join(out), {"config": final, "winner": winner, "cv": cv_rows,
                            "in_sample": ins}


def _objective(rows: list[dict]) -> float:
    """One number to choose between rankers out of sample: MRR plus abstention
    accuracy, each in [0, 1]."""
    a = aggregate(rows)
    return (a["mrr@10"] or 0) + (a["recall@10"] or 0) * 0.25 + (a["abstain_rate"] or 0) \
        - 2 * (a["false_abstain_rate"] or 0) if rows else 0.0
