"""The knobs of search: the ranker's weights, the abstention model and the relevance
thresholds, as fitted by `reportqa-fit calibrate` and shipped in retrieval/data (see
docs/answers.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources

from core.settings import DEFAULT_MODEL

#: Hand-set ranking weights, the fallback when data/ranker.json is absent. The
#: similarity of the best sentence and of the passage carry most of the weight;
#: keyword evidence and what-the-question-wants cues adjust.
DEFAULT_WEIGHTS = {
    "sentence": 0.45, "sentence2": 0.0, "dense_rr": 0.0, "kw_rr": 0.0, "dense": 0.35,
    "bm25": 0.15, "coverage": 0.20, "figure": 0.05, "fig_focus": 0.15, "kind_match": 0.08,
    "summary": -0.08, "note": -0.06, "boilerplate": -0.10, "hint": 0.10,
}


def fitted_name(name: str, model: str | None = None) -> str:
    """The file name of a fitted model for an embedding model: `ranker.json` for the
    default model (its files are the fallback), `ranker.<model>.json` for another.
    The one rule for the files `reportqa-fit` writes and serving reads."""
    if not model or model == DEFAULT_MODEL:
        return name
    stem, _, ext = name.rpartition(".")
    return f"{stem}.{model}.{ext}"


def fitted_file(name: str, model: str | None = None) -> dict:
    """A fitted model file from retrieval/data: the one fitted for this embedding model
    (`ranker.<model>.json`) when there is one, else the default's; {} when neither
    can be read."""
    data = resources.files("retrieval").joinpath("data")
    for candidate in dict.fromkeys((fitted_name(name, model), name)):
        try:
            return json.loads(data.joinpath(candidate).read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            continue
    return {}


@dataclass
class SearchConfig:
    """Knobs of the ranker. :meth:`fitted` loads those fitted for a model."""

    #: Passages taken from each of the dense and the keyword search. Out of family
    #: (benchmarks/families.py, models refitted at each) 40 ranked as well as 60 did
    #: (hit@1 / hit@5 / MRR: shipped 0.73 / 0.93 / 0.81 against 0.71 / 0.91 / 0.80,
    #: though multi recall@10 0.87 against 0.89; archive and real filings the same but
    #: the filings' hit@10, 0.74 against 0.75; dev2 the same), with a third less to
    #: score.
    candidates: int = 40
    #: Linear weights over the candidate features (retrieval/features.py).
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    #: Passages whose vectors are closer than this are near-duplicates: one is shown.
    dup_threshold: float = 0.93
    #: Abstention model (logistic) parameters (retrieval/abstain.py).
    abstain: dict = field(default_factory=dict)
    #: Score thresholds of the relevance words (retrieval/relevance.py).
    relevance: dict = field(default_factory=dict)

    @classmethod
    def fitted(cls, model: str | None = None) -> SearchConfig:
        """The ranker, abstainer and relevance words shipped in retrieval/data for an
        embedding model."""
        ranker, abstain = fitted_file("ranker.json", model), fitted_file("abstain.json", model)
        words = fitted_file("relevance.json", model)
        if model and words.get("model") not in (None, model):
            words = {}  # fitted on another model's score scale: no words beat wrong ones
        return cls(weights=dict(ranker.get("weights") or DEFAULT_WEIGHTS), abstain=abstain,
                   relevance={k: words[k] for k in ("strong", "partial") if k in words})
