"""Write a complete reportqa index directory straight from synthetic passages, for
sizes (100k-1M passages) where parsing files and embedding with the real model would
take hours. The result is what ``ingest.index.build_index`` writes — same SQLite schema
(created by ``ingest.index._write_sqlite`` itself), FTS5 index, ``vectors.faiss`` made by
``ingest.index._faiss_index`` under the given settings, ``sentences.npy``, manifest and
CURRENT pointer — so ``retrieval.store.Store`` and ``retrieval.search.Searcher`` load it
and the benchmark measures the real query path.

Passages are streamed into SQLite report by report, so memory stays bounded by the
vectors (1M x 384 float32 = 1.5 GB) rather than by a million Passage objects.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import time
import uuid
from pathlib import Path

import numpy as np

from benchmarks import scaler


def _sentences(text: str) -> list[str]:
    from ingest.index import _passage_sentences

    return _passage_sentences(text)


def build(index_dir: Path, n_passages: int, settings, embedder, *, seed: int = 0,
          sentence_vectors: str = "embed", log=print) -> dict:
    """Build a synthetic index of n_passages under index_dir (replacing it).

    sentence_vectors: "embed" embeds every sentence with ``embedder`` (as build_index
    does); "derive" makes each sentence vector from its passage's vector plus noise,
    which is ~8x cheaper and changes no cost the benchmark measures (the rerank reads
    the same number of sentence vectors either way).

    Returns timings and counts."""
    import faiss

    from ingest.index import (
        SCHEMA_VERSION,
        _faiss_index,
        _settings_record,
        _versions,
        _write_sqlite,
    )

    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    shutil.rmtree(index_dir, ignore_errors=True)
    build_id = "synthetic-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + \
        uuid.uuid4().hex[:6]
    bdir = index_dir / "builds" / build_id
    bdir.mkdir(parents=True)
    db_path = bdir / "passages.sqlite"
    _write_sqlite(db_path, [], [], [])  # the schema, exactly as build_index makes it
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    dim = embedder.dimension
    vectors = np.zeros((n_passages, dim), dtype=np.float32)
    sent_chunks: list[np.ndarray] = []
    sent_count = 0
    rowid = 0
    n_reports = 0
    t_gen = t_embed = t_sql = 0.0
    rng = np.random.default_rng(seed + 1)
    batch_reports: list = []
    batch_passages: list = []

    def flush_batch():
        nonlocal rowid, sent_count, t_embed, t_sql
        if not batch_passages:
            return
        t = time.perf_counter()
        texts = [p.embed_text for p in batch_passages]
        v = embedder.encode(texts, batch_size=256)
        sents: list[tuple[int, int, str]] = []
        owner: list[int] = []
        for i, p in enumerate(batch_passages):
            for j, s in enumerate(_sentences(p.text)):
                sents.append((rowid + i + 1, j, s))
                owner.append(i)
        if sentence_vectors == "embed":
            sv = embedder.encode([s for _, _, s in sents], batch_size=256)
        else:
            base = v[np.asarray(owner)]
            noise = rng.standard_normal(base.shape, dtype=np.float32) * 0.045
            sv = base + noise
            sv /= np.linalg.norm(sv, axis=1, keepdims=True)
        vectors[rowid: rowid + len(batch_passages)] = v
        sent_chunks.append(sv.astype(np.float16))
        t_embed += time.perf_counter() - t
        t = time.perf_counter()
        db.executemany(
            "INSERT INTO reports VALUES (?,?,?,?)",
            [(r.report_id, r.content_hash, r.source_file, json.dumps(r.to_dict()))
             for r in batch_reports])
        db.executemany(
            "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?)",
            [(rowid + i + 1, p.passage_id, p.report_id, p.kind, p.force, p.year,
              " > ".join(p.section), p.text, json.dumps(p.to_dict()))
             for i, p in enumerate(batch_passages)])
        db.executemany("INSERT INTO sentences VALUES (?,?,?,?)",
                       [(sent_count + k, pr, idx, s) for k, (pr, idx, s) in enumerate(sents)])
        t_sql += time.perf_counter() - t
        rowid += len(batch_passages)
        sent_count += len(sents)
        batch_reports.clear()
        batch_passages.clear()

    t = time.perf_counter()
    last_log = time.perf_counter()
    for report, ps in scaler.iter_passages(n_passages, seed):
        batch_reports.append(report)
        batch_passages.extend(ps)
        n_reports += 1
        if len(batch_passages) >= 5000:
            t_gen += time.perf_counter() - t
            flush_batch()
            t = time.perf_counter()
            if time.perf_counter() - last_log > 30:
                log(f"  synthetic index: {rowid:,}/{n_passages:,} passages "
                    f"({time.perf_counter() - t0:.0f} s)")
                last_log = time.perf_counter()
    t_gen += time.perf_counter() - t
    flush_batch()
    t = time.perf_counter()
    db.execute("INSERT INTO passages_fts(rowid, text, section) SELECT rowid, text, section "
               "FROM passages")
    db.commit()
    db.close()
    t_fts = time.perf_counter() - t

    t = time.perf_counter()
    index, kind = _faiss_index(vectors, settings)
    faiss.write_index(index, str(bdir / "vectors.faiss"))
    t_faiss = time.perf_counter() - t
    del index
    svecs = np.concatenate(sent_chunks) if sent_chunks else np.zeros((0, dim), np.float16)
    sent_chunks.clear()
    np.save(bdir / "sentences.npy", svecs, allow_pickle=False)
    n_sent = len(svecs)
    del svecs
    files = {n: (bdir / n).stat().st_size for n in
             ("passages.sqlite", "vectors.faiss", "sentences.npy")}
    manifest = {
        "schema_version": SCHEMA_VERSION, "build_id": build_id,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "model": {"name": embedder.name, "dimension": dim},
        "faiss": kind, "versions": _versions(), "settings": _settings_record(settings),
        "corpus": {"dir": "(synthetic)", "files": []},
        "counts": {"reports": n_reports, "passages": rowid, "sentences": n_sent},
        "files": files, "seconds": round(time.perf_counter() - t0, 2),
        "failures": [], "duplicates": [],
        "synthetic": {"seed": seed, "vectors": type(embedder).__name__,
                      "sentence_vectors": sentence_vectors},
    }
    (bdir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (index_dir / "CURRENT").write_text(build_id)
    np.save(index_dir / "vectors.npy", vectors, allow_pickle=False)  # for ann.py variants
    return {"passages": rowid, "reports": n_reports, "sentences": n_sent,
            "faiss": kind, "files": files,
            "seconds": {"generate": round(t_gen, 1), "embed": round(t_embed, 1),
                        "sqlite": round(t_sql, 1), "fts": round(t_fts, 1),
                        "faiss": round(t_faiss, 1),
                        "total": round(time.perf_counter() - t0, 1)}}


def variant(base_dir: Path, out_dir: Path, index, kind: dict) -> Path:
    """An index directory sharing base_dir's SQLite and sentence vectors (hard links)
    but with another FAISS index (e.g. HNSW or float16 storage), for side-by-side
    query runs."""
    import faiss

    from ingest.index import current_build_dir

    src = current_build_dir(base_dir)
    manifest = json.loads((src / "manifest.json").read_text())
    shutil.rmtree(out_dir, ignore_errors=True)
    bdir = out_dir / "builds" / src.name
    bdir.mkdir(parents=True)
    for n in ("passages.sqlite", "sentences.npy"):
        try:
            os.link(src / n, bdir / n)
        except OSError:
            shutil.copy2(src / n, bdir / n)
    faiss.write_index(index, str(bdir / "vectors.faiss"))
    manifest["faiss"] = kind
    manifest["files"]["vectors.faiss"] = (bdir / "vectors.faiss").stat().st_size
    (bdir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (out_dir / "CURRENT").write_text(src.name)
    return out_dir
