"""A Store keeps what it read of recent passages (retrieval/recent.py): a question's
steps and a question asked again under other filters read them from memory, with the
same passages, sentences and vectors, and the memory stays bounded."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.recent import Recent
from retrieval.store import Store


@pytest.fixture()
def store(ui_index):
    return Store(ui_index)


def test_reads_again_come_from_memory(store, monkeypatch):
    rowids = [int(r) for r in store.rowids[:12]]
    first = store.passages(rowids)
    owners, sents, vectors = store.sentence_rows(rowids[::-1] + rowids[:3])
    assert owners == sorted(owners) and set(owners) <= set(rowids)
    assert vectors.flags.writeable  # the caller's own copy, not the cache's rows

    class NoDatabase:
        def execute(self, *a, **kw):
            raise AssertionError("read the database again")

    monkeypatch.setattr(type(store), "db", property(lambda self: NoDatabase()))
    again = store.passages(rowids)
    assert list(again) == rowids and again == first
    o2, s2, v2 = store.sentence_rows(rowids)
    assert (o2, s2) == (owners, sents) and np.array_equal(v2, vectors)
    v2[:] = 0  # the caller's copy: the cache keeps its rows
    assert np.array_equal(store.sentence_rows(rowids)[2], vectors)


def test_cached_reads_are_what_a_fresh_store_reads(store, ui_index):
    rowids = [int(r) for r in store.rowids[::3]]
    store.sentence_rows(rowids[:5])  # some cached, the rest not
    store.passages(rowids[2:7])
    fresh = Store(ui_index)
    got, want = store.sentence_rows(rowids), fresh.sentence_rows(rowids)
    assert got[:2] == want[:2] and np.array_equal(got[2], want[2])
    assert store.passages(rowids) == fresh.passages(rowids)


def test_the_cache_keeps_the_most_recent():
    c = Recent(3)
    c.keep({1: "a", 2: "b", 3: "c"})
    assert c.found([1]) == {1: "a"}  # 1 is now the most recent
    c.keep({4: "d"})
    assert len(c) == 3 and c.found([1, 2, 3, 4]) == {1: "a", 3: "c", 4: "d"}
