"""Question texts embedded once: a question is embedded as itself and without its
absent words; its absent words are embedded to find their nearest corpus words; a
follow-up's two readings and evaluation runs ask the same texts again."""

from __future__ import annotations

import numpy as np

from retrieval.recent import Recent

#: Texts whose vectors are kept (the least recently used go first).
EMBED_CACHE = 4096


class EmbeddingCache:
    """The vectors of texts under one embedding model, kept (thread-safe)."""

    def __init__(self, embedder, size: int = EMBED_CACHE):
        self.embedder = embedder
        self._vectors = Recent(size)

    def of(self, texts: list[str]) -> list[np.ndarray]:
        """Vectors of several texts, in one batch for those not embedded before."""
        found = self._vectors.found(texts)
        todo = [t for t in dict.fromkeys(texts) if t not in found]
        if todo:
            new = dict(zip(todo, self.embedder.encode(todo)))
            self._vectors.keep(new)
            found.update(new)
        return [found[t] for t in texts]

    def clear(self) -> None:
        """Forget every vector (a benchmark times a question as a new one)."""
        self._vectors.clear()
