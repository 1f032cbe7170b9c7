"""Ranking candidates: a linear score over their features (weights fitted by
`reportqa-fit calibrate`), near-duplicates left out, and for questions about each
report the best passage of each report first; each hit highlighted."""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterator
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
    picked = _diversify(store, cands, best_first(cands, weights), top_k, query.question,
                        dup_threshold)
    return [Hit(c.passage, float(score), best_sentences(c.sentences, query), rank, c.feats)
            for rank, (score, c) in enumerate(picked, 1)]


def best_first(cands: list[Candidate], weights: dict) -> Iterator[tuple[float, Candidate]]:
    """(score, candidate), best first (ties by passage id), each candidate's features
    worked out only when its upper bound reaches the next place: the order is that of
    sorting every score, and a search that stops after its first picks reads few."""
    heap = []
    for i, c in enumerate(cands):
        hi = c.upper_bound(weights)
        heap.append((-round(hi, 9), c.passage.passage_id, i, c.own_exact, hi))
    heapq.heapify(heap)
    while heap:
        key, pid, i, exact, s = heapq.heappop(heap)
        if exact:
            yield s, cands[i]
        else:
            s = cands[i].score(weights)
            heapq.heappush(heap, (-round(s, 9), pid, i, True, s))


def _diversify(store, cands: list[Candidate], scored: Iterator[tuple[float, Candidate]],
               top_k: int, question: str, dup_threshold: float
               ) -> list[tuple[float, Candidate]]:
    """Skip near-duplicates of passages already picked (summary bullets restate
    body text); for questions about each/every/all forces or reports, take the
    best passage of each report first."""
    picked: list[tuple[float, Candidate]] = []
    vecs = []
    # Picks past `top_k` serve only to put each report's best first; without that,
    # each would work out more candidates' features for nothing.
    each_report = bool(_EACH_REPORT.search(question))
    wanted = top_k * 3 if each_report else top_k
    # One read for every candidate's vector: on templated reports most of a pool can
    # be near-duplicates, and the loop then reaches its end.
    vectors = dict(zip((c.rowid for c in cands),
                       store.vectors([int(c.rowid) for c in cands]) if cands else []))
    for item in scored:
        c = item[1]
        v = vectors[c.rowid]
        if any(float(v @ u) > dup_threshold for u in vecs):
            continue
        if any(_overlap(c.passage.text, x.passage.text) > MAX_OVERLAP for _, x in picked):
            continue
        picked.append(item)
        vecs.append(v)
        if len(picked) >= wanted:
            break
    if each_report:
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
