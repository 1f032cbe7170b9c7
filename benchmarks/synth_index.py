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
from ingest.sqlite_store import mark_superseded, report_row


def _sentences(text: str) -> list[str]:
    from ingest.passages import passage_sentences

    return passage_sentences(text)


_EMB = None


def _chunk(job):
    """Worker: reports [start, start+n) as SQLite-ready rows and their vectors."""
    global _EMB
    start, n, seed, emb_args, sentence_vectors, limit = job
    if _EMB is None:
        from benchmarks.standin import HashEmbedder

        _EMB = HashEmbedder(**emb_args)
    reports, prow, sents, owner = [], [], [], []
    for rep in scaler.iter_reports(n, seed, start):
        report, ps = scaler.report_passages(rep)
        reports.append(report_row(report))
        for p in ps:
            i = len(prow)
            prow.append((p.passage_id, p.report_id, p.kind, p.force, p.year,
                         " > ".join(p.section), p.text, json.dumps(p.to_dict()), p.embed_text))
            for j, t in enumerate(_sentences(p.text)):
                sents.append((i, j, t))
                owner.append(i)
    v = _EMB.encode([r[-1] for r in prow]) if prow else np.zeros((0, _EMB.dimension),
                                                                  np.float32)
    if sentence_vectors == "embed":
        sv = _EMB.encode([t for _, _, t in sents])
    else:
        rng = np.random.default_rng(start)
        base = v[np.asarray(owner, dtype=np.int64)]
        sv = base + rng.standard_normal(base.shape, dtype=np.float32) * 0.045
        sv /= np.linalg.norm(sv, axis=1, keepdims=True)
    return reports, [r[:-1] for r in prow], sents, v, sv.astype(np.float16)


class _NpyWriter:
    """Appends rows to a .npy file without holding them all in memory (the header,
    which records the final row count, is written last into a fixed 128-byte slot)."""

    HEADER = 128

    def __init__(self, path: Path, dim: int, dtype=np.float16):
        self.path, self.dim, self.dtype, self.rows = path, dim, np.dtype(dtype), 0
        self.fh = open(path, "wb")
        self.fh.write(b"\0" * self.HEADER)

    def append(self, a: np.ndarray) -> None:
        self.fh.write(np.ascontiguousarray(a, dtype=self.dtype).tobytes())
        self.rows += len(a)

    def close(self) -> None:
        import io

        buf = io.BytesIO()
        np.lib.format.write_array_header_1_0(
            buf, {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
                  "shape": (self.rows, self.dim)})
        head = buf.getvalue()
        assert len(head) <= self.HEADER
        # Pad the header (spaces before its newline) to exactly HEADER bytes.
        head = head[:-1] + b" " * (self.HEADER - len(head)) + b"\n"
        head = head[:8] + (len(head) - 10).to_bytes(2, "little") + head[10:]
        self.fh.seek(0)
        self.fh.write(head)
        self.fh.close()


def build(index_dir: Path, n_passages: int, settings, *, seed: int = 0,
          sentence_vectors: str = "embed", workers: int = 2, emb_args: dict | None = None,
          faiss_index: bool = True, log=print) -> dict:
    """Build a synthetic index of n_passages under index_dir (replacing it), with
    stand-in vectors (benchmarks.standin.HashEmbedder(**emb_args)).

    sentence_vectors: "embed" embeds every sentence (as build_index does); "derive"
    makes each sentence vector from its passage's vector plus noise, ~8x cheaper, and
    changes no cost the benchmark measures (the rerank reads the same number of
    sentence vectors either way). With faiss_index=False only vectors.npy is written
    and vectors.faiss must come from :func:`variant`.

    Reports are generated and embedded in worker processes while this one writes
    SQLite. Returns timings and counts."""
    from multiprocessing import get_context

    import faiss

    from ingest.build_dir import SCHEMA_VERSION
    from ingest.index import _faiss_index, _settings_record, _versions
    from ingest.sqlite_store import write_sqlite

    t0 = time.perf_counter()
    index_dir = Path(index_dir)
    shutil.rmtree(index_dir, ignore_errors=True)
    build_id = "synthetic-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + \
        uuid.uuid4().hex[:6]
    bdir = index_dir / "builds" / build_id
    bdir.mkdir(parents=True)
    db_path = bdir / "passages.sqlite"
    write_sqlite(db_path, [], [], [])  # the schema, exactly as build_index makes it
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    emb_args = emb_args or {}
    from benchmarks.standin import HashEmbedder

    probe = HashEmbedder(**emb_args)
    dim = probe.dimension
    vectors = np.zeros((n_passages, dim), dtype=np.float32)
    sw = _NpyWriter(bdir / "sentences.npy", dim)
    rowid = sent_count = n_reports = 0
    t_sql = 0.0
    per = 20
    # ~92 passages a report; ask for enough reports and stop at n_passages.
    n_jobs = int(n_passages / 60 / per) + 2
    jobs = [(i * per, per, seed, emb_args, sentence_vectors, n_passages)
            for i in range(n_jobs)]
    last_log = time.perf_counter()
    ctx = get_context("fork")
    with ctx.Pool(workers) as pool:
        for reports, prow, sents, v, sv in pool.imap(_chunk, jobs):
            take = min(len(prow), n_passages - rowid)
            if take <= 0:
                break
            if take < len(prow):
                # The last report is cut: keep its first passages (and their sentences).
                prow = prow[:take]
                keep = [k for k, (i, _, _) in enumerate(sents) if i < take]
                sents = [sents[k] for k in keep]
                sv = sv[keep]
                v = v[:take]
                used = {r[1] for r in prow}
                reports = [r for r in reports if r[0] in used]
            t = time.perf_counter()
            db.executemany("INSERT INTO reports VALUES (?,?,?,?,?,?,?,?,?,?)", reports)
            db.executemany("INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?)",
                           [(rowid + i + 1, *r) for i, r in enumerate(prow)])
            db.executemany("INSERT INTO sentences VALUES (?,?,?,?)",
                           [(sent_count + k, rowid + i + 1, j, txt)
                            for k, (i, j, txt) in enumerate(sents)])
            t_sql += time.perf_counter() - t
            vectors[rowid: rowid + take] = v
            sw.append(sv)
            rowid += take
            sent_count += len(sents)
            n_reports += len(reports)
            if time.perf_counter() - last_log > 30:
                log(f"  synthetic index: {rowid:,}/{n_passages:,} passages "
                    f"({time.perf_counter() - t0:.0f} s)")
                last_log = time.perf_counter()
            if rowid >= n_passages:
                break
        pool.terminate()
    sw.close()
    t_gen = time.perf_counter() - t0
    t = time.perf_counter()
    db.execute("INSERT INTO passages_fts(rowid, text, section) SELECT rowid, text, section "
               "FROM passages")
    # Reports are streamed, so their `latest` flags are set once all are in.
    mark_superseded(db)
    db.commit()
    db.close()
    t_fts = time.perf_counter() - t
    vectors = vectors[:rowid]
    np.save(index_dir / "vectors.npy", vectors, allow_pickle=False)  # for variants/ann.py
    t = time.perf_counter()
    kind = None
    if faiss_index:
        index, kind = _faiss_index(vectors, settings)
        faiss.write_index(index, str(bdir / "vectors.faiss"))
        del index
    t_faiss = time.perf_counter() - t
    files = {n: (bdir / n).stat().st_size for n in
             ("passages.sqlite", "vectors.faiss", "sentences.npy") if (bdir / n).exists()}
    manifest = {
        "schema_version": SCHEMA_VERSION, "build_id": build_id,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "model": {"name": probe.name, "dimension": dim},
        "faiss": kind, "versions": _versions(), "settings": _settings_record(settings),
        "corpus": {"dir": "(synthetic)", "files": []},
        "counts": {"reports": n_reports, "passages": rowid, "sentences": sent_count},
        "files": files, "seconds": round(time.perf_counter() - t0, 2),
        "failures": [], "duplicates": [],
        "synthetic": {"seed": seed, "vectors": "benchmarks.standin.HashEmbedder",
                      "sentence_vectors": sentence_vectors},
    }
    (bdir / "manifest.json").write_text(json.dumps(manifest, indent=2))
    if faiss_index:
        (index_dir / "CURRENT").write_text(build_id)
    else:
        (index_dir / "PENDING").write_text(build_id)
    return {"passages": rowid, "reports": n_reports, "sentences": sent_count,
            "faiss": kind, "files": files,
            "seconds": {"generate_embed_insert": round(t_gen, 1), "sqlite": round(t_sql, 1),
                        "fts": round(t_fts, 1), "faiss": round(t_faiss, 1),
                        "total": round(time.perf_counter() - t0, 1)}}


def variant(base_dir: Path, out_dir: Path, index, kind: dict) -> Path:
    """An index directory sharing base_dir's SQLite and sentence vectors (hard links)
    but with another FAISS index (e.g. HNSW or float16 storage), for side-by-side
    query runs."""
    import faiss

    from ingest.index import current_build_dir

    src = current_build_dir(base_dir)
    if src is None and (base_dir / "PENDING").exists():
        src = base_dir / "builds" / (base_dir / "PENDING").read_text().strip()
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
