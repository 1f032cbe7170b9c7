"""Answering a question: dense (FAISS) and keyword (SQLite FTS5 BM25) candidates,
reciprocal-rank fusion, a rerank on best-sentence similarity and question-type cues,
near-duplicate removal, abstention and highlights.

The model and index load once (see :func:`get_searcher`); one query costs one
embedding (~20 ms) plus cheap arithmetic over at most a few hundred candidates."""

from __future__ import annotations

import json
import math
import re
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from ingest.models import Passage
from retrieval.answer import Answer, Filters, Hit
from retrieval.highlight import best_sentences
from retrieval.store import Store
from retrieval.text import (
    content_terms,
    expand_abbreviations,
    glossary,
    has_figure,
    has_number,
    profile,
    stem,
    tokens,
)

DEFAULT_WEIGHTS = {
    # Similarity of the best sentence and of the passage to the question carry most of
    # the weight; keyword evidence and question-type cues adjust. Chosen by hand from a
    # few principled variants measured on dev and calibration questions alike (a
    # fitted weight vector did worse under cross-validation: too few questions).
    "sentence": 0.45, "sentence2": 0.0, "window": 0.0, "dense": 0.35, "bm25": 0.15,
    "kw_rr": 0.0, "dense_rr": 0.0, "coverage": 0.20, "sent_cov": 0.0,
    "figure": 0.05, "fig_focus": 0.15, "kind_match": 0.08, "summary": -0.08, "note": -0.06,
}


@dataclass
class _Context:
    searched: str
    profile: object
    weights: dict
    groups: list
    #: Stemmed question terms that no indexed passage contains (nor any equivalent).
    absent: frozenset = frozenset()
    #: Corpus words standing in for question words the corpus never uses.
    bridged: tuple = ()


@dataclass
class _Candidate:
    rowid: int
    passage: Passage
    sentences: list
    feats: dict


@dataclass
class SearchConfig:
    """Knobs of the ranker (defaults tuned on the dev + calibration questions; see
    README "How answers are ranked")."""

    candidates: int = 60
    #: Linear weights over the candidate features computed in Searcher.candidates.
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    dup_threshold: float = 0.93
    #: Abstention model (logistic) parameters, loaded from data/abstain.json.
    abstain: dict = field(default_factory=dict)


def _load_abstain() -> dict:
    try:
        text = resources.files("retrieval").joinpath("data/abstain.json").read_text("utf-8")
        return json.loads(text)
    except (FileNotFoundError, ValueError):
        return {}


_FOLLOW_UP = re.compile(
    r"^(?:and|also|what about|how about|but|so|then|same|why|is that|are they|is it|"
    r"does it|do they|has it|have they)\b|\b(?:it|its|they|their|them|that|this|those|these)\b",
    re.I)


def contextualise(question: str, history: list[str] | None) -> str:
    """A follow-up ("and what about anti-social behaviour?") is searched together with
    the previous question when it is short and leans on it (opens with a connective or
    refers back with a pronoun) — the previous turn's topic words fill what it omits."""
    if not history:
        return question
    q = question.strip()
    if len(content_terms(q)) > 8 or not _FOLLOW_UP.search(q):
        return question
    return f"{history[-1].strip()} {q}"


class Searcher:
    """Search over one loaded index with one embedder."""

    def __init__(self, store: Store, embedder, config: SearchConfig | None = None):
        store.check_model(embedder.name)
        import faiss

        # One query scans with one thread: with two cores shared by the web server and
        # the embedding model, FAISS's OpenMP threads cost more than they gain.
        faiss.omp_set_num_threads(1)
        self.store = store
        self.embedder = embedder
        self.config = config or SearchConfig(abstain=_load_abstain())
        self._idf_n = max(1, store.faiss.ntotal)

    # -- candidate generation -------------------------------------------------
    def _filtered_rowids(self, filters: Filters) -> list[int] | None:
        """Rowids of the passages that pass the filters (None: no filter). Read from
        the passage table's columns, so it works at any index size."""
        if not filters.active:
            return None
        return self.store.rowids_where(filters.accepts_fields)

    def dense(self, qvec: np.ndarray, k: int, allowed: list[int] | None = None
              ) -> list[tuple[int, float]]:
        """(rowid, cosine) of the k nearest passages."""
        index = self.store.faiss
        if index.ntotal == 0:
            return []
        if allowed is not None:
            if not allowed:
                return []
            ids = np.asarray(allowed, dtype=np.int64) - 1
            vecs = np.vstack([index.reconstruct(int(i)) for i in ids])
            sims = vecs @ qvec
            order = np.argsort(-sims)[:k]
            return [(int(ids[i]) + 1, float(sims[i])) for i in order]
        d, i = index.search(qvec[None, :], min(k, index.ntotal))
        return [(int(r) + 1, float(s)) for s, r in zip(d[0], i[0]) if r >= 0]

    def keyword_query(self, question: str) -> str:
        """The FTS5 MATCH expression: question words and glossary equivalents, ORed."""
        terms = content_terms(question)
        phrases = set()
        n = max(1, self.store.faiss.ntotal)
        for t in terms:
            # Words in over 30% of passages ("police", "force") add little to BM25 but
            # dominate its cost on a large index (measured: keyword p95 halves at 100k
            # passages, dev-question quality unchanged). Their weight still counts in
            # the term coverage feature.
            if n >= 1000 and self._df(t) > 0.3 * n:
                continue
            phrases.add(t)
        for e in glossary().expansions(question):
            phrases.add(e.lower())
        parts = []
        for ph in sorted(phrases):
            toks = [t for t in re.findall(r"[a-z0-9]+", ph.lower())]
            if not toks:
                continue
            parts.append('"' + " ".join(toks) + '"')
        return " OR ".join(parts)

    def keyword(self, question: str, k: int, allowed: list[int] | None = None,
                extra: tuple[str, ...] = ()) -> list[tuple[int, float]]:
        """(rowid, BM25 score, higher is better) of the best keyword matches."""
        q = self.keyword_query(question)
        if extra:
            q = " OR ".join([q] * bool(q) + [f'"{w}"' for w in extra])
        if not q:
            return []
        sql = ("SELECT rowid, -bm25(passages_fts, 1.0, 0.5) FROM passages_fts "
               "WHERE passages_fts MATCH ?")
        args: list = [q]
        if allowed is not None:
            if not allowed:
                return []
            sql += f" AND rowid IN ({','.join(str(int(r)) for r in allowed)})"
        sql += " ORDER BY bm25(passages_fts, 1.0, 0.5) LIMIT ?"
        args.append(k)
        try:
            return [(int(r), float(s)) for r, s in self.store.db.execute(sql, args)]
        except Exception:  # noqa: BLE001 — a query FTS5 cannot parse just gives no keyword hits
            return []

    # -- scoring ----------------------------------------------------------------
    def _sentence_scores(self, rowids: list[int], qvec: np.ndarray
                         ) -> tuple[dict[int, list[tuple[float, str]]], dict[int, float]]:
        """Per passage: (similarity, sentence) for each sentence, and the best
        similarity of a two-sentence window (answers often span a sentence break)."""
        if not rowids:
            return {}, {}
        q = ",".join(str(int(r)) for r in rowids)
        rows = self.store.db.execute(
            f"SELECT id, passage_rowid, text FROM sentences WHERE passage_rowid IN ({q}) "
            "ORDER BY id").fetchall()
        if not rows:
            return {}, {}
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64)
        vecs = np.asarray(self.store.sentence_vectors[ids], dtype=np.float32)
        sims = vecs @ qvec
        # A sentence that is itself a question (a report restating its inspection
        # questions) echoes the user's question without answering it.
        for i, r in enumerate(rows):
            if r[2].rstrip().endswith("?"):
                sims[i] *= 0.7
        # cos(q, a+b) = (q·a + q·b) / |a+b|, with |a+b| = sqrt(2 + 2 a·b) for unit a, b.
        pair = np.einsum("ij,ij->i", vecs[:-1], vecs[1:]) if len(vecs) > 1 else np.zeros(0)
        out: dict[int, list[tuple[float, str]]] = {}
        window: dict[int, float] = {}
        for i, ((_, pr, text), sim) in enumerate(zip(rows, sims)):
            out.setdefault(pr, []).append((float(sim), text))
            w = float(sim)
            if i + 1 < len(rows) and rows[i + 1][1] == pr:
                w = max(w, float((sim + sims[i + 1]) / np.sqrt(max(2 + 2 * pair[i], 1e-6))))
            window[pr] = max(window.get(pr, -1.0), w)
        return out, window

    def _term_weights(self, question: str) -> dict[str, float]:
        """Topical terms of the question (stemmed) with IDF weights from the index."""
        weights: dict[str, float] = {}
        for t in content_terms(question):
            st = stem(t)
            df = self._df(t)
            weights[st] = math.log(1 + self._idf_n / (1 + df))
        return weights

    def _bridge(self, question: str, absent: frozenset) -> list[tuple[str, ...]]:
        """For question words the corpus never uses, the nearest corpus words by the
        embedding model (cosine >= 0.6, at most two each): ("happy", "satisfied").
        Each becomes an equivalence group for keyword search and term coverage."""
        vv = self.store.vocab_vectors
        words = [t for t in content_terms(question) if t.isalpha() and stem(t) in absent]
        if vv is None or not words or not len(self.store.vocab):
            return []
        tv = self.embedder.encode(words)
        sims = np.asarray(vv @ tv.T, dtype=np.float32)  # (vocab, words)
        out = []
        for i, w in enumerate(words):
            col = sims[:, i]
            top = np.argpartition(-col, min(2, len(col) - 1))[:2]
            near = [self.store.vocab[j] for j in top[np.argsort(-col[top])] if col[j] >= 0.6]
            if near:
                out.append((w, *near))
        return out

    def _absent_terms(self, question: str, groups) -> frozenset:
        out = set()
        for t in content_terms(question):
            if self._df(t) > 0:
                continue
            st = stem(t)
            if any(any(stem(x) == st for term in g for x in tokens(term))
                   and any(self._df(term) > 0 for term in g) for g in groups):
                continue
            out.add(st)
        return frozenset(out)

    @lru_cache(maxsize=4096)  # noqa: B019 — one Searcher lives for the process
    def _df(self, term: str) -> int:
        try:
            row = self.store.db.execute(
                "SELECT count(*) FROM passages_fts WHERE passages_fts MATCH ?",
                ['"' + " ".join(re.findall(r"[a-z0-9]+", term.lower())) + '"']).fetchone()
            return int(row[0])
        except Exception:  # noqa: BLE001
            return 0

    def _coverage(self, weights: dict[str, float], groups: list[tuple[str, ...]],
                  p: Passage) -> float:
        """IDF-weighted share of the question's terms the passage contains; a term
        also counts as present when a glossary equivalent is."""
        if not weights:
            return 0.0
        pst, low = self._passage_terms(p)
        got = 0.0
        for st, w in weights.items():
            ok = st in pst
            if not ok:
                for g in groups:
                    if any(stem(x) == st for t in g for x in tokens(t)):
                        if any(_phrase_in(t, low) for t in g):
                            ok = True
                            break
            if ok:
                got += w
        return got / sum(weights.values())

    @lru_cache(maxsize=100_000)  # noqa: B019 — one Searcher lives for the process
    def _passage_terms(self, p: Passage) -> tuple[frozenset[str], str]:
        text = p.text + " " + " ".join(p.section)
        return frozenset(stem(t) for t in tokens(text)), text.lower()

    # -- the answer ---------------------------------------------------------------
    def candidates(self, question: str, *, filters: Filters | None = None,
                   history: list[str] | None = None):
        """Candidate passages with their ranking features (before scoring)."""
        filters = filters or Filters()
        cfg = self.config
        searched = contextualise(question, history)
        qvec = self.embedder.encode([expand_abbreviations(searched)])[0]
        allowed = self._filtered_rowids(filters)
        groups = [g for _, g in glossary().matches(searched)]
        absent = self._absent_terms(searched, groups)
        bridges = self._bridge(searched, absent)
        groups += bridges
        ctx = _Context(searched, profile(question), self._term_weights(searched), groups,
                       absent, tuple(w for g in bridges for w in g[1:]))
        dense = self.dense(qvec, cfg.candidates, allowed)
        kw = self.keyword(searched, cfg.candidates, allowed, extra=ctx.bridged)
        dr = {r: i for i, (r, _) in enumerate(dense)}
        kr = {r: i for i, (r, _) in enumerate(kw)}
        ds = dict(dense)
        ks = dict(kw)
        cand = list(dict.fromkeys([r for r, _ in dense] + [r for r, _ in kw]))
        if not cand:
            return ctx, []
        passages = self.store.passages(cand)
        # Dense scores for keyword-only candidates.
        missing = [r for r in cand if r not in ds]
        if missing:
            vecs = np.vstack([self.store.faiss.reconstruct(int(r) - 1) for r in missing])
            for r, sim in zip(missing, vecs @ qvec):
                ds[r] = float(sim)
        sents, windows = self._sentence_scores(cand, qvec)
        kmax = max(ks.values()) if ks else 1.0
        prof, weights = ctx.profile, ctx.weights
        total_w = sum(weights.values()) or 1.0
        out = []
        for r in cand:
            p = passages.get(r)
            if p is None:
                continue
            ss = sents.get(r, [(ds[r], p.text)])
            sims = sorted((x for x, _ in ss), reverse=True)
            # Question terms inside the single best-matching sentence: evidence is
            # usually one sentence, so terms spread over a long passage count less.
            sent_cov = 0.0
            fig_focus = 0.0
            for _, text in ss:
                st = {stem(t) for t in tokens(text)}
                cov = sum(w for k, w in weights.items() if k in st) / total_w
                sent_cov = max(sent_cov, cov)
                # For a figure question: the question's terms beside a number in one
                # sentence or table row — where the figure asked for would be.
                if prof.wants_figure and has_number(text):
                    fig_focus = max(fig_focus, cov)
            feats = {
                "sentence": sims[0],
                "sentence2": sum(sims[:2]) / min(2, len(sims)),
                "window": windows.get(r, sims[0]),
                "dense": ds[r],
                "bm25": ks.get(r, 0.0) / kmax if kmax > 0 else 0.0,
                "kw_rr": 1 / (1 + kr[r]) if r in kr else 0.0,
                "dense_rr": 1 / (1 + dr[r]) if r in dr else 0.0,
                "coverage": self._coverage(weights, ctx.groups, p),
                "sent_cov": sent_cov,
                "figure": float(prof.wants_figure and (p.kind == "table" or has_figure(p.text))),
                "fig_focus": fig_focus,
                "kind_match": float((prof.wants_recommendation and p.kind == "recommendation")
                                    or (prof.wants_judgment and p.kind == "judgment")),
                "summary": float(p.kind == "summary" and not prof.wants_judgment),
                "note": float(p.kind == "note"),
            }
            out.append(_Candidate(r, p, ss, feats))
        return ctx, out

    def score(self, feats: dict[str, float]) -> float:
        """Linear ranking score of one candidate's features."""
        w = self.config.weights
        return sum(w.get(k, 0.0) * v for k, v in feats.items())

    def ask(self, question: str, *, top_k: int = 5, filters: Filters | None = None,
            history: list[str] | None = None, qid: str | None = None) -> Answer:
        """Answer one question: ranked cited passages, or an abstention with the
        nearest passages."""
        ctx, cands = self.candidates(question, filters=filters, history=history)
        if not cands:
            return Answer(question, (), True, 0.0, qid, ctx.searched, self.store.build_id)
        scored = sorted(((self.score(c.feats), c.rowid, c.passage, c.sentences, c.feats)
                         for c in cands), key=lambda x: -x[0])
        picked = self._diversify(scored, top_k, question)
        hits = []
        for rank, (score, _r, p, ss, feats) in enumerate(picked, 1):
            hl = best_sentences(ss, question, k=2)
            hits.append(Hit(p, float(score), hl, rank, feats))
        from retrieval.abstain import abstain_features, decide

        signals = abstain_features(question, ctx.profile, hits, ctx.weights, ctx.groups,
                                   self.store, ctx.absent)
        abstained, conf = decide(signals, self.config.abstain)
        return Answer(question, tuple(hits), abstained, conf, qid, ctx.searched,
                      self.store.build_id, signals)

    def _diversify(self, scored, top_k: int, question: str):
        """Skip near-duplicates of passages already picked (summary bullets restate
        body text); for questions about each/every/all forces or reports, take the
        best passage of each report first."""
        picked = []
        vecs = []
        for item in scored:
            r = item[1]
            v = self.store.faiss.reconstruct(int(r) - 1)
            if any(float(v @ u) > self.config.dup_threshold for u in vecs):
                continue
            if any(_overlap(item[2].text, x[2].text) > 0.6 for x in picked):
                continue
            picked.append(item)
            vecs.append(v)
            if len(picked) >= top_k * 3:
                break
        if re.search(r"\b(each|every|all|different|across|compare\w*)\s+(forces?|reports?|"
                     r"areas?|constabular\w+)\b", question, re.I):
            seen, first, rest = set(), [], []
            for it in picked:
                (first if it[2].report_id not in seen else rest).append(it)
                seen.add(it[2].report_id)
            picked = first + rest
        return picked[:top_k]


def _phrase_in(phrase: str, low_text: str) -> bool:
    return re.search(r"\b" + re.escape(phrase.lower()) + r"\b", low_text) is not None


@lru_cache(maxsize=100_000)
def _grams(t: str) -> frozenset[tuple[str, ...]]:
    w = tokens(t)
    return frozenset(tuple(w[i:i + 3]) for i in range(max(0, len(w) - 2)))


def _overlap(a: str, b: str) -> float:
    """Share of the shorter text's word trigrams that the other text also has."""
    ga, gb = _grams(a), _grams(b)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / min(len(ga), len(gb))


_SEARCHERS: dict[tuple[str, str, str], Searcher] = {}
_SEARCHERS_LOCK = threading.Lock()


def get_searcher(index_dir: Path, model: str | None = None) -> Searcher:
    """The process-wide Searcher for an index (reloaded when a new build is swapped in)."""
    from ingest.embed import get_embedder
    from ingest.index import current_build_dir

    build = current_build_dir(Path(index_dir))
    key = (str(index_dir), str(build), model or "")
    with _SEARCHERS_LOCK:
        s = _SEARCHERS.get(key)
        if s is None:
            store = Store(Path(index_dir))
            s = Searcher(store, get_embedder(model or store.model))
            _SEARCHERS.clear()
            _SEARCHERS[key] = s
        return s
