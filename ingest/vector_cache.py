"""The embedding cache and cached embedding: a vector is computed once per (model,
text) and reused by every later build, so a rebuild or a moved report embeds nothing
it has embedded before."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from pathlib import Path

import numpy as np

from core.models import text_hash
from ingest.progress import progress

log = logging.getLogger(__name__)


class VectorCache:
    """Embeddings by (model, text hash) in SQLite, as raw float32 bytes (no pickle)."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._open(path)
            self.db.execute("SELECT count(*) FROM vec").fetchone()
        except sqlite3.DatabaseError as e:
            # The cache is disposable: a damaged one is replaced, never fatal.
            log.warning("embedding cache %s is damaged (%s); starting a new one", path, e)
            with contextlib.suppress(Exception):
                self.db.close()
            for f in path.parent.glob(path.name + "*"):
                f.unlink()
            self._open(path)

    def _open(self, path: Path) -> None:
        self.db = sqlite3.connect(path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS vec (model TEXT, hash TEXT, v BLOB, "
            "PRIMARY KEY (model, hash))"
        )

    def get_many(self, model: str, hashes: list[str], dim: int) -> dict[str, np.ndarray]:
        """Cached vectors for the given hashes (missing ones are absent)."""
        out: dict[str, np.ndarray] = {}
        for i in range(0, len(hashes), 500):
            chunk = hashes[i : i + 500]
            q = f"SELECT hash, v FROM vec WHERE model=? AND hash IN ({','.join('?' * len(chunk))})"
            for h, v in self.db.execute(q, [model, *chunk]):
                arr = np.frombuffer(v, dtype=np.float32)
                if arr.shape[0] == dim:
                    out[h] = arr
        return out

    def put_many(self, model: str, items: dict[str, np.ndarray]) -> None:
        """Store vectors."""
        self.db.executemany(
            "INSERT OR REPLACE INTO vec VALUES (?,?,?)",
            [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()],
        )
        self.db.commit()

    def forget(self, model: str, hashes: set[str]) -> None:
        """Drop this model's vectors of texts no live passage uses any more (those of
        deleted reports, less any the build still uses)."""
        self.db.executemany("DELETE FROM vec WHERE model=? AND hash=?",
                            [(model, h) for h in hashes])
        self.db.commit()

    def close(self) -> None:
        self.db.close()


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
        uniq = list(dict.fromkeys(hashes[i] for i in todo))
        first = {}
        for i in todo:
            first.setdefault(hashes[i], texts[i])
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
