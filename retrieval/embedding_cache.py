"""Question texts embedded once: a question is embedded as itself, without its absent
words and as its subject; its absent words are embedded to find their nearest corpus
words; a follow-up's two readings and evaluation runs ask the same texts again."""

from __future__ import annotations

import threading

import numpy as np

#: Texts whose vectors are kept (the oldest go first).
EMBED_CACHE = 4096


class EmbeddingCache:
    """The vectors of texts under one embedding model, cached (thread-safe)."""

    def __init__(self, embedder, size: int = EMBED_CACHE):
        self.embedder = embedder
        self.size = size
        self._vectors: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def of(self, texts: list[str]) -> list[np.ndarray]:
        """Vectors of several texts, in one batch for those not embedded before."""
        cache = self._vectors
        with self._lock:
            found = {t: cache[t] for t in texts if t in cache}
        todo = [t for t in dict.fromkeys(texts) if t not in found]
        if todo:
            found.update(zip(todo, self.embedder.encode(todo)))
            with self._lock:
                cache.update((t, found[t]) for t in todo)
                while len(cache) > self.size:
                    cache.pop(next(iter(cache)))
        return [found[t] for t in texts]

    def clear(self) -> None:
        """Forget every vector (a benchmark times a question as a new one)."""
        with self._lock:
            self._vectors.clear()
