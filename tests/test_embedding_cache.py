"""Question texts embedded once, some in the background (retrieval/embedding_cache.py),
with the real model: a prefetched text is never embedded twice, its vector is the
model's own, and a failure in the background reaches the caller."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.embed import get_embedder
from retrieval.embedding_cache import EmbeddingCache


class _Counting:
    """The real embedder, counting the texts it is given."""

    def __init__(self, fail: bool = False):
        self.model = get_embedder()
        self.texts: list[str] = []
        self.fail = fail

    def encode(self, texts):
        self.texts.extend(texts)
        if self.fail:
            raise RuntimeError("the model failed")
        return self.model.encode(texts)


def test_a_prefetched_text_is_embedded_once_with_the_models_vector():
    emb = _Counting()
    cache = EmbeddingCache(emb)
    texts = ["victim satisfaction in the West Midlands", "satisfaction"]
    cache.prefetch(texts)
    cache.prefetch(texts)  # already on its way: nothing more to do
    got = cache.of(["How satisfied are victims?", *texts])
    assert sorted(emb.texts) == sorted(["How satisfied are victims?", *texts])
    want = emb.model.encode(texts)
    assert np.allclose(np.stack(got[1:]), want, atol=1e-6)
    cache.of(texts)
    assert len(emb.texts) == 3


def test_a_failure_in_the_background_reaches_the_caller_and_is_not_kept():
    emb = _Counting(fail=True)
    cache = EmbeddingCache(emb)
    cache.prefetch(["abstention"])
    with pytest.raises(RuntimeError, match="the model failed"):
        cache.of(["abstention"])
    emb.fail = False
    assert cache.of(["abstention"])[0].shape == (emb.model.dimension,)
