"""Ranking reads a candidate's dear features only where they could matter
(retrieval/ranking.py: best_first), with the same order as scoring every candidate;
abstention and answerability read what the question's first steps prepared. On the real
index of the report, with the real model."""

from __future__ import annotations

import pytest
from model_calls import counting_searcher

from retrieval.features import coverage, figure_focus, fragment_share
from retrieval.ranking import best_first
from retrieval.search import Searcher, get_searcher

QUESTIONS = (
    "How satisfied are victims in the West Midlands, and is it improving?",
    "What proportion of crimes were recorded correctly?",
    "How many burglaries were there per 1,000 population?",
    "What did HMIC recommend about neighbourhood policing?",
    "How does the force work with partners to tackle anti-social behaviour?",
    "What is the weather like in Paris?",
)


@pytest.fixture(scope="module")
def searcher(ui_index):
    return get_searcher(ui_index)


def _fresh_candidates(searcher, question):
    """A question's candidates from a Searcher with nothing remembered: none of their
    features worked out yet."""
    s = Searcher(searcher.store, searcher.embedder, searcher.config)
    return s.candidates(s.understand(question))


@pytest.mark.parametrize("flip", [False, True])
def test_best_first_is_the_order_of_scoring_every_candidate(searcher, flip):
    weights = dict(searcher.config.weights)
    if flip:  # the bound must hold whatever the signs of the weights
        weights = {k: -v if k in ("coverage", "fig_focus", "dense") else v
                   for k, v in weights.items()}
    read = total = 0
    for q in QUESTIONS:
        cands = _fresh_candidates(searcher, q)
        assert cands and not any(c.own_exact for c in cands)
        lazy = best_first(cands, weights)
        first = [next(lazy) for _ in range(min(15, len(cands)))]
        read += sum(c.own_exact for c in cands)
        total += len(cands)
        every = sorted(((c.score(weights), c) for c in cands),
                       key=lambda x: (-round(x[0], 9), x[1].passage.passage_id))
        assert [(round(s, 12), c.rowid) for s, c in first] == \
            [(round(s, 12), c.rowid) for s, c in every[:len(first)]]
        assert [c.rowid for _, c in list(lazy)] == [c.rowid for _, c in every[len(first):]]
    # The point of it: the first picks need far from every candidate's features.
    assert read < 0.8 * total


def test_fragment_share_bounds_the_dear_features(searcher):
    for q in QUESTIONS:
        query = searcher.understand(q)
        for c in _fresh_candidates(searcher, q):
            bound = fragment_share(query, c.passage)
            assert bound + 1e-12 >= coverage(query, c.passage)
            assert bound + 1e-12 >= figure_focus(query, c.sentences)


def test_rowids_come_in_the_order_asked(searcher):
    store = searcher.store
    ids = [p.passage_id for _, p in zip(range(5), store.iter_passages())]
    rows = store.rowids_of(ids)
    assert store.rowids_of(ids[::-1]) == rows[::-1]
    assert store.rowids_of(["no such passage", *ids[:2]]) == rows[:2]


def test_a_question_goes_to_the_model_once(searcher):
    """Its subject words without a vocabulary vector (answerability) go in the
    question's own batch: a call of their own cost 2-4 ms more."""
    s, calls = counting_searcher(searcher)
    q = "What is the ASB rate in Birmingham?"  # "asb": present by its expansion only
    query = s.understand(q)
    assert any(t.word not in s.store.vocab_index for t in query.terms if t.present)
    s.ask(q)
    assert len(calls) == 1, calls


def test_passages_read_ahead_make_the_same_pool(searcher):
    """The dense hits are read while the keyword search runs (Searcher.candidates):
    the pool is the one read at once."""
    from retrieval import candidates

    store = searcher.store
    for q in QUESTIONS[:3]:
        query = searcher.understand(q)
        qvec = searcher.embed([query.embed_text])[0]
        dense = searcher.dense(qvec, 20)
        kw = searcher.keyword(query, 20)
        ahead = candidates.read(store, [r for r, _ in dense[:10]], qvec)
        assert len(ahead.rowids) == 10
        at_once = candidates.pooled(store, query, qvec, dense, kw, {})
        split = candidates.pooled(store, query, qvec, dense, kw, {}, ahead)
        assert [c.rowid for c in split] == [c.rowid for c in at_once]
        for a, b in zip(split, at_once):
            assert a.pool == b.pool and a.passage == b.passage
            assert [t for _, t in a.sentences] == [t for _, t in b.sentences]
            assert [s for s, _ in a.sentences] == pytest.approx([s for s, _ in b.sentences],
                                                                abs=1e-6)


@pytest.mark.parametrize("each", [False, True])
def test_ranking_stops_at_what_it_shows(searcher, each):
    """Ranking takes candidates best first until it has top_k picks (each worked out
    candidate costs its features); only a question for each report's best passage
    takes more, to put each report's best first."""
    from retrieval.ranking import _diversify

    for q in QUESTIONS[:4]:
        q = f"{q} Compare all reports." if each else q
        query = searcher.understand(q)
        cands = _fresh_candidates(searcher, q)
        taken = []

        def counted(items, taken=taken):
            for item in items:
                taken.append(item)
                yield item

        picked = _diversify(searcher.store, cands, counted(best_first(
            cands, searcher.config.weights)), 3, query.question,
            searcher.config.dup_threshold)
        assert len(picked) == 3
        if each:
            assert len(taken) > 3
        else:
            assert taken[-1] is picked[-1]


def test_questions_read_the_vocabulary_from_memory(searcher, monkeypatch):
    """Bridging and answerability use the float32 copy of the vocabulary's vectors
    loaded at warm-up: a product with the float16 memory map converted every row for
    each question (15 ms on the real filings' 15,209 words)."""
    import numpy as np

    store = searcher.store
    searcher.warm_up()
    assert store.vocab_matrix.dtype == np.float32
    assert np.array_equal(store.vocab_matrix, np.asarray(store.vocab_vectors, np.float32))

    class Untouchable:
        def __getattr__(self, name):
            raise AssertionError("a question read the vocabulary's memory map")

        def __getitem__(self, key):
            raise AssertionError("a question read the vocabulary's memory map")

    monkeypatch.setattr(store, "vocab_vectors", Untouchable())
    s = Searcher(store, searcher.embedder, searcher.config)
    query = s.understand("Are victims jubilant about the constabulary's gizmos?")
    assert any(t.nearest > 0 for t in query.terms)  # bridged
    assert s.ask("Are victims jubilant about the constabulary's gizmos?").hits


def test_answers_take_one_blas_thread(searcher):
    """A Searcher keeps numpy's BLAS to one thread (retrieval/search.py): OpenBLAS's
    idle workers spin after each product and took the second core from the keyword
    search and the model."""
    from threadpoolctl import threadpool_info, threadpool_limits

    threadpool_limits(limits=2, user_api="blas")
    assert any(i["num_threads"] > 1 for i in threadpool_info() if i["user_api"] == "blas")
    Searcher(searcher.store, searcher.embedder, searcher.config)
    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    assert blas and all(i["num_threads"] == 1 for i in blas)


def test_a_second_ranking_reads_its_sentences_from_memory(searcher):
    """The sentences' stems and whether they state a number are kept per text
    (retrieval/text.py): a comparison ranks each report's pool and then the question's,
    and a question asked again under another filter ranks the same passages."""
    from retrieval.text import has_number, text_stems

    q = "How many burglaries were there per 1,000 population?"
    weights = searcher.config.weights
    list(best_first(_fresh_candidates(searcher, q), weights))
    stems, numbers = text_stems.cache_info().misses, has_number.cache_info().misses
    cands = _fresh_candidates(searcher, q)
    assert not any(c.own_exact for c in cands)
    list(best_first(cands, weights))
    assert sum(c.own_exact for c in cands) > 0  # the features were worked out again
    assert text_stems.cache_info().misses == stems
    assert has_number.cache_info().misses == numbers
