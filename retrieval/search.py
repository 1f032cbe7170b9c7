"""Answering a question: the question is read once into a :class:`~retrieval.query.Query`
(retrieval/understand.py); dense (FAISS) and keyword (tantivy BM25) candidates are pooled
with their ranking features (retrieval/candidates.py, retrieval/features.py) and ranked
by a linear ranker, near-duplicates removed (retrieval/ranking.py); the abstention model
decides whether any passage answers and, when none does, says why
(retrieval/abstain.py). A question asked across reports gets one row per report
(retrieval/comparison.py). :class:`Searcher` runs these steps; each module owns one.

A question asked after another is read with it only when its form leans on it (a
connective, an ellipsis, a word pointing back: retrieval/followup.py); the answer says
which reading was used.

The model and index load once (see :func:`get_searcher`); one query costs one or two
embeddings (~20 ms each) plus cheap arithmetic over at most a few hundred candidates."""

from __future__ import annotations

import gc
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from core.thread_pool import ThreadPool
from retrieval import abstain, candidates, comparison
from retrieval.answer import Answer, Comparison, Filters, Hit
from retrieval.candidates import Candidate
from retrieval.config import SearchConfig
from retrieval.embedding_cache import EmbeddingCache
from retrieval.followup import choose_reading, leans_on_previous
from retrieval.query import Query
from retrieval.ranking import ranked_hits
from retrieval.recent import Recent
from retrieval.relevance import match_word
from retrieval.scope import Scope, resolve
from retrieval.short_answer import with_short_answer
from retrieval.store import Store
from retrieval.understand import query_texts, understand

#: Questions whose readings, scopes and passages' scores are kept (Searcher.understand,
#: Searcher.scope, Searcher.candidates): a comparison's, and a user's question asked
#: again with other filters.
MEMO_QUESTIONS = 4
#: Threads that run keyword searches beside dense ones (shared by every Searcher).
_POOL = ThreadPool(2, "reportqa-keyword")


class Searcher:
    """Search over one loaded index with one embedder."""

    def __init__(self, store: Store, embedder, config: SearchConfig | None = None):
        store.check_model(embedder.name)
        import faiss

        # One query scans with one thread: with two cores shared by the web server and
        # the embedding model, FAISS's OpenMP threads cost more than they gain.
        faiss.omp_set_num_threads(1)
        # numpy's BLAS too: an answer's products are small (a vocabulary by a few
        # words at most), and OpenBLAS's idle workers spin after each one, taking the
        # second core from the keyword search and the model (the real filings'
        # questions, interleaved in one process: p95 45.0 -> 37.7 ms, CPU an answer
        # 35.4 -> 23.6 ms). Process-wide, as FAISS's setting is.
        threadpool_limits(limits=1, user_api="blas")
        self.store = store
        self.embedder = embedder
        self.config = config or SearchConfig.fitted(store.model)
        self._vectors = EmbeddingCache(embedder)
        # Per recent question: its reading, its scope, and what its searches learnt of
        # each passage they reached (candidates.Memo): a comparison searches each
        # report again, and respond reads the question before searching.
        self._readings = Recent(MEMO_QUESTIONS)
        self._memos = Recent(MEMO_QUESTIONS)
        self._scopes = Recent(MEMO_QUESTIONS)

    def warm_up(self) -> None:
        """Load what the first question would otherwise wait for: the model (each of
        its sessions), the index's speller, the English word list, the vocabulary's
        vectors and each passage's report, kind and section (for filters); then
        :meth:`settle`."""
        warm = getattr(self.embedder, "warm_up", None)
        if warm is not None:
            warm()
        self.store.lexicon.warm_up()
        _ = self.store.vocab_matrix
        _ = self.store.facets
        self.ask("warm up", top_k=1)
        self.settle()

    @staticmethod
    def settle() -> None:
        """Keep what is loaded now (the index's lexicon and reports, the spellers, the
        model) out of the garbage collector's full passes (gc.freeze): those passes
        scanned all of it, 40-60 ms taken by whichever question came when one ran (the
        slow tail at 100k passages). Call it once the process has answered a question."""
        gc.freeze()

    def embed(self, texts: list[str]) -> list[np.ndarray]:
        """Vectors of texts by the index's embedding model, in one batch for those not
        embedded before (cached: a question's texts are asked for at several steps)."""
        return self._vectors.of(texts)

    # -- understanding and candidates ------------------------------------------------
    def understand(self, question: str, context: str | None = None) -> Query:
        """The question read against this index (retrieval/understand.py); the last few
        readings are kept, since answering a question reads it at several steps (a
        comparison and its fallback answer, retrieval/respond.py)."""
        return self._readings.get((question, context), lambda: understand(
            self.store, self.embed, question, context))

    def dense(self, qvec: np.ndarray, k: int, filters: Filters | None = None,
              allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(rowid, cosine) of the k nearest passages among those the filters allow
        (retrieval/candidates.py)."""
        return candidates.dense(self.store, qvec, k, filters, allowed)

    def keyword_query(self, query: Query) -> str:
        """The keyword query: the question's words and their equivalents, ORed phrases."""
        return candidates.keyword_query(self.store, query)

    def keyword(self, query: Query, k: int, filters: Filters | None = None
                ) -> list[tuple[int, float]]:
        """(rowid, BM25 score) of the best keyword matches among those the filters
        allow (retrieval/candidates.py)."""
        return candidates.keyword(self.store, query, k, filters)

    def candidates(self, query: Query, *, filters: Filters | None = None,
                   k: int | None = None) -> list[Candidate]:
        """Candidate passages with their ranking features (before scoring): the `k`
        best of each search (the fitted number when not given)."""
        filters = filters or Filters()
        k = k or self.config.candidates
        # The text abstention embeds later goes in this batch too (after bridging it
        # can differ from those understand() embedded): one model call, not two.
        full, reduced = query_texts(query)
        qvec = self.embed([full] + ([reduced] if reduced else []))[0]
        # The keyword search runs beside the dense one (both release the GIL): on two
        # cores a question waits for the slower of the two, not their sum; and the
        # dense hits are read while it runs.
        kw_future = _POOL.submit(self.keyword, query, k, filters)
        dense = self.dense(qvec, k, filters)
        memo = self._memos.get(query, dict)
        done = candidates.read(self.store, [r for r, _ in dense], qvec, memo)
        return candidates.pooled(self.store, query, qvec, dense, kw_future.result(), memo,
                                 done)

    def scope(self, query: Query) -> Scope:
        """What the question is about among the indexed reports (retrieval/scope.py);
        kept for the last few questions: answering one reads its scope two or three
        times (respond, the comparison, the answer), 0.6-1.2 ms each on the filings."""
        typed = f"{query.context} {query.question}" if query.context else query.question
        return self._scopes.get(query, lambda: resolve(
            query.text, self.store.reports, self.store.lexicon, self.store.mentions,
            typed=typed, bodies=self.store.bodies))

    def scoped_candidates(self, query: Query, filters: Filters | None = None
                          ) -> tuple[Scope, list[Candidate]]:
        """The question's scope and its candidates: from the reports it names, when it
        names some the index holds (the user's own report, force or year filters win)."""
        scope = self.scope(query)
        return scope, self.candidates(query, filters=scope.narrowed(filters or Filters()))

    # -- the answer ---------------------------------------------------------------
    def ask(self, question: str, *, top_k: int = 5, filters: Filters | None = None,
            history: list[str] | None = None, qid: str | None = None,
            follow_up: bool | None = None) -> Answer:
        """Answer one question: ranked cited passages, or an abstention (with the
        nearest passages and a reason), and its short answer. With `history`, a
        question that leans on the last turn ("and for burglary?", "is it improving?")
        is read with it, one that names its own subject alone (see
        retrieval.followup.choose_reading); `follow_up=False` reads it alone, `True`
        always with the previous turn. A question in several parts gets a short answer
        with a sentence for each part (retrieval/short_answer.py)."""
        previous = history[-1].strip() if history else None
        if not previous or follow_up is False or (
                follow_up is None and not leans_on_previous(question, previous)):
            # A question that stands alone is never read the other way: its joined
            # reading could not be chosen, so it is not searched.
            answer = self._answer(question, None, top_k, filters, qid)
        else:
            joined = self._answer(question, previous, top_k, filters, qid)
            if follow_up:
                answer = joined
            else:
                alone = self._answer(question, None, top_k, filters, qid)
                answer = choose_reading(question, alone, joined)
        return with_short_answer(answer, self)

    def _answer(self, question: str, context: str | None, top_k: int,
                filters: Filters | None, qid: str | None) -> Answer:
        query = self.understand(question, context)
        filters = filters or Filters()
        scope, cands = self.scoped_candidates(query, filters)
        return self.answer_from(query, cands, top_k=top_k, filtered=filters.active, qid=qid,
                                scope=scope)

    def compare(self, question: str, *, filters: Filters | None = None,
                qid: str | None = None, query: Query | None = None) -> Comparison:
        """A question asked across reports: for each report in scope (the filters, and
        the bodies, years and programme the question names), the report's passage that
        answers it, with its highlight, figure and, for questions about grades, the
        graded judgment (retrieval/comparison.py). `query`: the question as
        :meth:`understand` read it, when already read."""
        return comparison.compare(self, question, filters, qid, query)

    def answer_from(self, query: Query, cands: list[Candidate], *, top_k: int,
                    filtered: bool = False, qid: str | None = None,
                    config: SearchConfig | None = None, scope: Scope | None = None) -> Answer:
        """Rank candidates and decide on abstention (`config` overrides the ranker and
        abstention model: cross-validation scores fitted models this way). A `scope`
        that names a body, year or programme with no report abstains with that reason:
        the nearest passages, from other reports, are shown as such. The answer has no
        short answer yet (Searcher.ask makes it)."""
        a = self._ranked(query, cands, top_k=top_k, filtered=filtered, qid=qid,
                         config=config)
        if scope is None:
            return a
        if scope.missing:
            weak = tuple(replace(h, match="weak") for h in a.hits)
            return replace(a, abstained=True, confidence=min(a.confidence, 0.05), hits=weak,
                           reason=scope.missing, scope=scope.to_dict())
        return replace(a, scope=scope.to_dict()) if scope.narrows or scope.compare else a

    def _ranked(self, query: Query, cands: list[Candidate], *, top_k: int,
                filtered: bool, qid: str | None, config: SearchConfig | None) -> Answer:
        cfg = config or self.config
        base = dict(question=query.question, id=qid, searched_as=query.text,
                    build_id=self.store.build_id, follow_up_of=query.context,
                    corrections=query.corrections)
        if not cands:
            why = ("the filters leave no passage" if filtered
                   else abstain.reason_for(query, {}, ()))
            return Answer(hits=(), abstained=True, confidence=0.0, reason=why, **base)
        # The near-duplicate threshold is the searcher's own: it is never fitted.
        hits: list[Hit] = ranked_hits(self.store, query, cands, cfg.weights, top_k,
                                      self.config.dup_threshold)
        signals, alignment = abstain.signals(query, hits, self.store, self.embed)
        abstained, conf = abstain.decide(signals, cfg.abstain, query)
        hits = [replace(h, match=match_word(h.score, cfg.relevance, abstained)) for h in hits]
        why = abstain.reason_for(query, signals, hits, alignment) if abstained else None
        return Answer(hits=tuple(hits), abstained=abstained, confidence=conf, reason=why,
                      signals=signals, **base)


_SEARCHERS: dict[tuple[str, str, str], Searcher] = {}
_SEARCHERS_LOCK = threading.Lock()


def get_searcher(index_dir: Path, model: str | None = None) -> Searcher:
    """The process-wide Searcher for an index (reloaded when a new build is swapped in)."""
    from ingest.embed import get_embedder
    from ingest.index_format import current_build_dir

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
