"""Ranking candidates: a linear score over their features (weights fitted by
`reportqa-fit calibrate`), near-duplicates left out, and for questions about each
report the best passage of each report first; each hit highlighted."""

from __future__ import annotations

import re
from functools import lru_cache

from retrieval.answer import Hit
from retrieval.candidates import Candidate
from retrieval.highlight import best_sentences
from retrieval.query import Query
from retrieval.text import PASSAGE_CACHE, tokens

#: A passage sharing more than this share of word trigrams with one already picked
#: restates it (summary bullets restate body text).
MAX_OVERLAP = 0.6
_EACH_REPORT = re.compile(r"\b(each|every|all|different|across|compare\w*)\s+(forces?|"
                          r"reports?|areas?|constabular\w+)\b", re.I)


def ranked_hits(store, query: Query, cands: list[Candidate], weights: dict, top_k: int,
                dup_threshold: float) -> list[Hit]:
    """The best `top_k` candidates as hits, best first: scored by `weights`, ties by
    passage id; near-duplicates (vectors closer than `dup_threshold`, or overlapping
    text) of a better one left out."""
    scored = sorted(((sum(weights.get(k, 0.0) * v for k, v in c.feats.items()), c)
                     for c in cands),
                    key=lambda x: (-round(x[0], 9), x[1].passage.passage_id))
    picked = _diversify(store, scored, top_k, query.question, dup_threshold)
    return [Hit(c.passage, float(score), best_sentences(c.sentences, query), rank, c.feats)
            for rank, (score, c) in enumerate(picked, 1)]


def _diversify(store, scored: list[tuple[float, Candidate]], top_k: int, question: str,
               dup_threshold: float) -> list[tuple[float, Candidate]]:
    """Skip near-duplicates of passages already picked (summary bullets restate
    body text); for questions about each/every/all forces or reports, take the
    best passage of each report first."""
    picked: list[tuple[float, Candidate]] = []
    vecs = []
    # One read for every candidate's vector: on templated reports most of a pool can
    # be near-duplicates, and the loop then reaches its end.
    vectors = store.vectors([int(c.rowid) for _, c in scored]) if scored else []
    for item, v in zip(scored, vectors):
        c = item[1]
        if any(float(v @ u) > dup_threshold for u in vecs):
            continue
        if any(_overlap(c.passage.text, x.passage.text) > MAX_OVERLAP for _, x in picked):
            continue
        picked.append(item)
        vecs.append(v)
        if len(picked) >= top_k * 3:
            break
    if _EACH_REPORT.search(question):
        seen, first, rest = set(), [], []
        for it in picked:
            rid = it[1].passage.report_id
            (first if rid not in seen else rest).append(it)
            seen.add(rid)
        picked = first + rest
    return picked[:top_k]


@lru_cache(maxsize=PASSAGE_CACHE)
def _grams(t: str) -> frozenset[int]:
    """A text's word trigrams, each as its hash: ints, which the garbage collector
    does not track (a cache of tuples made its full passes long)."""
    w = tokens(t)
    return frozenset(map(hash, zip(w, w[1:], w[2:])))


def _overlap(a: str, b: str) -> float:
    """Share of the shorter text's word trigrams that the other text also has."""
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / min(len(ga), len(gb))
