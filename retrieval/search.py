"""Answering a question: the question is read once into a :class:`~retrieval.query.Query`;
dense (FAISS) and keyword (tantivy BM25) candidates are pooled and scored by a
linear ranker over a few features; near-duplicates are removed; the abstention model
decides whether any passage answers and, when none does, says why.

A question asked after another is read with it only when its form leans on it (a
connective, an ellipsis, a word pointing back: retrieval/followup.py); the answer says
which reading was used.

The model and index load once (see :func:`get_searcher`); one query costs one or two
embeddings (~20 ms each) plus cheap arithmetic over at most a few hundred candidates."""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from core.models import Passage
from retrieval.abstain import abstain_features, decide, reason_for
from retrieval.answer import Answer, Comparison, ComparisonRow, Filters, Hit
from retrieval.answerability import align
from retrieval.highlight import best_sentences
from retrieval.query import Query, bridgeable, bridged, parse
from retrieval.relevance import match_word
from retrieval.scope import Scope, resolve
from retrieval.store import Store
from retrieval.text import has_figure, has_number, stem, tokens

#: Hand-set ranking weights, the fallback when data/ranker.json is absent. The
#: similarity of the best sentence and of the passage carry most of the weight;
#: keyword evidence and what-the-question-wants cues adjust.
DEFAULT_WEIGHTS = {
    "sentence": 0.45, "sentence2": 0.0, "dense_rr": 0.0, "kw_rr": 0.0, "dense": 0.35,
    "bm25": 0.15, "coverage": 0.20, "figure": 0.05, "fig_focus": 0.15, "kind_match": 0.08,
    "summary": -0.08, "note": -0.06, "boilerplate": -0.10, "hint": 0.10,
}
#: A sentence that is itself a question (a report restating its inspection questions)
#: echoes the user's question without answering it: its similarity is scaled by this.
QUESTION_SENTENCE_DISCOUNT = 0.7
#: Nearest corpus words for a question word the corpus never uses: at most this many,
#: each at least this similar ("happy" → "satisfied").
BRIDGE_K, BRIDGE_MIN = 2, 0.6
#: Words in more than this share of passages ("police", "force") add little to BM25
#: but dominate its cost on a large index (measured: keyword p95 halves at 100k);
#: their weight still counts in term coverage. Applied from this many passages up.
COMMON_TERM_SHARE, COMMON_TERM_MIN_INDEX = 0.3, 1000
#: Threads that run keyword searches beside dense ones (shared by every Searcher).
_POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="reportqa-keyword")
#: Question vectors kept for reuse (a follow-up's two readings, evaluation runs).
EMBED_CACHE = 4096
#: A word in at least this share of passages is setting, not subject ("crime" in a
#: crime inspection, the force's own name).
SUBJECT_MAX_SHARE = 0.5
#: Sections that describe the inspection itself rather than what it found.
_BOILERPLATE = re.compile(
    r"^\W*(introduction|methodology|method|about (?:this|the) (?:inspection|report)|"
    r"what each judg(?:e)?ment means|judg(?:e)?ments? explained|terms of reference|"
    r"scope(?: of the inspection)?|glossary|annex\b.*|appendix\b.*|contents|"
    r"background|definitions)\W*$", re.I)
_EACH_REPORT = re.compile(r"\b(each|every|all|different|across|compare\w*)\s+(forces?|"
                          r"reports?|areas?|constabular\w+)\b", re.I)


def is_boilerplate(p: Passage) -> bool:
    """Whether a passage describes the inspection (introduction, methodology, what the
    grades mean) rather than the inspected body."""
    return any(_BOILERPLATE.match(s) for s in p.section)


def _load_json(name: str, model: str | None = None) -> dict:
    """A fitted model file from retrieval/data: the one fitted for this embedding model
    (`ranker.<model>.json`) when there is one, else the default's."""
    data = resources.files("retrieval").joinpath("data")
    stem, _, ext = name.rpartition(".")
    for candidate in ([f"{stem}.{model}.{ext}"] if model else []) + [name]:
        try:
            return json.loads(data.joinpath(candidate).read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            continue
    return {}


@dataclass
class _Candidate:
    rowid: int
    passage: Passage
    sentences: list
    feats: dict


@dataclass
class SearchConfig:
    """Knobs of the ranker (fitted by `reportqa-fit calibrate`; see README
    "How answers are found"). :meth:`fitted` loads those fitted for a model."""

    candidates: int = 60
    #: Linear weights over the candidate features computed in Searcher.candidates.
    weights: dict = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    dup_threshold: float = 0.93
    #: Abstention model (logistic) parameters.
    abstain: dict = field(default_factory=dict)
    #: A follow-up is read with the previous question only when that reading's
    #: confidence beats the question alone by this much (or it opens as a continuation).
    follow_up_margin: float = 0.0
    #: Score thresholds of the relevance words (retrieval/relevance.py).
    relevance: dict = field(default_factory=dict)

    @classmethod
    def fitted(cls, model: str | None = None) -> SearchConfig:
        """The ranker and abstainer shipped in retrieval/data for an embedding model."""
        ranker, abstain = _load_json("ranker.json", model), _load_json("abstain.json", model)
        words = _load_json("relevance.json", model)
        if model and words.get("model") not in (None, model):
            words = {}  # fitted on another model's score scale: no words beat wrong ones
        return cls(weights=dict(ranker.get("weights") or DEFAULT_WEIGHTS), abstain=abstain,
                   follow_up_margin=float(abstain.get("follow_up_margin", 0.0)),
                   relevance={k: words[k] for k in ("strong", "partial") if k in words})


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
        self.config = config or SearchConfig.fitted(store.model)
        self._vectors: dict[str, np.ndarray] = {}
        self._vectors_lock = threading.Lock()

    def warm_up(self) -> None:
        """Load what the first question would otherwise wait for: the model, the
        index's speller and the English word list."""
        self.store.lexicon.warm_up()
        self.ask("warm up", top_k=1)

    # -- understanding --------------------------------------------------------------
    def understand(self, question: str, context: str | None = None) -> Query:
        """The question read against this index (see retrieval/query.py). Everything
        it needs embedded — itself, without its absent words, its subject, the absent
        words (for their nearest corpus words) — goes to the model in one batch."""
        reports = self.store.reports
        query = parse(question, self.store.lexicon, context=context,
                      indexed_forces=tuple(r.force for r in reports if r.force),
                      report_years=tuple(r.year for r in reports if r.year))
        words = bridgeable(query)
        self._embed_all([t for t in self._query_texts(query) if t] + words)
        return bridged(query, self._bridge(words)) if words else query

    def _bridge(self, words: list[str]) -> dict[str, tuple[float, tuple[str, ...]]]:
        """For question words the corpus never uses: the similarity of the nearest
        corpus word by the embedding model, and the nearest words close enough to
        stand in for them in search."""
        vv = self.store.vocab_vectors
        if vv is None or not words or not len(self.store.vocab):
            return {}
        tv = np.vstack(self._embed_all(words))
        sims = np.asarray(vv @ tv.T, dtype=np.float32)  # (vocab, words)
        out = {}
        k = min(BRIDGE_K, len(self.store.vocab) - 1)
        for i, w in enumerate(words):
            col = sims[:, i]
            top = np.argpartition(-col, k)[:BRIDGE_K]
            top = top[np.argsort(-col[top])]
            out[w] = (float(col[top[0]]),
                      tuple(self.store.vocab[j] for j in top if col[j] >= BRIDGE_MIN))
        return out

    # -- candidate generation -------------------------------------------------
    def dense(self, qvec: np.ndarray, k: int, filters: Filters | None = None,
              allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """(rowid, cosine) of the k nearest passages (among those the filters allow:
        a FAISS ID selector, so only allowed vectors are scored)."""
        import faiss

        index = self.store.faiss
        if index.ntotal == 0:
            return []
        params = bitmap = None
        if filters is not None and filters.active:
            if allowed is None:
                n_allowed, bitmap = self.store.allowed(filters)
            else:
                n_allowed = len(allowed)
            if not n_allowed:
                return []
            if bitmap is None:
                mask = np.zeros(index.ntotal, dtype=bool)
                pos = self.store.positions(allowed)
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
        rowids = self.store.rowids
        return [(int(rowids[p]), float(s)) for s, p in zip(d[0], i[0]) if p >= 0]

    def keyword_query(self, query: Query) -> str:
        """The keyword query: the question's words and their equivalents, ORed phrases."""
        phrases = set()
        n = max(1, self.store.faiss.ntotal)
        for t in query.terms:
            if n >= COMMON_TERM_MIN_INDEX and t.df > COMMON_TERM_SHARE * n:
                continue
            phrases.add(t.word)
        for g in query.groups:
            phrases.update(x.lower() for x in g)
        parts = []
        for ph in sorted(phrases):
            toks = re.findall(r"[a-z0-9]+", ph.lower())
            if toks:
                parts.append('"' + " ".join(toks) + '"')
        return " OR ".join(parts)

    def keyword(self, query: Query, k: int, filters: Filters | None = None
                ) -> list[tuple[int, float]]:
        """(rowid, BM25 score, higher is better) of the best keyword matches (among
        those the filters allow: report-level filters and kinds go to the keyword index
        as term sets; a section filter is checked on the hits, fetching more)."""
        q = self.keyword_query(query)
        if not q:
            return []
        if filters is None or not filters.active:
            return self.store.keywords.search(q, k)
        hits = self.store.keywords.search(q, k if not filters.section else k * 8,
                                          self.store.report_scope(filters),
                                          filters.kinds or None)
        if filters.section:
            ok = self.store.allows(filters, [r for r, _ in hits])
            hits = [h for h, keep in zip(hits, ok) if keep]
        return hits[:k]

    # -- scoring ----------------------------------------------------------------
    def _sentence_scores(self, rowids: list[int], qvec: np.ndarray
                         ) -> dict[int, list[tuple[float, str]]]:
        """Per passage: (similarity to the question, sentence) for each sentence."""
        if not rowids:
            return {}
        rows = self.store.sentences(rowids)
        if not rows:
            return {}
        sims = np.vstack([v for _, _, v in rows]) @ qvec
        out: dict[int, list[tuple[float, str]]] = {}
        for (pr, text, _), sim in zip(rows, sims):
            if text.rstrip().endswith("?"):
                sim *= QUESTION_SENTENCE_DISCOUNT
            out.setdefault(pr, []).append((float(sim), text))
        return out

    def _embed_all(self, texts: list[str]) -> list[np.ndarray]:
        """Vectors of several texts, in one batch for those not embedded before (one
        question needs up to three: itself, without its absent words, its subject)."""
        cache = self._vectors
        with self._vectors_lock:
            found = {t: cache[t] for t in texts if t in cache}
        todo = [t for t in dict.fromkeys(texts) if t not in found]
        if todo:
            found.update(zip(todo, self.embedder.encode(todo)))
            with self._vectors_lock:
                cache.update((t, found[t]) for t in todo)
                while len(cache) > EMBED_CACHE:
                    cache.pop(next(iter(cache)))
        return [found[t] for t in texts]

    def _query_texts(self, query: Query) -> tuple[str, str | None, str | None]:
        """The question, the question without its absent words, and its subject."""
        absent = {t.word for t in query.absent}
        reduced = None
        if absent:
            kept = [w for w in query.embed_text.split() if w.lower().strip("()") not in absent]
            reduced = " ".join(kept) or None
        n = max(1, self.store.faiss.ntotal)
        subject = [t.word for t in query.terms if t.df < SUBJECT_MAX_SHARE * n]
        return query.embed_text, reduced, query.embed_text_of(subject) if subject else None

    def _best_sentence(self, hits: list[Hit], text: str | None, n: int) -> float | None:
        if text is None or not hits:
            return None
        rowids = self.store.rowids_of([h.passage.passage_id for h in hits[:n]])
        ss = self._sentence_scores(rowids, self._embed_all([text])[0])
        return max((x for v in ss.values() for x, _ in v), default=0.0)

    def _absent_gain(self, query: Query, hits: list[Hit]) -> float:
        """How much the question's absent words add to its match with the best
        passages: the best sentence similarity of the full question minus that of the
        question without them. Wording the reports phrase differently ("happy" for
        satisfied) adds a lot; a subject they never cover ("hate crime") adds nothing,
        however well the rest of the question matches."""
        full, reduced, _ = self._query_texts(query)
        if reduced is None:
            return 0.0
        return self._best_sentence(hits, full, 3) - self._best_sentence(hits, reduced, 3)

    def _subject_sim(self, query: Query, hits: list[Hit]) -> float:
        """Best sentence similarity, over the top passages, of the question's subject
        alone: its words that are not common to most passages (a report's own force
        name, "crime", "police") — what is left once the frame and the setting are
        taken away must still be matched."""
        return self._best_sentence(hits, self._query_texts(query)[2], 5) or 0.0

    def _coverage(self, query: Query, p: Passage) -> float:
        """IDF-weighted share of the question's terms the passage contains; a term
        also counts as present when an equivalent or related word is."""
        weights = query.weights
        if not weights:
            return 0.0
        pst, low = self._passage_terms(p)
        got = 0.0
        for t in query.terms:
            if t.stem in pst or any(_phrase_in(x, low) for x in t.equivalents + t.related):
                got += weights[t.stem]
                weights = {**weights, t.stem: 0.0}  # a stem counts once
        return got / sum(query.weights.values())

    @lru_cache(maxsize=100_000)  # noqa: B019 — one Searcher lives for the process
    def _passage_terms(self, p: Passage) -> tuple[frozenset[str], str]:
        text = p.text + " " + " ".join(p.section)
        return frozenset(stem(t) for t in tokens(text)), text.lower()

    def candidates(self, query: Query, *, filters: Filters | None = None) -> list[_Candidate]:
        """Candidate passages with their ranking features (before scoring)."""
        filters = filters or Filters()
        cfg = self.config
        full, reduced, subject = self._query_texts(query)
        qvec = self._embed_all([full] + [t for t in (reduced, subject) if t])[0]
        # The keyword search runs beside the dense one (both release the GIL): on two
        # cores a question waits for the slower of the two, not their sum.
        kw_future = _POOL.submit(self.keyword, query, cfg.candidates, filters)
        dense = self.dense(qvec, cfg.candidates, filters)
        kw = kw_future.result()
        ds, ks = dict(dense), dict(kw)
        dr, kr = _ranks(dense), _ranks(kw)
        cand = list(dict.fromkeys([r for r, _ in dense] + [r for r, _ in kw]))
        if not cand:
            return []
        passages = self.store.passages(cand)
        missing = [r for r in cand if r not in ds]
        if missing:  # dense scores for keyword-only candidates
            vecs = np.vstack([self.store.vector(r) for r in missing])
            for r, sim in zip(missing, vecs @ qvec):
                ds[r] = float(sim)
        sents = self._sentence_scores(cand, qvec)
        kmax = max(ks.values()) if ks else 1.0
        weights = query.weights
        total_w = sum(weights.values()) or 1.0
        wants_figure = "figure" in query.wants
        out = []
        for r in cand:
            p = passages.get(r)
            if p is None:
                continue
            ss = sents.get(r) or [(ds[r], p.text)]
            fig_focus = 0.0
            if wants_figure:
                # The question's terms beside a number in one sentence or table row —
                # where the figure asked for would be.
                for _, text in ss:
                    if has_number(text):
                        st = {stem(t) for t in tokens(text)}
                        fig_focus = max(fig_focus, sum(w for k, w in weights.items()
                                                       if k in st) / total_w)
            sims = sorted((x for x, _ in ss), reverse=True)
            feats = {
                "sentence": sims[0],
                "sentence2": sum(sims[:2]) / min(2, len(sims)),
                "dense_rr": 1 / (1 + dr[r]) if r in dr else 0.0,
                "kw_rr": 1 / (1 + kr[r]) if r in kr else 0.0,
                "dense": ds[r],
                "bm25": ks.get(r, 0.0) / kmax if kmax > 0 else 0.0,
                "coverage": self._coverage(query, p),
                "figure": float(wants_figure and (p.kind == "table" or has_figure(p.text))),
                "fig_focus": fig_focus,
                "kind_match": float((query.wants_recommendation and p.kind == "recommendation")
                                    or ("grade" in query.wants and p.kind == "judgment")),
                "summary": float(p.kind == "summary" and "grade" not in query.wants),
                "note": float(p.kind == "note"),
                "boilerplate": float(is_boilerplate(p) and not query.about_inspection),
                "hint": _hint_share(query.hints, p),
            }
            out.append(_Candidate(r, p, ss, feats))
        return out

    # -- the answer ---------------------------------------------------------------
    def ask(self, question: str, *, top_k: int = 5, filters: Filters | None = None,
            history: list[str] | None = None, qid: str | None = None,
            follow_up: bool | None = None) -> Answer:
        """Answer one question: ranked cited passages, or an abstention (with the
        nearest passages and a reason). With `history`, a question that leans on the
        last turn ("and for burglary?", "is it improving?") is read with it, one that
        names its own subject alone (see :func:`choose_reading`); `follow_up=False`
        reads it alone, `True` always with the previous turn. A question in several
        parts gets a short answer with a sentence for each part
        (retrieval/short_answer.py)."""
        from retrieval.followup import leans_on_previous
        from retrieval.short_answer import with_short_answer

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
                answer = choose_reading(question, alone, joined,
                                        self.config.follow_up_margin)
        return with_short_answer(answer, self)

    def _answer(self, question: str, context: str | None, top_k: int,
                filters: Filters | None, qid: str | None) -> Answer:
        query = self.understand(question, context)
        filters = filters or Filters()
        scope, cands = self.scoped_candidates(query, filters)
        return self.answer_from(query, cands, top_k=top_k, filtered=filters.active, qid=qid,
                                scope=scope)

    def scoped_candidates(self, query: Query, filters: Filters | None = None
                          ) -> tuple[Scope, list[_Candidate]]:
        """The question's scope and its candidates: from the reports it names, when it
        names some the index holds (the user's own report, force or year filters win)."""
        scope = self.scope(query)
        return scope, self.candidates(query, filters=scope.narrowed(filters or Filters()))

    def scope(self, query: Query) -> Scope:
        """What the question is about among the indexed reports (retrieval/scope.py)."""
        typed = f"{query.context} {query.question}" if query.context else query.question
        return resolve(query.text, self.store.reports, self.store.lexicon,
                       self.store.mentions, typed=typed)

    def compare(self, question: str, *, filters: Filters | None = None,
                qid: str | None = None) -> Comparison:
        """A question asked across reports: for each report in scope (the filters, and
        the bodies, years and programme the question names), the report's passage that
        answers it — the finding itself rather than a summary restating it — with its
        highlight, figure and, for questions about grades, the graded judgment."""
        query = self.understand(question)
        scope = self.scope(query)
        base = dict(question=question, id=qid, searched_as=query.text,
                    build_id=self.store.build_id)
        if scope.missing:
            return Comparison(rows=(), reason=scope.missing, **base)
        filters = scope.narrowed(filters or Filters())
        reports = {r.report_id: r for r in self.store.reports}
        latest = self.store.latest
        rows = []
        for rid in self.store.report_ids_where(filters):
            rep = reports[rid]
            a = self.answer_from(query, self.candidates(
                query, filters=replace(filters, report_ids=(rid,))), top_k=3, filtered=True)
            hit = _finding(a.hits, query)
            fig, unit = _figure(hit.highlight) if hit else (None, None)
            grade, of = _judgment(query, rep) if "grade" in query.wants else (None, None)
            rows.append(ComparisonRow(
                report_id=rid, title=rep.title, force=rep.force, year=rep.year,
                programme=rep.family, hit=hit, answers=bool(hit) and not a.abstained,
                confidence=a.confidence, judgment=grade, judgment_of=of, figure=fig,
                unit=unit, latest=latest.get(rid, True)))
        rows.sort(key=lambda r: (r.force, r.year or 0, r.title))
        reason = None if rows else "the filters leave no report"
        return Comparison(rows=tuple(rows), reason=reason, **base)

    def answer_from(self, query: Query, cands: list[_Candidate], *, top_k: int,
                    filtered: bool = False, qid: str | None = None,
                    config: SearchConfig | None = None, scope: Scope | None = None) -> Answer:
        """Rank candidates and decide on abstention (`config` overrides the ranker and
        abstention model: cross-validation scores fitted models this way). A `scope`
        that names a body, year or programme with no report abstains with that reason:
        the nearest passages, from other reports, are shown as such."""
        a = self._ranked(query, cands, top_k=top_k, filtered=filtered, qid=qid,
                         config=config)
        if scope is None:
            return a
        if scope.missing:
            weak = tuple(replace(h, match="weak") for h in a.hits)
            return replace(a, abstained=True, confidence=min(a.confidence, 0.05), hits=weak,
                           reason=scope.missing, scope=_scope_dict(scope))
        return replace(a, scope=_scope_dict(scope)) if scope.narrows or scope.compare else a

    def _ranked(self, query: Query, cands: list[_Candidate], *, top_k: int,
                filtered: bool, qid: str | None, config: SearchConfig | None) -> Answer:
        cfg = config or self.config
        base = dict(question=query.question, id=qid, searched_as=query.text,
                    build_id=self.store.build_id, follow_up_of=query.context,
                    corrections=query.corrections)
        if not cands:
            why = "the filters leave no passage" if filtered else reason_for(query, {}, ())
            return Answer(hits=(), abstained=True, confidence=0.0, reason=why, **base)
        w = cfg.weights
        scored = sorted(((sum(w.get(k, 0.0) * v for k, v in c.feats.items()), c.rowid,
                          c.passage, c.sentences, c.feats) for c in cands),
                        key=lambda x: (-round(x[0], 9), x[2].passage_id))
        picked = self._diversify(scored, top_k, query.question)
        hits = []
        for rank, (score, _r, p, ss, feats) in enumerate(picked, 1):
            hits.append(Hit(p, float(score), best_sentences(ss, query), rank, feats))
        absent = " ".join(t.word for t in query.absent) or None
        signals = abstain_features(query, hits) | {
            "absent_gain": self._absent_gain(query, hits),
            "subject_sim": self._subject_sim(query, hits),
            "absent_sim": self._best_sentence(hits, absent, 5) or 0.0}
        alignment = align(self, query, hits, SUBJECT_MAX_SHARE)
        signals |= alignment.features
        abstained, conf = decide(signals, cfg.abstain, query)
        hits = [replace(h, match=match_word(h.score, cfg.relevance, abstained)) for h in hits]
        why = reason_for(query, signals, hits, alignment) if abstained else None
        return Answer(hits=tuple(hits), abstained=abstained, confidence=conf, reason=why,
                      signals=signals, **base)

    def _diversify(self, scored, top_k: int, question: str):
        """Skip near-duplicates of passages already picked (summary bullets restate
        body text); for questions about each/every/all forces or reports, take the
        best passage of each report first."""
        picked = []
        vecs = []
        for item in scored:
            v = self.store.vector(int(item[1]))
            if any(float(v @ u) > self.config.dup_threshold for u in vecs):
                continue
            if any(_overlap(item[2].text, x[2].text) > 0.6 for x in picked):
                continue
            picked.append(item)
            vecs.append(v)
            if len(picked) >= top_k * 3:
                break
        if _EACH_REPORT.search(question):
            seen, first, rest = set(), [], []
            for it in picked:
                (first if it[2].report_id not in seen else rest).append(it)
                seen.add(it[2].report_id)
            picked = first + rest
        return picked[:top_k]


#: A summary restating a finding gives way to the finding itself when the finding
#: scores at least this share of the summary's score.
FINDING_SHARE = 0.9
_PERCENT = re.compile(r"(?<![\d.])(\d{1,3}(?:\.\d+)?)\s*(?:%|per\s*cent\b|percent\b)", re.I)
_RATE = re.compile(r"(?<![\d.,])(\d[\d,]*(?:\.\d+)?)\s+(?:crimes?\s+|incidents?\s+|offences?\s+)?"
                   r"(?:per|for\s+every|in\s+every)\s+(1,000|1000|100,000|100000)", re.I)


def _finding(hits, query: Query) -> Hit | None:
    """A report's answering passage among its best hits: the best one, unless it is a
    summary restating a finding, or a recommendation when the question asks for no
    recommendation, and a passage stating findings (a paragraph or table row) scores
    nearly as well."""
    if not hits:
        return None
    top = hits[0]
    restating = ("summary",) if query.wants_recommendation else ("summary", "recommendation")
    if top.passage.kind in restating:
        for h in hits[1:]:
            if h.passage.kind in ("paragraph", "table") and h.score >= FINDING_SHARE * top.score:
                return h
    return top


def _figure(text: str) -> tuple[float | None, str | None]:
    """The first percentage or rate a sentence states: (value, unit)."""
    m = _PERCENT.search(text or "")
    if m:
        return float(m.group(1)), "%"
    m = _RATE.search(text or "")
    if m:
        per = m.group(2).replace(",", "")
        return float(m.group(1).replace(",", "")), f"per {int(per):,}"
    return None, None


def _judgment(query: Query, rep) -> tuple[str | None, str | None]:
    """The graded judgment a question about grades asks for: the judged question or
    pillar whose heading shares the most of the question's terms, weighted by their
    IDF (a rare "legitimacy" outweighs a common "force"); else the overall one."""
    want = query.weights
    best, best_n = None, 0.0
    pairs = list(rep.judgments) + list(rep.pillar_judgments)
    stems = [{stem(x) for x in tokens(h)} for h, _ in pairs]
    # Words most judged headings share ("force", "effective") say nothing of which
    # question is meant.
    common = {t for t in set().union(*stems) if sum(t in st for st in stems) * 2 > len(stems)} \
        if len(stems) > 1 else set()
    for (heading, grade), st in zip(pairs, stems):
        n = sum(want[t] for t in st - common if t in want)
        if n > best_n:
            best, best_n = (grade, heading), n
    if best:
        return best
    if rep.overall_judgment:
        return rep.overall_judgment, "overall"
    return None, None


def _scope_dict(scope: Scope) -> dict:
    return {"bodies": list(scope.bodies), "years": list(scope.years),
            "programme": scope.programme, "reports": list(scope.report_ids),
            "compare": scope.compare}


def choose_reading(question: str, alone: Answer, joined: Answer, margin: float) -> Answer:
    """A follow-up's two readings. The form of the question decides
    (retrieval/followup.py): a question that names its own subject is read alone,
    whatever the scores — a question joined with the previous one is a longer text and
    scores higher for that alone; one that leans on the previous question (a
    connective, an ellipsis, a word that points back) takes the joined reading unless
    that reading abstains where the question alone does not. `margin` (fitted by
    cross-validation) is kept for callers; it no longer overrides the form."""
    from retrieval.followup import leans_on_previous

    del margin  # the form decides; a confidence margin cannot make a question lean
    if not leans_on_previous(question, joined.follow_up_of):
        return alone
    if joined.abstained and not alone.abstained:
        return alone
    return joined


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


@lru_cache(maxsize=100_000)
def _section_stems(p: Passage) -> frozenset[str]:
    lines = p.text.split("\n")
    # A table's caption is its first line: it names the statement as a heading would.
    head = " ".join(p.section) + (" " + lines[0] if p.kind == "table" else "")
    return frozenset(stem(t) for t in tokens(head))


def _hint_share(hints: tuple[str, ...], p: Passage) -> float:
    """The best share of a hint's words ("statement cash flows") that the passage's
    section path (and a table's caption) holds: the part of the report an instruction
    points to."""
    if not hints:
        return 0.0
    have = _section_stems(p)
    best = 0.0
    for h in hints:
        want = {stem(t) for t in tokens(h) if len(t) > 1}
        if want:
            best = max(best, len(want & have) / len(want))
    return best


def _phrase_in(phrase: str, low_text: str) -> bool:
    """Whether a phrase occurs in a lower-cased text as whole words (the substring
    test first: most candidates lack most equivalents, and it is ~50x cheaper)."""
    ph = phrase.lower()
    return ph in low_text and re.search(r"\b" + re.escape(ph) + r"\b", low_text) is not None


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
    from ingest.build_dir import current_build_dir
    from ingest.embed import get_embedder

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

