"""Loading a built index, checked against its manifest, through the index format
(ingest/index_format): this module names no index file. Never unpickles anything:
FAISS's own format, SQLite, JSON and a .npy opened with allow_pickle=False."""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from core.errors import IndexError_
from core.models import Passage, Report
from ingest.index_format import (
    REBUILD,
    IndexPaths,
    KeywordSearch,
    Manifest,
    SegmentEntry,
    SegmentReader,
    current_build_dir,
    phrase,
    read_lexicon,
    read_vocab,
    verify_build,
)
from ingest.index_format.passages_db import (
    ALL_PASSAGE_COLUMNS,
    PASSAGE_COLUMNS,
    mark_superseded,
    passage_of,
    passage_text,
    read_only,
    sentence_spans,
)
from retrieval.position_facets import PositionFacets
from retrieval.recent import Recent
from retrieval.text import PASSAGE_CACHE

#: What recent Filters allow, kept (least recently used out): making it for a broad
#: filter takes 4-13 ms at 1M passages (benchmarks/README.md, "Filtered search at
#: size"). One bit a passage each: 8 MB in all at 1M.
ALLOWED_CACHE = 64
#: SQLite attaches at most 10 databases to a connection; builds keep fewer segments
#: (ingest.index.MAX_SEGMENTS) and `index optimize` makes one.
MAX_ATTACHED = 10
#: Vectors added to the in-memory FAISS index at a time when an index is opened.
LOAD_CHUNK = 65_536


@dataclass(frozen=True)
class _Filtered:
    """The passages a Filters allows: how many and their bitmap over FAISS positions
    (read-only); the reports they are of when first asked."""

    count: int
    bitmap: np.ndarray
    facets: PositionFacets

    @classmethod
    def of(cls, facets: PositionFacets, mask: np.ndarray) -> _Filtered:
        bitmap = np.packbits(mask, bitorder="little")
        bitmap.flags.writeable = False
        return cls(int(np.count_nonzero(mask)), bitmap, facets)

    @cached_property
    def reports(self) -> tuple[str, ...]:
        """The reports of the allowed passages, in report-id order (worked out when
        first asked: the dense search needs only the bitmap)."""
        n = len(self.facets.report_of)
        mask = np.unpackbits(self.bitmap, count=n, bitorder="little").view(bool)
        return tuple(self.facets.reports_in(mask))


@dataclass
class IndexStatus:
    """What `reportqa index status` and the UI sidebar show."""

    index_dir: str
    build_id: str
    built_at: str
    model: str
    dimension: int
    faiss: dict
    reports: list[dict]
    passages: int
    failures: list[dict]
    duplicates: list[dict]
    seconds: float
    #: Reports whose file fails to read now: their previous version is still served.
    stale: list[dict] = field(default_factory=list)
    #: How the corpus differs from what the live index was built from (None: not
    #: checked); see ingest.index.corpus_drift.
    drift: dict | None = None
    #: Live segments, and passages of deleted reports they still hold (until merged).
    segments: int = 1
    deleted_passages: int = 0


class Store:
    """A loaded index build: manifest, the live segments (SQLite passages read-only,
    vectors, sentence vectors), one FAISS index over their live passages, and the
    keyword index. Safe to share between threads (one SQLite connection each).

    FAISS positions are not rowids: position i holds the passage `rowids[i]` (segments
    are concatenated at load, deleted reports left out)."""

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        build = current_build_dir(self.index_dir)
        if build is None:
            raise IndexError_(f"no index at {self.index_dir}", path=str(self.index_dir),
                              fix="run `reportqa index build`")
        self.build_dir = build
        self.manifest: Manifest = verify_build(build, self.index_dir)
        self.segments: list[SegmentEntry] = self.manifest.segments
        if len(self.segments) > MAX_ATTACHED:
            raise IndexError_(f"index at {self.index_dir} has {len(self.segments)} segments",
                              fix="run `reportqa index optimize`")
        self._local = threading.local()
        # Which passages recent filters allow; recent passages and their sentences,
        # as read (retrieval/recent.py).
        self._allowed = Recent(ALLOWED_CACHE)
        self._passage_cache = Recent(PASSAGE_CACHE)
        self._sentence_cache = Recent(PASSAGE_CACHE)
        self._load_vectors()
        self.vocab, self.vocab_vectors = read_vocab(build)
        try:
            n = self.db.execute("SELECT count(*) FROM passages").fetchone()[0]
        except sqlite3.DatabaseError as e:
            raise IndexError_(f"index at {self.index_dir} has a damaged passages file ({e})",
                              fix=REBUILD) from None
        if (n != self.faiss.ntotal or n != self.manifest.counts.passages
                or n != self.keywords.searcher.num_docs):
            raise IndexError_(f"index at {self.index_dir} is inconsistent ({n} passages, "
                              f"{self.faiss.ntotal} vectors, "
                              f"{self.keywords.searcher.num_docs} keyword documents)",
                              fix=REBUILD)

    def _load_vectors(self) -> None:
        """One FAISS index over the live passages of every segment, and the map from
        FAISS positions to rowids (and to each segment's own rows)."""
        import faiss

        dim = self.manifest.dimension
        rowids, seg_of, row_of, parts = [], [], [], []
        self._segment_readers = []
        for i, seg in enumerate(self.segments):
            reader = SegmentReader(IndexPaths(self.index_dir).segment(seg.id), dim)
            try:
                rows = reader.live_rows(seg.deleted)
            finally:
                reader.close()
            self._segment_readers.append(reader)
            rowids.append(reader.rowids[rows])
            seg_of.append(np.full(len(rows), i, dtype=np.int16))
            row_of.append(rows.astype(np.int32))
            parts.append((reader, rows))
        self.rowids = np.concatenate(rowids) if rowids else np.zeros(0, dtype=np.int64)
        self._seg_of = np.concatenate(seg_of) if seg_of else np.zeros(0, dtype=np.int16)
        self._row_of = np.concatenate(row_of) if row_of else np.zeros(0, dtype=np.int32)
        self._order = np.argsort(self.rowids, kind="stable")
        self._sorted = self.rowids[self._order]
        kind = self.manifest.faiss.get("type", "flat-ip")
        if kind == "flat-fp16":
            # float16 codes: the stored vectors, exact (they are float16 already).
            index = faiss.IndexScalarQuantizer(dim, faiss.ScalarQuantizer.QT_fp16,
                                               faiss.METRIC_INNER_PRODUCT)
        else:
            index = faiss.IndexFlatIP(dim)
        # Added in chunks, so loading holds one chunk beside the index, not a copy of
        # every vector (that made the query process peak 2.7 GB at 1M passages).
        for reader, r in parts:
            for v in reader.vector_chunks(r, LOAD_CHUNK):
                index.add(v)
        self.faiss = index

    def positions(self, rowids) -> np.ndarray:
        """FAISS positions of rowids (-1 for a rowid not live)."""
        r = np.asarray(rowids, dtype=np.int64)
        i = np.searchsorted(self._sorted, r)
        i = np.minimum(i, max(len(self._sorted) - 1, 0))
        ok = (len(self._sorted) > 0) & (self._sorted[i] == r) if len(self._sorted) else \
            np.zeros(len(r), dtype=bool)
        return np.where(ok, self._order[i] if len(self._order) else -1, -1)

    def vectors(self, rowids: list[int]) -> np.ndarray:
        """Live passages' vectors, in the order given (one call into FAISS)."""
        pos = self.positions(rowids)
        if len(pos) and pos.min() < 0:
            raise KeyError("a rowid that is not live")
        return self.faiss.reconstruct_batch(pos.astype(np.int64))

    def sentences(self, rowids: list[int], texts: dict[int, str] | None = None
                  ) -> list[tuple[int, str, np.ndarray]]:
        """(passage rowid, sentence, vector) for every sentence of these passages, in
        reading order (see :meth:`sentence_rows`)."""
        owners, sents, vectors = self.sentence_rows(rowids, texts)
        return list(zip(owners, sents, vectors))

    def sentence_rows(self, rowids: list[int], texts: dict[int, str] | None = None
                      ) -> tuple[list[int], list[str], np.ndarray]:
        """Every sentence of these passages, in reading order: the passage rowid of
        each, its text, and their vectors as one matrix (a row a sentence). `texts`
        (rowid → the passage's text, when the caller has them) saves reading and
        decompressing them again."""
        owners: list[int] = []
        sents: list[str] = []
        if not rowids:
            return owners, sents, np.empty((0, 0), dtype=np.float32)
        wanted = sorted({int(r) for r in rowids})
        got = self._sentence_cache.found(wanted)
        missing = [r for r in wanted if r not in got]
        if missing:
            got.update(self._read_sentences(missing, texts))
        vectors = []
        for r in wanted:
            if r in got:
                ss, v = got[r]
                owners.extend([r] * len(ss))
                sents.extend(ss)
                vectors.append(v)
        if not sents:
            return owners, sents, np.empty((0, 0), dtype=np.float32)
        return owners, sents, np.concatenate(vectors)

    def _read_sentences(self, rowids: list[int], texts: dict[int, str] | None
                        ) -> dict[int, tuple[tuple[str, ...], np.ndarray]]:
        """Per live rowid of `rowids`: its sentences and their vectors (a row each),
        read from the index and kept in the sentence cache."""
        q = ",".join(map(str, rowids))
        have = texts is not None and all(r in texts for r in rowids)
        rows = self.db.execute(
            f"SELECT seg, rowid, {'NULL' if have else 'text'}, first_sentence, spans "
            f"FROM passages WHERE rowid IN ({q}) ORDER BY rowid").fetchall()
        segs: list[int] = []
        ids: list[int] = []
        split: dict[int, tuple[str, ...]] = {}
        for seg, rowid, blob, first, spans in rows:
            text = texts[rowid] if have else passage_text(blob)
            sp = sentence_spans(spans)
            split[rowid] = tuple(text[a:a + n] for a, n in sp)
            segs.extend([seg] * len(sp))
            ids.extend(range(first, first + len(sp)))
        vectors = np.empty((len(ids), self.manifest.dimension), dtype=np.float32)
        if ids:
            seg_of, id_of = np.asarray(segs), np.asarray(ids, dtype=np.int64)
            for seg in dict.fromkeys(segs):
                at = seg_of == seg
                vectors[at] = self._segment_readers[seg].sentence_vectors.get(id_of[at])
        vectors.flags.writeable = False  # the cache's rows are shared
        out, at = {}, 0
        for rowid, ss in split.items():
            out[rowid] = (ss, vectors[at:at + len(ss)])
            at += len(ss)
        self._sentence_cache.keep(out)
        return out

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's read-only connection: the segments attached, a view over their
        live passages (with the segment each is in) and a table of the live reports
        with their `latest` flags."""
        con = getattr(self._local, "db", None)
        if con is None:
            con = self._connect()
            self._local.db = con
        return con

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect("file::memory:", uri=True, check_same_thread=False)
        con.execute("CREATE TEMP TABLE dead (seg INTEGER, report_id TEXT, "
                    "PRIMARY KEY (seg, report_id))")
        arms, rarms = [], []
        for i, seg in enumerate(self.segments):
            path = self._segment_readers[i].passages_file
            try:
                con.execute("ATTACH DATABASE ? AS ?", (read_only(path), f"s{i}"))
            except sqlite3.Error as e:
                raise IndexError_(f"index file {path} is damaged ({e})", fix=REBUILD) from None
            con.executemany("INSERT INTO dead VALUES (?,?)", [(i, r) for r in seg.deleted])
            live = (f" WHERE report_id NOT IN (SELECT report_id FROM temp.dead WHERE seg={i})"
                    if seg.deleted else "")
            arms.append(f"SELECT {i} AS seg, {ALL_PASSAGE_COLUMNS} FROM s{i}.passages{live}")
            rarms.append(f"SELECT * FROM s{i}.reports{live}")
        try:
            con.execute("CREATE TEMP VIEW passages AS " + " UNION ALL ".join(arms))
            con.execute("CREATE TEMP TABLE reports AS " + " UNION ALL ".join(rarms))
            mark_superseded(con)
        except sqlite3.DatabaseError as e:
            raise IndexError_(f"index at {self.index_dir} has a damaged passages file ({e})",
                              fix=REBUILD) from None
        return con

    @property
    def model(self) -> str:
        """The model the vectors were made with."""
        return self.manifest.model

    @property
    def build_id(self) -> str:
        return self.manifest.build_id

    def check_model(self, model: str) -> None:
        """Refuse to query with a model other than the one that built the index."""
        if model != self.model:
            raise IndexError_(
                f"index at {self.index_dir} was built with model '{self.model}', "
                f"but '{model}' is configured",
                fix=f"set REPORTQA_MODEL={self.model}, or run `reportqa index build --full "
                    f"--model {model}`")

    @cached_property
    def keywords(self) -> KeywordSearch:
        """The build's keyword (BM25) index."""
        return KeywordSearch(self.build_dir)

    @lru_cache(maxsize=8192)  # noqa: B019 — a Store lives as long as its build is live
    def df(self, phrase: str) -> int:
        """Passages whose text or section holds a phrase (the keyword index's stemmer)."""
        return self.df_together((phrase,))

    @lru_cache(maxsize=8192)  # noqa: B019
    def df_together(self, phrases: tuple[str, ...]) -> int:
        """Passages that hold every one of several phrases."""
        return self.keywords.count_together(map(phrase, phrases))

    @cached_property
    def vocab_matrix(self) -> np.ndarray | None:
        """The vocabulary words' vectors in float32, in memory. The file keeps float16,
        and a product with its memory map converted every row each time: 15 ms a
        question with words to bridge on the real filings' 15,209 words, against 1 ms.
        It costs 4 bytes a dimension (23 MB for those words)."""
        vv = self.vocab_vectors
        return None if vv is None else np.ascontiguousarray(vv, dtype=np.float32)

    @cached_property
    def vocab_index(self) -> dict[str, int]:
        """Row of each vocabulary word in vocab_vectors."""
        return {w: i for i, w in enumerate(self.vocab)}

    @cached_property
    def lexicon(self):
        """The index's words, learned short forms, places and spelling (the build's
        lexicon file)."""
        from retrieval.query import Lexicon

        lex = read_lexicon(self.build_dir)
        return Lexicon(lex.words, lex.aliases, self.df, self.df_together, self.faiss.ntotal,
                       places=lex.places)

    @cached_property
    def reports(self) -> list[Report]:
        """All indexed reports."""
        return [Report.from_dict(json.loads(d)) for (d,) in
                self.db.execute("SELECT data FROM reports ORDER BY report_id")]

    @cached_property
    def bodies(self) -> tuple[str, ...]:
        """The inspected bodies of the reports, sorted, each once (worked out once per
        index, for the reading of every question and its scope: on an archive of 1,076
        reports it took 0.4 ms a question)."""
        return tuple(sorted({r.force for r in self.reports if r.force}))

    @cached_property
    def report_years(self) -> tuple[int, ...]:
        """The year of every report that has one."""
        return tuple(r.year for r in self.reports if r.year)

    @cached_property
    def _report_of(self) -> dict[str, Report]:
        return {r.report_id: r for r in self.reports}

    @cached_property
    def latest(self) -> dict[str, bool]:
        """Per report id: whether it is the latest report of its body and programme
        (the reports table's `latest` column, set at build time)."""
        return {rid: bool(x) for rid, x in self.db.execute(
            "SELECT report_id, latest FROM reports")}

    def passages(self, rowids: list[int]) -> dict[int, Passage]:
        """Passages by rowid."""
        ids = list(dict.fromkeys(int(r) for r in rowids))
        out: dict[int, Passage] = self._passage_cache.found(ids)
        missing = [r for r in ids if r not in out]
        read: dict[int, Passage] = {}
        for i in range(0, len(missing), 500):
            chunk = missing[i : i + 500]
            q = (f"SELECT rowid, {PASSAGE_COLUMNS} FROM passages WHERE rowid IN "
                 f"({','.join('?' * len(chunk))})")
            for row in self.db.execute(q, chunk):
                read[row[0]] = passage_of(row[1:], self._report_of[row[2]])
        self._passage_cache.keep(read)
        out.update(read)
        return {r: out[r] for r in ids if r in out}

    def rowids_of(self, passage_ids: list[str]) -> list[int]:
        """Rowids of passages by passage id, in the order given (ids not live left out)."""
        if not passage_ids:
            return []
        q = (f"SELECT passage_id, rowid FROM passages "
             f"WHERE passage_id IN ({','.join('?' * len(passage_ids))})")
        found = dict(self.db.execute(q, passage_ids).fetchall())
        return [found[p] for p in passage_ids if p in found]

    @staticmethod
    def _report_conditions(filters) -> tuple[str, list]:
        """The filters' conditions on the reports table (force, year, programme,
        latest-only) as SQL and its values; "" when they set none. Force and year are a
        report's (a passage's are copied from its report, ingest/passages.py), so they
        are tested here, one row a report, never on the passages."""
        rep: list[str] = []
        args: list = []
        if filters.forces:
            rep.append("(" + " OR ".join("instr(lower(force), ?) > 0"
                                         for _ in filters.forces) + ")")
            args.extend(f.lower() for f in filters.forces)
        if filters.years:
            rep.append(f"year IN ({','.join('?' * len(filters.years))})")
            args.extend(int(y) for y in filters.years)
        if filters.programmes:
            rep.append("(" + " OR ".join("lower(programme) = ?" for _ in filters.programmes)
                       + ")")
            args.extend(p.lower() for p in filters.programmes)
        if filters.latest_only:
            rep.append("latest = 1")
        return " AND ".join(rep), args

    def _allowed_reports(self, filters) -> list[str] | None:
        """The reports the filters' report-level conditions allow (named reports, force,
        year, programme, latest-only), from the reports table; None when they set none."""
        where, args = self._report_conditions(filters)
        if not where:
            return list(filters.report_ids) if filters.report_ids else None
        got = [r for (r,) in self.db.execute(
            f"SELECT report_id FROM reports WHERE {where}", args)]
        if filters.report_ids:
            named = set(filters.report_ids)
            got = [r for r in got if r in named]
        return got

    @cached_property
    def facets(self) -> PositionFacets:
        """Each FAISS position's report, kind and section (retrieval/position_facets.py),
        read once (Searcher.warm_up reads it before the first question)."""
        return PositionFacets.read(
            self.db.execute("SELECT rowid, report_id, kind, section FROM passages"),
            self.positions, int(self.faiss.ntotal))

    def report_scope(self, filters) -> tuple[str, ...] | None:
        """The reports the filters' report-level conditions allow (None when they set
        none): the keyword index filters by report id and kind, never by rowid."""
        if not (filters.report_ids or filters.forces or filters.years or filters.programmes
                or filters.latest_only):
            return None
        return tuple(self.report_ids_where(replace(filters, kinds=(), section=None)))

    def report_ids_where(self, filters) -> list[str]:
        """The reports that hold passages the filters allow, in report-id order."""
        return list(self._filtered(filters).reports)

    def mentions(self, text: str, report_ids: tuple[str, ...]) -> bool:
        """Whether some passage of these reports uses a phrase (the keyword index's
        tokens)."""
        expr = phrase(text)
        return bool(expr and report_ids and self.keywords.count(expr, report_ids))

    def allowed_rowids(self, filters) -> np.ndarray:
        """Rowids of the passages the filters allow, ascending."""
        _, bitmap = self.allowed(filters)
        pos = np.flatnonzero(np.unpackbits(bitmap, bitorder="little")[:len(self.rowids)])
        return np.sort(self.rowids[pos])

    def allows(self, filters, rowids: list[int]) -> list[bool]:
        """Whether the filters allow each of these passages."""
        _, bitmap = self.allowed(filters)
        bits = np.unpackbits(bitmap, bitorder="little")
        pos = self.positions(rowids)
        return [bool(p >= 0 and bits[p]) for p in pos]

    def allowed(self, filters) -> tuple[int, np.ndarray]:
        """The passages the filters allow: how many, and a read-only bitmap over FAISS
        positions (bit i in byte i // 8, least significant first: the layout of
        ``faiss.IDSelectorBitmap``). Cached per Filters (a frozen dataclass): a user
        asks several questions under one filter, and each question the app scopes to
        the reports it names is a Filters of its own, so the cache holds many — a
        bitmap is one bit a passage (125 kB at 1M passages)."""
        got = self._filtered(filters)
        return got.count, got.bitmap

    def _filtered(self, filters) -> _Filtered:
        """What the filters allow, worked out once per Filters from one mask and kept:
        the keyword search asks each question's reports, and a comparison its reports
        and then each one's passages."""
        return self._allowed.get(filters, lambda: _Filtered.of(
            self.facets, self.facets.mask(self._allowed_reports(filters),
                                          tuple(filters.kinds), filters.section)))

    def iter_passages(self, report_id: str | None = None):
        """Every passage in reading order (optionally one report's)."""
        yield from (p for _, p in self.passage_rows(report_id))

    def passage_rows(self, report_id: str | None = None):
        """(rowid, passage) of every passage in reading order (optionally one
        report's)."""
        q = f"SELECT rowid, {PASSAGE_COLUMNS} FROM passages"
        args: tuple = ()
        if report_id:
            q += " WHERE report_id=?"
            args = (report_id,)
        for row in self.db.execute(q + " ORDER BY rowid", args):
            yield row[0], passage_of(row[1:], self._report_of[row[2]])

    def status(self) -> IndexStatus:
        """Summary for `index status` and the UI."""
        counts: dict[str, int] = dict(self.db.execute(
            "SELECT report_id, count(*) FROM passages GROUP BY report_id").fetchall())
        # Every metadata field with where it came from (Report.provenance).
        stale = {x["file"]: x["reason"] for x in self.manifest.stale}
        reps = [{**r.to_dict(), "passages": counts.get(r.report_id, 0),
                 "latest": self.latest.get(r.report_id, True),
                 "stale": stale.get(r.source_file)} for r in self.reports]
        m = self.manifest
        return IndexStatus(
            index_dir=str(self.index_dir), build_id=m.build_id, built_at=m.built_at,
            model=m.model, dimension=m.dimension, faiss=m.faiss, reports=reps,
            passages=m.counts.passages, failures=m.failures, duplicates=m.duplicates,
            seconds=m.seconds, stale=m.stale, segments=len(self.segments),
            deleted_passages=sum(x.deleted_passages for x in self.segments))
