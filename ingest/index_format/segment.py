"""Segments: the immutable parts an index is made of (like Lucene's), written and read
here, side by side.

A build writes one new segment holding the reports it read (added, changed, moved),
streamed in bounded batches; reports it no longer serves are marked deleted in the
manifest (by report id, per segment), never removed in place. Readers open the
segments the live manifest lists and skip the deleted reports. Merging copies the live
reports of some segments into one new segment — vectors and all, nothing is embedded
again — and a later manifest stops listing the old ones.

    segments/<segment id>/
        passages.sqlite     reports, passages (with their global rowids, and their
                            sentences as offsets), per-report lexicon statistics
                            (ingest/index_format/passages_db.py)
        vectors.npy         one float16 vector a passage, in rowid order
        sentences.npy       one float16 vector a sentence (row = sentence id), or
        sentences.codes.npy and sentences.sq.npy: the same scalar-quantised (8 or 4
                            bits a dimension, faiss.ScalarQuantizer) and its ranges
        rowids.npy          the segment's passage rowids, ascending (row i = vectors row i)
        stats.json          the segment's lexicon statistics (its reports' summed)

Rowids are allocated by the builds, never reused, so a rowid names one passage in
every segment, every build and the keyword index."""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.durable import commit_rename, sync_tree
from core.errors import IndexError_
from core.models import Passage, Report
from ingest.index_format import passages_db as pdb
from ingest.index_format.build import read_stats, write_stats
from ingest.index_format.layout import (
    PASSAGES,
    ROWIDS,
    SENTENCE_CODES,
    SENTENCE_RANGES,
    SENTENCES,
    STATS,
    VECTORS,
    IndexPaths,
    new_id,
)
from ingest.index_format.manifest import REBUILD, SegmentEntry, file_record
from ingest.lexicon import LexiconStats

#: How sentence vectors may be stored (settings.sentence_codes): float16, or faiss
#: scalar quantiser codes.
SENTENCE_CODE_KINDS = {"fp16": None, "sq8": "QT_8bit", "sq4": "QT_4bit"}


class NpyWriter:
    """Appends rows to a .npy file without holding them in memory (the header, which
    records the final row count, is written last into a fixed 128-byte slot)."""

    HEADER = 128

    def __init__(self, path: Path, dim: int, dtype=np.float16):
        self.path, self.dim, self.dtype, self.rows = path, dim, np.dtype(dtype), 0
        self.fh = open(path, "wb")
        self.fh.write(b"\0" * self.HEADER)

    def append(self, a: np.ndarray) -> None:
        a = np.ascontiguousarray(a, dtype=self.dtype)
        if a.size:
            self.fh.write(a.tobytes())
            self.rows += len(a)

    def close(self) -> None:
        buf = io.BytesIO()
        shape = (self.rows, self.dim) if self.dim else (self.rows,)
        np.lib.format.write_array_header_1_0(
            buf, {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
                  "shape": shape})
        head = buf.getvalue()
        # Pad the header (spaces before its newline) to exactly HEADER bytes.
        head = head[:-1] + b" " * (self.HEADER - len(head)) + b"\n"
        head = head[:8] + (len(head) - 10).to_bytes(2, "little") + head[10:]
        self.fh.seek(0)
        self.fh.write(head)
        self.fh.flush()
        os.fsync(self.fh.fileno())
        self.fh.close()


class SegmentWriter:
    """Writes one new segment, a report at a time, into segments/.tmp-<id> until
    finish() moves it into place."""

    def __init__(self, index_dir: Path, dim: int, sentence_codes: str = "fp16"):
        if sentence_codes not in SENTENCE_CODE_KINDS:
            raise ValueError(f"unknown sentence codes {sentence_codes!r}")
        self.codes = sentence_codes
        self.dim = dim
        self.id = new_id()
        self.paths = IndexPaths(index_dir)
        self.paths.segments.mkdir(parents=True, exist_ok=True)
        self.tmp = self.paths.tmp_segment(self.id)
        self.tmp.mkdir()
        self.db = sqlite3.connect(self.tmp / PASSAGES)
        pdb.create(self.db)
        self.vectors = NpyWriter(self.tmp / VECTORS, dim)
        self.sentence_vectors = NpyWriter(self.tmp / SENTENCES, dim)
        self.rowids: list[int] = []
        self.stats = LexiconStats()
        self.reports = 0

    def add(self, report: Report, passages: list[tuple[int, Passage]], vectors: np.ndarray,
            sentences: list[list[str]], sentence_vectors: np.ndarray,
            stats: LexiconStats) -> None:
        """Add one report: its passages under their rowids (ascending, above every rowid
        added before), their vectors, each passage's sentences and their vectors."""
        sid = self.sentence_vectors.rows
        rows = []
        for (r, p), ss in zip(passages, sentences):
            rows.append(pdb.passage_row(r, p, report, sid, ss))
            sid += len(ss)
        if sid - self.sentence_vectors.rows != len(sentence_vectors):
            raise ValueError("one vector a sentence")
        pdb.insert_report(self.db, report, rows, stats.to_json())
        self.vectors.append(vectors)
        self.sentence_vectors.append(sentence_vectors)
        self.rowids.extend(r for r, _ in passages)
        self.stats.add(stats)
        self.reports += 1

    def finish(self) -> SegmentEntry:
        """Write everything out and move the segment into place; its manifest entry."""
        self.db.commit()
        self.db.close()
        self.vectors.close()
        self.sentence_vectors.close()
        order = np.asarray(self.rowids, dtype=np.int64)
        if len(order) > 1 and not (np.diff(order) > 0).all():
            raise ValueError("segment rowids must ascend")
        np.save(self.tmp / ROWIDS, order, allow_pickle=False)
        write_stats(self.tmp, self.stats)
        names = [PASSAGES, VECTORS, ROWIDS, STATS]
        if self.codes == "fp16":
            names.append(SENTENCES)
        else:
            _quantise(self.tmp, self.dim, self.codes)
            names += [SENTENCE_CODES, SENTENCE_RANGES]
        sync_tree(self.tmp)
        files, checksums = file_record(self.tmp, names)
        entry = SegmentEntry(id=self.id, reports=self.reports, passages=len(order),
                             sentences=self.sentence_vectors.rows, files=files,
                             checksums=checksums, sentence_codes=self.codes)
        commit_rename(self.tmp, self.paths.segment(self.id))
        return entry

    def abort(self) -> None:
        """Drop the unfinished segment."""
        try:
            self.db.close()
        except sqlite3.Error:
            pass
        shutil.rmtree(self.tmp, ignore_errors=True)


@dataclass
class SegmentReport:
    """One report as a segment holds it."""

    report: Report
    passages: list[tuple[int, Passage]]
    vectors: np.ndarray
    sentences: list[list[str]]
    sentence_vectors: np.ndarray
    stats: LexiconStats


class SegmentReader:
    """Read access to one segment: its rowids, passage vectors (memory-mapped) and
    sentence vectors for queries; reports, passages and statistics for builds (moves,
    deletes and merges). A missing or damaged file raises IndexError_; with `dim`,
    vectors of another size do too."""

    def __init__(self, path: Path, dim: int | None = None):
        self.path = Path(path)
        self._db: sqlite3.Connection | None = None
        try:
            self.rowids = np.load(self.path / ROWIDS, allow_pickle=False)
            self.vectors = np.load(self.path / VECTORS, mmap_mode="r", allow_pickle=False)
            self.sentence_vectors = SentenceVectors(self.path)
        except (ValueError, OSError, KeyError, RuntimeError) as e:
            raise IndexError_(f"index segment {self.path} is damaged "
                              f"({str(e).splitlines()[0][:80]})", fix=REBUILD) from None
        if self.vectors.ndim != 2 or self.vectors.shape != (
                len(self.rowids), self.vectors.shape[1] if dim is None else dim):
            raise IndexError_(f"index segment {self.path} is damaged (vectors)", fix=REBUILD)

    @property
    def passages_file(self) -> Path:
        """The segment's SQLite file (for readers that attach it)."""
        return self.path / PASSAGES

    @property
    def db(self) -> sqlite3.Connection:
        """A read-only connection to the segment's SQLite file (opened on first use)."""
        if self._db is None:
            self._db = sqlite3.connect(pdb.read_only(self.passages_file), uri=True)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def live_rows(self, deleted: list[str]) -> np.ndarray:
        """Rows (of rowids and vectors) of the passages not in the deleted reports."""
        keep = np.ones(len(self.rowids), dtype=bool)
        if deleted:
            try:
                dead = [r for (r,) in self.db.execute(
                    "SELECT rowid FROM passages WHERE report_id IN "
                    f"({','.join('?' * len(deleted))})", list(deleted))]
            except sqlite3.DatabaseError as e:
                raise IndexError_(f"index file {self.passages_file} is damaged ({e})",
                                  fix=REBUILD) from None
            keep[np.searchsorted(self.rowids, dead)] = False
        return np.flatnonzero(keep)

    def report_ids(self) -> list[str]:
        return [r for (r,) in self.db.execute("SELECT report_id FROM reports ORDER BY rowid")]

    def report_starts(self) -> list[tuple[str, int]]:
        """(report id, its first rowid) of every report."""
        return self.db.execute("SELECT report_id, min(rowid) FROM passages GROUP BY "
                               "report_id").fetchall()

    def report(self, report_id: str) -> Report | None:
        row = self.db.execute("SELECT data FROM reports WHERE report_id=?",
                              (report_id,)).fetchone()
        return Report.from_dict(json.loads(row[0])) if row else None

    def stats(self) -> LexiconStats:
        """The segment's lexicon statistics."""
        st = read_stats(self.path)
        if st is None:
            raise IndexError_(f"index segment {self.path} is damaged (no {STATS})",
                              fix=REBUILD)
        return st

    def report_stats(self, report_id: str) -> LexiconStats:
        row = self.db.execute("SELECT data FROM report_stats WHERE report_id=?",
                              (report_id,)).fetchone()
        return LexiconStats.from_json(row[0]) if row else LexiconStats()

    def _rows(self, report_id: str):
        return self.db.execute(
            f"SELECT rowid, {pdb.PASSAGE_COLUMNS}, first_sentence, spans FROM passages "
            "WHERE report_id=? ORDER BY rowid", (report_id,))

    def texts(self, report_id: str) -> list[str]:
        """The report's passage and sentence texts (for pruning the embedding cache)."""
        out = []
        for row in self._rows(report_id):
            text = pdb.passage_text(row[6])
            out.append(text)
            out.extend(text[a:a + n] for a, n in pdb.sentence_spans(row[9]))
        return list(dict.fromkeys(out))

    def read(self, report_id: str) -> SegmentReport:
        """A report with everything the segment holds for it."""
        rep = self.report(report_id)
        ps, sents, ids = [], [], []
        for row in self._rows(report_id):
            p = pdb.passage_of(row[1:8], rep)
            ps.append((row[0], p))
            spans = pdb.sentence_spans(row[9])
            sents.append([p.text[a:a + n] for a, n in spans])
            ids.extend(range(row[8], row[8] + len(spans)))
        rows = np.searchsorted(self.rowids, [r for r, _ in ps])
        dim = self.vectors.shape[1]
        return SegmentReport(
            rep, ps, np.asarray(self.vectors[rows]) if len(rows) else np.zeros((0, dim)),
            sents, self.sentence_vectors.get(ids) if ids else np.zeros((0, dim)),
            self.report_stats(report_id))

    def vector_chunks(self, rows: np.ndarray, chunk: int):
        """The passage vectors of these rows as float32, `chunk` rows at a time, read
        with pread (NpyRows): a query process holds them in its FAISS index, and read
        through the memory map they stayed resident a second time."""
        f = NpyRows(self.path / VECTORS)
        for i in range(0, len(rows), chunk):
            yield f.get(rows[i:i + chunk]).astype(np.float32)

    def passages(self):
        """(rowid, passage) of every passage, in rowid order."""
        reports: dict[str, Report] = {}
        for row in self.db.execute(f"SELECT rowid, {pdb.PASSAGE_COLUMNS} FROM passages "
                                   "ORDER BY rowid"):
            rid = row[2]
            if rid not in reports:
                reports[rid] = self.report(rid)
            yield row[0], pdb.passage_of(row[1:], reports[rid])


def _float16_chunks(path: Path, dim: int, chunk: int):
    """A .npy file of float16 rows, read in chunks by plain reads (a memory map would
    count every page read in the process's resident memory)."""
    with open(path, "rb") as fh:
        major, _ = np.lib.format.read_magic(fh)
        read = (np.lib.format.read_array_header_1_0 if major == 1
                else np.lib.format.read_array_header_2_0)
        shape, _, _ = read(fh)
        left = shape[0]
        while left:
            n = min(chunk, left)
            yield np.fromfile(fh, dtype=np.float16, count=n * dim).reshape(n, dim)
            left -= n


def _quantise(folder: Path, dim: int, codes: str, chunk: int = 65_536) -> None:
    """Replace a segment's float16 sentence vectors by scalar-quantised codes. The
    ranges are each dimension's minimum and maximum over all the segment's vectors
    (faiss's RS_minmax, computed in chunks: bounded memory, and independent of the
    order reports were added in, so a merged segment encodes like a fresh build)."""
    import faiss

    src = folder / SENTENCES
    lo = np.full(dim, np.inf, dtype=np.float32)
    hi = np.full(dim, -np.inf, dtype=np.float32)
    n = 0
    for part in _float16_chunks(src, dim, chunk):
        lo = np.minimum(lo, part.min(0).astype(np.float32))
        hi = np.maximum(hi, part.max(0).astype(np.float32))
        n += len(part)
    if not n:
        lo, hi = np.full(dim, -1.0, np.float32), np.full(dim, 1.0, np.float32)
    sq = faiss.ScalarQuantizer(dim, getattr(faiss.ScalarQuantizer,
                                            SENTENCE_CODE_KINDS[codes]))
    trained = np.concatenate([lo, np.maximum(hi - lo, 1e-9)]).astype(np.float32)
    faiss.copy_array_to_vector(trained, sq.trained)
    sq.is_trained = True
    out = NpyWriter(folder / SENTENCE_CODES, sq.code_size, dtype=np.uint8)
    for part in _float16_chunks(src, dim, chunk):
        out.append(sq.compute_codes(np.ascontiguousarray(part, dtype=np.float32)))
    out.close()
    np.save(folder / SENTENCE_RANGES, trained, allow_pickle=False)
    src.unlink()


class NpyRows:
    """Rows of a 2-D .npy file read with pread, not mapped: a query reads a few hundred
    scattered sentence rows, and through a memory map every page it touched (and the
    pages read ahead around it) stayed in the process's resident memory, which grew
    towards the whole file (1.4 GB of sentence codes at 1M passages) over its first
    questions. Read this way the pages stay in the page cache, shared and reclaimable,
    and out of the process."""

    def __init__(self, path: Path):
        self._file = open(path, "rb", buffering=0)  # noqa: SIM115 - kept for preads
        fmt = np.lib.format
        version = fmt.read_magic(self._file)
        read = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0}.get(
            version)
        if read is None:
            raise ValueError(f"{path.name}: .npy version {version} is not supported")
        shape, fortran, dtype = read(self._file)
        if len(shape) != 2 or fortran:
            raise ValueError(f"{path.name}: not a 2-D C-order array")
        self.shape, self.dtype = shape, np.dtype(dtype)
        self._offset = self._file.tell()
        self._row = shape[1] * self.dtype.itemsize
        if os.fstat(self._file.fileno()).st_size < self._offset + shape[0] * self._row:
            raise ValueError(f"{path.name}: shorter than its header says")

    def __len__(self) -> int:
        return self.shape[0]

    def get(self, ids) -> np.ndarray:
        """The rows `ids` (in that order); each run of consecutive ids is one read (a
        passage's sentences are consecutive)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.empty((len(ids), self.shape[1]), dtype=self.dtype)
        if not len(ids):
            return out
        if ids.min() < 0 or ids.max() >= self.shape[0]:
            raise IndexError("row out of range")
        order = np.argsort(ids, kind="stable")
        sid = ids[order]
        breaks = np.flatnonzero(np.diff(sid) != 1) + 1
        fd = self._file.fileno()
        for run in np.split(np.arange(len(sid)), breaks):
            first, n = int(sid[run[0]]), int(sid[run[-1]]) - int(sid[run[0]]) + 1
            buf = os.pread(fd, n * self._row, self._offset + first * self._row)
            rows = np.frombuffer(buf, dtype=self.dtype).reshape(n, self.shape[1])
            out[order[run]] = rows[sid[run] - first]
        return out


class SentenceVectors:
    """A segment's sentence vectors, float16 or scalar-quantised, read by id."""

    def __init__(self, folder: Path):
        import faiss

        folder = Path(folder)
        if (folder / SENTENCE_CODES).exists():
            self.codes = NpyRows(folder / SENTENCE_CODES)
            trained = np.load(folder / SENTENCE_RANGES, allow_pickle=False)
            dim = len(trained) // 2
            qtype = {dim: faiss.ScalarQuantizer.QT_8bit,
                     (dim + 1) // 2: faiss.ScalarQuantizer.QT_4bit}[self.codes.shape[1]]
            self.sq = faiss.ScalarQuantizer(dim, qtype)
            faiss.copy_array_to_vector(trained.astype(np.float32), self.sq.trained)
            self.sq.is_trained = True
            self.vectors = None
            self.rows = len(self.codes)
        else:
            self.vectors = NpyRows(folder / SENTENCES)
            self.rows = len(self.vectors)

    def get(self, ids) -> np.ndarray:
        """float32 vectors of these sentence ids."""
        if self.vectors is not None:
            return self.vectors.get(ids).astype(np.float32)
        return self.sq.decode(np.ascontiguousarray(self.codes.get(ids)))
