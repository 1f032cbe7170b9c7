"""A process forked after this one answered questions answers too: the keyword
search's and the model's thread pools start anew in a forked child (core/thread_pool.py)
instead of waiting forever on the parent's threads, which a child does not have."""

from __future__ import annotations

import multiprocessing as mp
import queue

import numpy as np
import pytest

from core.thread_pool import ThreadPool

FORK = mp.get_context("fork")


def _result(child, out, timeout: float, hung: str):
    """What a forked child put on `out` (read before joining it, which waits for its
    queue to be flushed); kill it and fail with `hung` if nothing comes."""
    try:
        got = out.get(timeout=timeout)
    except queue.Empty:
        child.kill()
        pytest.fail(hung)
    child.join(30)
    assert child.exitcode == 0
    return got


def _submit_in_child(pool: ThreadPool, out) -> None:
    out.put(pool.submit(lambda: 41 + 1).result(timeout=20))


def test_a_forked_child_runs_tasks_on_its_own_threads():
    pool = ThreadPool(2, "test-pool")
    # The parent's workers have run and gone idle: the state a plain executor hangs in.
    assert [pool.submit(lambda i=i: i * 2).result() for i in range(4)] == [0, 2, 4, 6]
    out = FORK.Queue()
    child = FORK.Process(target=_submit_in_child, args=(pool, out))
    child.start()
    assert _result(child, out, 60, "the forked child's task never ran") == 42
    assert pool.submit(lambda: "parent").result() == "parent"  # the parent's still runs


def _ask_in_child(index, question: str, out) -> None:
    from ingest.embed import get_embedder
    from retrieval.search import get_searcher

    vecs = get_embedder().encode(["How satisfied are victims?", "victims"])
    answer = get_searcher(index).ask(question, top_k=3)
    out.put(([h.passage.passage_id for h in answer.hits], vecs.tolist()))


@pytest.mark.real_model
def test_a_child_forked_after_answers_answers_the_same(ui_index):
    from ingest.embed import get_embedder
    from retrieval.search import get_searcher

    question = "How satisfied are victims with the service they receive?"
    # Two texts of unlike length: embedded in two halves side by side (the model's
    # pool); asking runs the keyword search beside the dense one (the search's pool).
    vecs = get_embedder().encode(["How satisfied are victims?", "victims"])
    hits = [h.passage.passage_id for h in get_searcher(ui_index).ask(question, top_k=3).hits]
    assert hits
    out = FORK.Queue()
    child = FORK.Process(target=_ask_in_child, args=(ui_index, question, out))
    child.start()
    child_hits, child_vecs = _result(
        child, out, 120, "a child forked after the parent had answered never answered")
    assert child_hits == hits
    assert np.allclose(child_vecs, vecs, atol=1e-6)
