"""Cached embedding: a vector is computed once per (model, text) and kept in the
index's embedding cache (ingest/index_format/vector_cache.py), so a rebuild or a moved
report embeds nothing it has embedded before."""

from __future__ import annotations

import logging
import time

import numpy as np

from core.models import text_hash
from ingest.index_format.vector_cache import VectorCache
from ingest.progress import progress

log = logging.getLogger(__name__)


def embed_cached(texts: list[str], embedder, cache: VectorCache, model_key: str, dim: int,
                 batch_size: int, desc: str, summary, bar=None) -> np.ndarray:
    """Vectors for texts in order: from the cache where it has them, else embedded
    (in chunks, with a progress bar: `bar` when the caller keeps one across calls)
    and cached. Counts go to `summary` (reused_vectors, embedded)."""
    hashes = [text_hash(t) for t in texts]
    have = cache.get_many(model_key, list(dict.fromkeys(hashes)), dim)
    todo = [i for i, h in enumerate(hashes) if h not in have]
    summary.reused_vectors += len(texts) - len(todo)
    if todo:
        first = {}
        for i in todo:
            first.setdefault(hashes[i], texts[i])
        # Longest first, over everything to embed (not only within a hand-over): each
        # batch then holds texts of about one length, so little of it is padding.
        uniq = sorted(first, key=lambda h: -len(first[h]))
        started = time.monotonic()
        log.debug("embedding %d %s", len(uniq), desc)
        own = bar is None
        if own:
            bar = progress(None, total=len(uniq), desc=f"embedding {desc}", unit=desc)
        # A distributed embedder asks for bigger hand-overs (ingest/ray_build.py).
        step = getattr(embedder, "chunk", None) or max(batch_size * 4, 64)
        for s in range(0, len(uniq), step):
            chunk = uniq[s : s + step]
            vecs = embedder.encode([first[h] for h in chunk], batch_size=batch_size)
            new = dict(zip(chunk, vecs))
            cache.put_many(model_key, new)
            have.update(new)
            bar.update(len(chunk))
            if bar.disable and own:
                done = min(s + step, len(uniq))
                rate = done / max(time.monotonic() - started, 1e-6)
                log.info("embedded %d/%d %s (%.1f/s)", done, len(uniq), desc, rate)
        if own:
            bar.close()
        summary.embedded += len(uniq)
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    return np.stack([have[h] for h in hashes]).astype(np.float32)
