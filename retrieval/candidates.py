"""Candidate passages for a question: the nearest by the embedding model (FAISS) and
the best keyword matches (BM25), each among the passages the filters allow, pooled
with the similarity of each of their sentences to the question and their ranking
features (retrieval/features.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.models import Passage
from ingest.index_format import phrase
from retrieval.answer import Filters
from retrieval.features import cheap_own, exact_own, features, fragment_share
from retrieval.query import Query

#: A sentence that is itself a question (a report restating its inspection questions)
#: echoes the user's question without answering it: its similarity is scaled by this.
QUESTION_SENTENCE_DISCOUNT = 0.7
#: Words in more than this share of passages ("police", "force") add little to BM25
#: but dominate its cost on a large index (measured: keyword p95 halves at 100k);
#: their weight still counts in term coverage. Applied from this many passages up.
COMMON_TERM_SHARE, COMMON_TERM_MIN_INDEX = 0.3, 1000


#: A bound must not fall below the score a float sum in another order gives.
_BOUND_MARGIN = 1e-6


@dataclass(eq=False)
class Candidate:
    """A candidate passage: its row in the index, the passage, (similarity to the
    question, sentence) for each of its sentences, and its ranking features, worked
    out when first read (:attr:`feats`): ranking reads them only for the candidates
    whose :meth:`upper_bound` could place them among its picks (two of the features
    read every word of a passage; about half the time of ranking a pool went there)."""

    rowid: int
    passage: Passage
    sentences: list
    query: Query = field(repr=False)
    #: What the pool says of it: its dense similarity, keyword score and ranks.
    pool: dict = field(repr=False)
    #: Its own features (features.own_features) when `own_exact`, else their cheap
    #: part (features.cheap_own).
    own: dict = field(repr=False)
    own_exact: bool = False
    #: The question's memo, told the own features once they are worked out.
    memo: Memo | None = field(default=None, repr=False)
    _feats: dict | None = field(default=None, init=False, repr=False)

    @property
    def feats(self) -> dict[str, float]:
        """Its ranking features (retrieval/features.py)."""
        if self._feats is None:
            if not self.own_exact:
                self.own = exact_own(self.query, self.passage, self.sentences, self.own)
                self.own_exact = True
                if self.memo is not None:
                    self.memo[self.rowid] = (self.passage, self.sentences, self.own, True)
            self._feats = features(self.query, self.passage, self.sentences, **self.pool,
                                   own=self.own)
        return self._feats

    def score(self, weights: dict[str, float]) -> float:
        """Its score by the linear ranker `weights`."""
        return sum(weights.get(k, 0.0) * v for k, v in self.feats.items())

    def upper_bound(self, weights: dict[str, float]) -> float:
        """At least :meth:`score`, from what is cheap to know (the score itself once
        the features are known)."""
        if self._feats is not None or self.own_exact:
            return self.score(weights)
        # Every feature is known but two, whose least value (0) is in `own` for now.
        least = sum(weights.get(k, 0.0) * v for k, v in
                    features(self.query, self.passage, self.sentences, **self.pool,
                             own=self.own).items())
        gain = max(0.0, weights.get("coverage", 0.0))
        if "figure" in self.query.wants:
            gain += max(0.0, weights.get("fig_focus", 0.0))
        if gain:
            least += gain * fragment_share(self.query, self.passage)
        return least + _BOUND_MARGIN


def dense(store, qvec: np.ndarray, k: int, filters: Filters | None = None,
          allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
    """(rowid, cosine) of the k nearest passages (among those the filters allow, or
    the rowids `allowed`: a FAISS ID selector, so only allowed vectors are scored)."""
    import faiss

    index = store.faiss
    if index.ntotal == 0:
        return []
    params = bitmap = None
    if filters is not None and filters.active:
        if allowed is None:
            n_allowed, bitmap = store.allowed(filters)
        else:
            n_allowed = len(allowed)
        if not n_allowed:
            return []
        if bitmap is None:
            mask = np.zeros(index.ntotal, dtype=bool)
            pos = store.positions(allowed)
            mask[pos[pos >= 0]] = True
            bitmap = np.packbits(mask, bitorder="little")
        # A bitmap selector: O(1) to make from the cached bitmap and one bit test a
        # vector (IDSelectorBatch hashes every allowed id on each question and made
        # a 150k-allowed search 2x slower than an unfiltered one).
        sel = faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap))
        params = faiss.SearchParameters(sel=sel)
        k = min(k, n_allowed)
    d, i = index.search(qvec[None, :], min(k, index.ntotal), params=params)
    del bitmap  # kept alive until here: the selector points into it
    rowids = store.rowids
    return [(int(rowids[p]), float(s)) for s, p in zip(d[0], i[0]) if p >= 0]


def keyword_phrases(store, query: Query) -> list[str]:
    """The question's words and their equivalents as keyword-query phrases
    (index_format.phrase), sorted, each once."""
    words = set()
    n = max(1, store.faiss.ntotal)
    for t in query.terms:
        if n >= COMMON_TERM_MIN_INDEX and t.df > COMMON_TERM_SHARE * n:
            continue
        words.add(t.word)
    for g in query.groups:
        words.update(x.lower() for x in g)
    return list(dict.fromkeys(p for p in map(phrase, sorted(words)) if p))


def keyword_query(store, query: Query) -> str:
    """The keyword query: the question's words and their equivalents, ORed phrases (as
    any engine's query language writes them; the search itself weighs phrases the index
    reads alike as one: KeywordSearch.any_of)."""
    return " OR ".join(keyword_phrases(store, query))


def keyword(store, query: Query, k: int, filters: Filters | None = None
            ) -> list[tuple[int, float]]:
    """(rowid, BM25 score, higher is better) of the best keyword matches (among those
    the filters allow: report-level filters and kinds go to the keyword index as term
    sets; a section filter is checked on the hits, fetching more)."""
    phrases = keyword_phrases(store, query)
    if not phrases:
        return []
    q = store.keywords.any_of(phrases)
    if filters is None or not filters.active:
        return store.keywords.search(q, k)
    hits = store.keywords.search(q, k if not filters.section else k * 8,
                                 store.report_scope(filters), filters.kinds or None)
    if filters.section:
        ok = store.allows(filters, [r for r, _ in hits])
        hits = [h for h, keep in zip(hits, ok) if keep]
    return hits[:k]


def sentence_scores(store, rowids: list[int], qvec: np.ndarray,
                    texts: dict[int, str] | None = None) -> dict[int, list[tuple[float, str]]]:
    """Per passage: (similarity to the question, sentence) for each sentence (`texts`:
    the passages' texts, when already read)."""
    if not rowids:
        return {}
    owners, sents, vectors = store.sentence_rows(rowids, texts)
    if not sents:
        return {}
    sims = vectors @ qvec
    asks = [i for i, text in enumerate(sents) if text.rstrip().endswith("?")]
    if asks:
        sims[asks] *= QUESTION_SENTENCE_DISCOUNT
    out: dict[int, list[tuple[float, str]]] = {}
    for pr, text, sim in zip(owners, sents, sims.tolist()):
        out.setdefault(pr, []).append((sim, text))
    return out


#: Per rowid, what a candidate's passage gives one question whatever the pool: the
#: passage, its sentences' similarities, its own features (features.own_features, or
#: their cheap part until worked out) and whether they are worked out.
Memo = dict[int, tuple[Passage, list[tuple[float, str]], dict[str, float], bool]]


@dataclass
class Read:
    """Passages read for a question's pool, with their sentences' similarities to it:
    those of `rowids` that are live and were not in its memo."""

    rowids: set[int] = field(default_factory=set)
    passages: dict[int, Passage] = field(default_factory=dict)
    sentences: dict[int, list[tuple[float, str]]] = field(default_factory=dict)


def read(store, rowids: list[int], qvec: np.ndarray, memo: Memo | None = None,
         done: Read | None = None) -> Read:
    """Read the passages of `rowids` that neither the question's memo nor `done` (an
    earlier read, added to) holds, and their sentences' similarities to the question.
    The dense hits are read while the keyword search still runs (retrieval/search.py):
    at 100,000 passages it often ends last."""
    out = done if done is not None else Read()
    new = [r for r in dict.fromkeys(rowids)
           if r not in out.rowids and (memo is None or r not in memo)]
    if not new:
        return out
    passages = store.passages(new)
    out.rowids.update(new)
    out.passages.update(passages)
    out.sentences.update(sentence_scores(store, new, qvec,
                                         {r: p.text for r, p in passages.items()}))
    return out


def pooled(store, query: Query, qvec: np.ndarray, dense_hits: list[tuple[int, float]],
           keyword_hits: list[tuple[int, float]], memo: Memo | None = None,
           done: Read | None = None) -> list[Candidate]:
    """The dense and keyword hits as one pool of candidates (dense first), each with
    its sentences' similarities (its other features are worked out when read: see
    :class:`Candidate`). `memo`, kept for one question, saves reading and scoring a
    passage again in its next search; `done`: the passages already read for this
    pool (:func:`read`)."""
    memo = {} if memo is None else memo
    ds, ks = dict(dense_hits), dict(keyword_hits)
    dr, kr = _ranks(dense_hits), _ranks(keyword_hits)
    cand = list(dict.fromkeys([r for r, _ in dense_hits] + [r for r, _ in keyword_hits]))
    if not cand:
        return []
    got = read(store, cand, qvec, memo, done)
    passages, sents = got.passages, got.sentences
    missing = [r for r in cand if r not in ds]
    if missing:  # dense scores for keyword-only candidates
        for r, sim in zip(missing, store.vectors(missing) @ qvec):
            ds[r] = float(sim)
    kmax = max(ks.values()) if ks else 1.0
    out = []
    for r in cand:
        if r in memo:
            p, ss, own, exact = memo[r]
            kept = memo
        else:
            p = passages.get(r)
            if p is None:
                continue
            # A passage with no sentence stands in by its own similarity, which comes
            # from the search that found it: it is not kept.
            ss = sents.get(r) or [(ds[r], p.text)]
            own, exact = cheap_own(query, p, ss), False
            kept = memo if r in sents else None
            if kept is not None:
                memo[r] = (p, ss, own, exact)
        pool = dict(dense=ds[r], bm25=ks.get(r, 0.0) / kmax if kmax > 0 else 0.0,
                    dense_rank=dr.get(r), kw_rank=kr.get(r))
        out.append(Candidate(r, p, ss, query, pool, own, exact, kept))
    return out


def _ranks(hits: list[tuple[int, float]]) -> dict[int, int]:
    """0-based rank of each hit by score, equal scores sharing a rank: the order in
    which an index returns ties depends on how its segments were written, and a merged
    index must rank as a fresh build of the same passages does."""
    out, rank, last = {}, -1, None
    for i, (r, sc) in enumerate(hits):
        key = round(sc, 5)
        if key != last:
            rank, last = i, key
        out[r] = rank
    return out
