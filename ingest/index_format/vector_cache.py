"""The embedding cache (cache/vectors.sqlite in an index folder): a vector is stored
once per (model, text hash) and reused by every later build, so a rebuild or a moved
report embeds nothing it has embedded before. Disposable: a damaged cache is replaced,
never fatal."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
from pathlib import Path

import numpy as np

from ingest.index_format.layout import IndexPaths

log = logging.getLogger(__name__)


class VectorCache:
    """Embeddings by (model, text hash) in SQLite, as raw float32 bytes (no pickle)."""

    @classmethod
    def of_index(cls, index_dir: Path) -> VectorCache:
        """The embedding cache of an index folder (cache/vectors.sqlite)."""
        return cls(IndexPaths(index_dir).vector_cache)

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
        # FULL: each committed batch of vectors is synced (WAL's default NORMAL may lose
        # the last commits to a power cut). The cache is disposable all the same — a
        # damaged one is replaced — but a lost batch is embedding time spent again.
        self.db.execute("PRAGMA synchronous=FULL")
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
