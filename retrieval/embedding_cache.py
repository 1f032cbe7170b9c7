"""Question texts embedded once: a question is embedded as itself, without its absent
words and as its subject; its absent words are embedded to find their nearest corpus
words; a follow-up's two readings and evaluation runs ask the same texts again."""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

#: Texts whose vectors are kept (the oldest go first).
EMBED_CACHE = 4096
_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reportqa-prefetch")


class EmbeddingCache:
    """The vectors of texts under one embedding model, cached (thread-safe); texts
    wanted later can be embedded in the background meanwhile (:meth:`prefetch`)."""

    def __init__(self, embedder, size: int = EMBED_CACHE):
        self.embedder = embedder
        self.size = size
        self._vectors: dict[str, np.ndarray] = {}
        self._pending: dict[str, Future] = {}
        self._lock = threading.Lock()

    def of(self, texts: list[str]) -> list[np.ndarray]:
        """Vectors of several texts, in one batch for those not embedded before (a
        text being embedded in the background is waited for)."""
        cache = self._vectors
        with self._lock:
            found = {t: cache[t] for t in texts if t in cache}
            waits = {t: self._pending[t] for t in texts
                     if t not in found and t in self._pending}
        for t, f in waits.items():
            found[t] = f.result()[t]
        todo = [t for t in dict.fromkeys(texts) if t not in found]
        if todo:
            found.update(self._encode(todo))
        return [found[t] for t in texts]

    def prefetch(self, texts: list[str]) -> None:
        """Start embedding texts a later step will want, on a thread of its own: the
        model's threads then use a core that the Python steps in between leave idle
        (on two cores, a long question's other texts cost its answer ~5 ms less)."""
        with self._lock:
            todo = [t for t in dict.fromkeys(texts)
                    if t not in self._vectors and t not in self._pending]
            if not todo:
                return
            fut = _BACKGROUND.submit(self._encode, todo)
            for t in todo:
                self._pending[t] = fut

    def _encode(self, todo: list[str]) -> dict[str, np.ndarray]:
        try:
            got = dict(zip(todo, self.embedder.encode(todo)))
        except BaseException:
            with self._lock:
                for t in todo:
                    self._pending.pop(t, None)
            raise
        with self._lock:
            self._vectors.update(got)
            for t in todo:
                self._pending.pop(t, None)
            while len(self._vectors) > self.size:
                self._vectors.pop(next(iter(self._vectors)))
        return got

    def clear(self) -> None:
        """Forget every vector (a benchmark times a question as a new one)."""
        with self._lock:
            self._vectors.clear()
