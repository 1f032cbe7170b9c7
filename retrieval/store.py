"""Loading a built index, checked against its manifest. Never unpickles anything:
FAISS's own format, SQLite, JSON and a .npy opened with allow_pickle=False."""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from ingest.build_dir import current_build_dir, verify_build
from ingest.errors import IndexError_
from ingest.models import Passage, Report

REBUILD = "run `reportqa index build --full`"
#: Allowed-passage bitmaps kept per Filters (least recently used out): reading a big
#: allowed set from SQLite takes 0.1-0.3 s at 1M passages (benchmarks/README.md,
#: "Filtered search at size"). One bit a passage each: 8 MB in all at 1M.
ALLOWED_CACHE = 64


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


class Store:
    """A loaded index build: manifest, SQLite passages (read-only), FAISS vectors and
    sentence vectors. Safe to share between threads (one SQLite connection each)."""

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        build = current_build_dir(self.index_dir)
        if build is None:
            raise IndexError_(f"no index at {self.index_dir}", path=str(self.index_dir),
                              fix="run `reportqa index build`")
        self.build_dir = build
        self.manifest = verify_build(build, self.index_dir)
        self._local = threading.local()
        self._allowed: OrderedDict = OrderedDict()
        self._allowed_lock = threading.Lock()
        try:
            import faiss

            self.faiss = faiss.read_index(str(build / "vectors.faiss"))
        except Exception as e:  # noqa: BLE001 — FAISS raises RuntimeError for bad files
            raise IndexError_(f"index file {build / 'vectors.faiss'} is damaged "
                              f"({str(e).splitlines()[0][:80]})", fix=REBUILD) from None
        try:
            self.sentence_vectors = np.load(build / "sentences.npy", mmap_mode="r",
                                            allow_pickle=False)
        except (ValueError, OSError) as e:
            raise IndexError_(f"index file {build / 'sentences.npy'} is damaged ({e})",
                              fix=REBUILD) from None
        self.vocab: list[str] = []
        self.vocab_vectors = None
        if (build / "vocab.npy").exists():
            try:
                self.vocab = (build / "vocab.txt").read_text(encoding="utf-8").split("\n")
                self.vocab_vectors = np.load(build / "vocab.npy", mmap_mode="r",
                                             allow_pickle=False)
            except (ValueError, OSError) as e:
                raise IndexError_(f"index file {build / 'vocab.npy'} is damaged ({e})",
                                  fix=REBUILD) from None
            if len(self.vocab) != self.vocab_vectors.shape[0]:
                raise IndexError_(f"index at {self.index_dir} is inconsistent (vocabulary)",
                                  fix=REBUILD)
        try:
            n = self.db.execute("SELECT count(*) FROM passages").fetchone()[0]
        except sqlite3.DatabaseError as e:
            raise IndexError_(f"index file {build / 'passages.sqlite'} is damaged ({e})",
                              fix=REBUILD) from None
        if n != self.faiss.ntotal or n != self.manifest.get("counts", {}).get("passages"):
            raise IndexError_(f"index at {self.index_dir} is inconsistent ({n} passages, "
                              f"{self.faiss.ntotal} vectors)", fix=REBUILD)

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's read-only connection."""
        con = getattr(self._local, "db", None)
        if con is None:
            con = sqlite3.connect(f"file:{self.build_dir / 'passages.sqlite'}?mode=ro",
                                  uri=True, check_same_thread=False)
            self._local.db = con
        return con

    @property
    def model(self) -> str:
        """The model the vectors were made with."""
        return self.manifest["model"]["name"]

    @property
    def build_id(self) -> str:
        return self.manifest["build_id"]

    def check_model(self, model: str) -> None:
        """Refuse to query with a model other than the one that built the index."""
        if model != self.model:
            raise IndexError_(
                f"index at {self.index_dir} was built with model '{self.model}', "
                f"but '{model}' is configured",
                fix=f"set REPORTQA_MODEL={self.model}, or run `reportqa index build --full "
                    f"--model {model}`")

    @lru_cache(maxsize=8192)  # noqa: B019 — a Store lives as long as its build is live
    def df(self, phrase: str) -> int:
        """Passages whose text or section holds a phrase (FTS5's stemmer)."""
        return self.df_together((phrase,))

    @lru_cache(maxsize=8192)  # noqa: B019
    def df_together(self, phrases: tuple[str, ...]) -> int:
        """Passages that hold every one of several phrases."""
        parts = ['"' + " ".join(re.findall(r"[a-z0-9]+", p.lower())) + '"' for p in phrases]
        parts = [p for p in parts if p != '""']
        if not parts:
            return 0
        try:
            row = self.db.execute("SELECT count(*) FROM passages_fts WHERE passages_fts "
                                  "MATCH ?", [" AND ".join(parts)]).fetchone()
            return int(row[0])
        except sqlite3.Error:
            return 0

    @cached_property
    def lexicon(self):
        """The index's words, learned short forms and spelling (lexicon.json; learned
        on load for a build that predates it)."""
        from retrieval.query import Lexicon

        path = self.build_dir / "lexicon.json"
        if path.exists():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                words, aliases = dict(data["words"]), dict(data["aliases"])
                places = dict(data.get("places") or {})
            except (ValueError, KeyError, TypeError, OSError) as e:
                raise IndexError_(f"index file {path} is damaged ({e.__class__.__name__})",
                                  fix=REBUILD) from None
        else:
            from ingest.lexicon import learn_aliases, learn_places, word_counts

            ps = list(self.iter_passages())
            words = word_counts(ps)
            aliases = learn_aliases(self.reports, ps, words)
            places = learn_places(self.reports, ps)
        return Lexicon(words, aliases, self.df, self.df_together, self.faiss.ntotal,
                       places=places)

    @cached_property
    def reports(self) -> list[Report]:
        """All indexed reports."""
        return [Report.from_dict(json.loads(d)) for (d,) in
                self.db.execute("SELECT data FROM reports ORDER BY report_id")]

    @cached_property
    def latest(self) -> dict[str, bool]:
        """Per report id: whether it is the latest report of its body and programme
        (the reports table's `latest` column, set at build time)."""
        return {rid: bool(x) for rid, x in self.db.execute(
            "SELECT report_id, latest FROM reports")}

    def passages(self, rowids: list[int]) -> dict[int, Passage]:
        """Passages by rowid."""
        out: dict[int, Passage] = {}
        ids = list(dict.fromkeys(int(r) for r in rowids))
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            q = f"SELECT rowid, data FROM passages WHERE rowid IN ({','.join('?' * len(chunk))})"
            for rid, d in self.db.execute(q, chunk):
                out[rid] = Passage.from_dict(json.loads(d))
        return out

    def rowids_of(self, passage_ids: list[str]) -> list[int]:
        """Rowids of passages by passage id."""
        q = f"SELECT rowid FROM passages WHERE passage_id IN ({','.join('?' * len(passage_ids))})"
        return [r for (r,) in self.db.execute(q, passage_ids)] if passage_ids else []

    @staticmethod
    def filter_clause(filters) -> tuple[str, list]:
        """A SQL condition on the passages table (and its values) that passes exactly
        the passages the filters allow: the filters run in SQLite, at any index size.

        Force and year are a report's, and a passage's are copied from its report
        (ingest/passages.py), so they are tested on the reports table — one row a
        report — together with programme and latest-only; the passages then come from
        the passages_report index. Tested on the passages table, they made SQLite read
        every passage row: 0.4-0.5 s at 100k passages."""
        conds: list[str] = []
        args: list = []

        def any_of(column: str, values) -> None:
            conds.append(f"{column} IN ({','.join('?' * len(values))})")
            args.extend(values)

        if filters.report_ids:
            any_of("report_id", filters.report_ids)
        if filters.section:
            # A substring: no index serves it, but passages_section makes the scan one
            # of the (small) index rather than of the passage rows.
            conds.append("instr(lower(section), ?) > 0")
            args.append(filters.section.lower())
        if filters.kinds:
            any_of("kind", filters.kinds)
        rep: list[str] = []
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
        if rep:
            conds.append(f"report_id IN (SELECT report_id FROM reports WHERE {' AND '.join(rep)})")
        return (" AND ".join(conds) or "1"), args

    def report_ids_where(self, filters) -> list[str]:
        """The reports that hold passages the filters allow, in report-id order."""
        where, args = self.filter_clause(filters)
        return [r for (r,) in self.db.execute(
            f"SELECT DISTINCT report_id FROM passages WHERE {where} ORDER BY report_id", args)]

    def mentions(self, phrase: str, report_ids: tuple[str, ...]) -> bool:
        """Whether some passage of these reports uses a phrase (FTS5's tokens)."""
        toks = re.findall(r"[a-z0-9]+", phrase.lower())
        if not toks or not report_ids:
            return False
        try:
            row = self.db.execute(
                # `+rowid`: see Searcher.keyword (a bare rowid IN runs the MATCH once
                # per passage of the reports).
                "SELECT 1 FROM passages_fts WHERE passages_fts MATCH ? AND +rowid IN "
                f"(SELECT rowid FROM passages WHERE report_id IN "
                f"({','.join('?' * len(report_ids))})) LIMIT 1",
                ['"' + " ".join(toks) + '"', *report_ids]).fetchone()
        except sqlite3.Error:
            return False
        return row is not None

    def allowed_rowids(self, filters) -> np.ndarray:
        """Rowids of the passages the filters allow, ascending."""
        _, bitmap = self.allowed(filters)
        return np.flatnonzero(np.unpackbits(bitmap, bitorder="little")).astype(np.int64) + 1

    def allowed(self, filters) -> tuple[int, np.ndarray]:
        """The passages the filters allow: how many, and a read-only bitmap over FAISS
        ids (rowid - 1; bit i in byte i // 8, least significant first: the layout of
        ``faiss.IDSelectorBitmap``). Cached per Filters (a frozen dataclass): a user
        asks several questions under one filter, and each question the app scopes to
        the reports it names is a Filters of its own, so the cache holds many — a
        bitmap is one bit a passage (125 kB at 1M passages)."""
        with self._allowed_lock:
            hit = self._allowed.get(filters)
            if hit is not None:
                self._allowed.move_to_end(filters)
                return hit
        where, args = self.filter_clause(filters)
        rows = self.db.execute(f"SELECT rowid FROM passages WHERE {where}", args)
        ids = np.fromiter((r for (r,) in rows), dtype=np.int64)
        mask = np.zeros(max(int(self.faiss.ntotal), int(ids.max()) if len(ids) else 0),
                        dtype=bool)
        mask[ids - 1] = True
        bitmap = np.packbits(mask, bitorder="little")
        bitmap.flags.writeable = False
        hit = (len(ids), bitmap)
        with self._allowed_lock:
            self._allowed[filters] = hit
            while len(self._allowed) > ALLOWED_CACHE:
                self._allowed.popitem(last=False)
        return hit

    def iter_passages(self, report_id: str | None = None):
        """Every passage in reading order (optionally one report's)."""
        q = "SELECT data FROM passages"
        args: tuple = ()
        if report_id:
            q += " WHERE report_id=?"
            args = (report_id,)
        for (d,) in self.db.execute(q + " ORDER BY rowid", args):
            yield Passage.from_dict(json.loads(d))

    def status(self) -> IndexStatus:
        """Summary for `index status` and the UI."""
        counts: dict[str, int] = dict(self.db.execute(
            "SELECT report_id, count(*) FROM passages GROUP BY report_id").fetchall())
        # Every metadata field with where it came from (Report.provenance).
        stale = {x["file"]: x["reason"] for x in self.manifest.get("stale", [])}
        reps = [{**r.to_dict(), "passages": counts.get(r.report_id, 0),
                 "latest": self.latest.get(r.report_id, True),
                 "stale": stale.get(r.source_file)} for r in self.reports]
        m = self.manifest
        return IndexStatus(
            index_dir=str(self.index_dir), build_id=m["build_id"], built_at=m["built_at"],
            model=m["model"]["name"], dimension=m["model"]["dimension"], faiss=m["faiss"],
            reports=reps, passages=m["counts"]["passages"], failures=m.get("failures", []),
            duplicates=m.get("duplicates", []), seconds=m.get("seconds", 0.0),
            stale=m.get("stale", []))
