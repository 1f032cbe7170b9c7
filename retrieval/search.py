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
    glossary,
    has_figure,
    profile,
    stem,
    tokens,
)


@dataclass
class SearchConfig:
    """Knobs of the ranker (defaults tuned on the dev + calibration questions; see
    README "How answers are ranked")."""

    candidates: int = 60
    rrf_k: int = 60
    w_sentence: float = 0.45
    w_dense: float = 0.25
    w_bm25: float = 0.15
    w_coverage: float = 0.20
    w_rrf: float = 4.0
    figure_bonus: float = 0.05
    kind_bonus: float = 0.08
    summary_penalty: float = 0.04
    note_penalty: float = 0.06
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
        self.store = store
        self.embedder = embedder
        self.config = config or SearchConfig(abstain=_load_abstain())
        self._lock = threading.Lock()
        self._passage_cache: dict[int, Passage] = {}
        self._idf_n = max(1, store.faiss.ntotal)

    # -- candidate generation -------------------------------------------------
    def _filtered_rowids(self, filters: Filters) -> list[int] | None:
        if not filters.active:
            return None
        return [r for r, p in self._all_passages().items() if filters.accepts(p)]

    def _all_passages(self) -> dict[int, Passage]:
        if len(self._passage_cache) < self.store.faiss.ntotal and self.store.faiss.ntotal <= 50000:
            self._passage_cache = self.store.passages(list(range(1, self.store.faiss.ntotal + 1)))
        return self._passage_cache

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
        for t in terms:
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

    def keyword(self, question: str, k: int, allowed: list[int] | None = None
                ) -> list[tuple[int, float]]:
        """(rowid, BM25 score, higher is better) of the best keyword matches."""
        q = self.keyword_query(question)
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
                         ) -> dict[int, list[tuple[float, str]]]:
        if not rowids:
            return {}
        q = ",".join(str(int(r)) for r in rowids)
        rows = self.store.db.execute(
            f"SELECT id, passage_rowid, text FROM sentences WHERE passage_rowid IN ({q}) "
            "ORDER BY id").fetchall()
        if not rows:
            return {}
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64)
        vecs = np.asarray(self.store.sentence_vectors[ids], dtype=np.float32)
        sims = vecs @ qvec
        out: dict[int, list[tuple[float, str]]] = {}
        for (_, pr, text), s in zip(rows, sims):
            out.setdefault(pr, []).append((float(s), text))
        return out

    def _term_weights(self, question: str) -> dict[str, float]:
        """Topical terms of the question (stemmed) with IDF weights from the index."""
        weights: dict[str, float] = {}
        for t in content_terms(question):
            st = stem(t)
            df = self._df(t)
            weights[st] = math.log(1 + self._idf_n / (1 + df))
        return weights

    @lru_cache(maxsize=4096)  # noqa: B019 — one Searcher lives for the process
    def _df(self, term: str) -> int:
        try:
            row = self.store.db.execute(
                "SELECT count(*) FROM passages_fts WHERE passages_fts MATCH ?",
                ['"' + term.replace('"', "") + '"']).fetchone()
            return int(row[0])
        except Exception:  # noqa: BLE001
            return 0

    def _coverage(self, weights: dict[str, float], groups: list[tuple[str, ...]],
                  p: Passage) -> float:
        """IDF-weighted share of the question's terms the passage contains; a term
        also counts as present when a glossary equivalent is."""
        if not weights:
            return 0.0
        text = p.text + " " + " ".join(p.section)
        pst = {stem(t) for t in tokens(text)}
        low = text.lower()
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

    # -- the answer ---------------------------------------------------------------
    def ask(self, question: str, *, top_k: int = 5, filters: Filters | None = None,
            history: list[str] | None = None, qid: str | None = None) -> Answer:
        """Answer one question: ranked cited passages, or an abstention with the
        nearest passages."""
        filters = filters or Filters()
        cfg = self.config
        searched = contextualise(question, history)
        qvec = self.embedder.encode([searched])[0]
        allowed = self._filtered_rowids(filters)
        dense = self.dense(qvec, cfg.candidates, allowed)
        kw = self.keyword(searched, cfg.candidates, allowed)
        dr = {r: i for i, (r, _) in enumerate(dense)}
        kr = {r: i for i, (r, _) in enumerate(kw)}
        ds = dict(dense)
        ks = dict(kw)
        cand = list(dict.fromkeys([r for r, _ in dense] + [r for r, _ in kw]))
        if not cand:
            return Answer(question, (), True, 0.0, qid, searched, self.store.build_id)
        passages = self.store.passages(cand)
        # Dense scores for keyword-only candidates.
        missing = [r for r in cand if r not in ds]
        if missing:
            vecs = np.vstack([self.store.faiss.reconstruct(int(r) - 1) for r in missing])
            for r, s in zip(missing, vecs @ qvec):
                ds[r] = float(s)
        sents = self._sentence_scores(cand, qvec)
        prof = profile(question)
        weights = self._term_weights(searched)
        groups = [g for _, g in glossary().matches(searched)]
        kmax = max(ks.values()) if ks else 1.0
        scored = []
        for r in cand:
            p = passages.get(r)
            if p is None:
                continue
            ss = sents.get(r, [(ds[r], p.text)])
            best_s = max(s for s, _ in ss)
            rrf = 1 / (cfg.rrf_k + dr.get(r, cfg.candidates)) + 1 / (
                cfg.rrf_k + kr.get(r, cfg.candidates))
            cov = self._coverage(weights, groups, p)
            bm = ks.get(r, 0.0) / kmax if kmax > 0 else 0.0
            score = (cfg.w_sentence * best_s + cfg.w_dense * ds[r] + cfg.w_bm25 * bm
                     + cfg.w_coverage * cov + cfg.w_rrf * rrf)
            if prof.wants_figure and (p.kind == "table" or has_figure(p.text)):
                score += cfg.figure_bonus
            if prof.wants_recommendation and p.kind == "recommendation":
                score += cfg.kind_bonus
            if prof.wants_judgment and p.kind == "judgment":
                score += cfg.kind_bonus
            if p.kind == "summary" and not prof.wants_judgment:
                score -= cfg.summary_penalty
            if p.kind == "note":
                score -= cfg.note_penalty
            feats = {"sentence": best_s, "dense": ds[r], "bm25": bm, "coverage": cov,
                     "rrf": rrf}
            scored.append((score, r, p, ss, feats))
        scored.sort(key=lambda x: -x[0])
        picked = self._diversify(scored, top_k, question)
        hits = []
        for rank, (score, r, p, ss, feats) in enumerate(picked, 1):
            hl = best_sentences(ss, question, k=2)
            hits.append(Hit(p, float(score), hl, rank, feats))
        abstained, conf = self._abstain(question, prof, hits, weights, groups)
        return Answer(question, tuple(hits), abstained, conf, qid, searched,
                      self.store.build_id)

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

    def _abstain(self, question, prof, hits, weights, groups) -> tuple[bool, float]:
        """Whether no passage answers, and a confidence in [0, 1] that one does."""
        from retrieval.abstain import abstain_features, decide

        feats = abstain_features(question, prof, hits, weights, groups, self.store)
        return decide(feats, self.config.abstain)


def _phrase_in(phrase: str, low_text: str) -> bool:
    return re.search(r"\b" + re.escape(phrase.lower()) + r"\b", low_text) is not None


def _overlap(a: str, b: str) -> float:
    """Share of the shorter text's word trigrams that the other text also has."""
    def grams(t: str) -> set[tuple[str, ...]]:
        w = tokens(t)
        return {tuple(w[i:i + 3]) for i in range(max(0, len(w) - 2))}
    ga, gb = grams(a), grams(b)
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
