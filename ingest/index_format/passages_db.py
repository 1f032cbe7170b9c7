"""A segment's SQLite file (passages.sqlite): reports (with their metadata as columns,
so filters, facets and the library page are SQL aggregates), passages, and each
report's lexicon statistics (the keyword index is tantivy's:
ingest/index_format/keyword.py). Its schema, and a row's encoding and decoding.

A passage row is compact, and nothing in it is lost: the text is stored once,
zlib-compressed (lossless: a passage is the report's words, byte for byte); `data` holds
only what is neither a column nor its report's (page labels, PDF pages, order, section
path, and a report field only where it differs); its sentences are (offset, length)
pairs into the text, their vectors rows from `first_sentence` on. At 1M passages this
made the file 2.7 GB instead of 5.4 GB (text three times, JSON, FTS5) — see
benchmarks/README.md."""

from __future__ import annotations

import json
import sqlite3
import zlib

import numpy as np

from core.models import Passage, Report

#: No index on kind or section: filters read them from memory (retrieval/position_facets.py),
#: and the two indexes were 9% of the real filings' passages file.
SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE reports (report_id TEXT PRIMARY KEY, content_hash TEXT, source_file TEXT,
                      force TEXT, year INTEGER, programme TEXT, scope TEXT,
                      published TEXT, latest INTEGER NOT NULL DEFAULT 1,
                      data TEXT NOT NULL);
CREATE TABLE passages (rowid INTEGER PRIMARY KEY, passage_id TEXT UNIQUE,
                       report_id TEXT, kind TEXT, force TEXT, year INTEGER,
                       section TEXT, text BLOB, data TEXT NOT NULL,
                       first_sentence INTEGER, spans BLOB);
CREATE INDEX passages_report ON passages(report_id);
CREATE TABLE report_stats (report_id TEXT PRIMARY KEY, data TEXT NOT NULL);
"""


def create(db: sqlite3.Connection) -> None:
    """The tables of a new segment's file."""
    db.executescript(SCHEMA)


def insert_report(db: sqlite3.Connection, report: Report, rows: list[tuple],
                  stats_json: str) -> None:
    """Add a report, its passage rows (passage_row) and its lexicon statistics."""
    db.execute(f"INSERT INTO reports VALUES ({','.join('?' * 10)})", report_row(report))
    db.executemany(f"INSERT INTO passages VALUES ({','.join('?' * 11)})", rows)
    db.execute("INSERT INTO report_stats VALUES (?,?)", (report.report_id, stats_json))


def read_only(path) -> str:
    """The URI that opens a segment's file read-only."""
    return f"file:{path}?mode=ro"


def report_row(r: Report) -> tuple:
    """A report as a row of the reports table (`latest` is set by mark_superseded)."""
    return (r.report_id, r.content_hash, r.source_file, r.force, r.year,
            r.family, r.scope, r.published, 1, json.dumps(r.to_dict()))


def mark_superseded(db: sqlite3.Connection) -> None:
    """Set every report's `latest` flag: a report is superseded by a later report of
    the same body and programme (a 2016 PEEL effectiveness report by the 2017 one).
    Reports without a year are never superseded, nor supersede. The one place this
    rule lives. Worked out in one pass (a correlated SQL subquery per report took 80 s
    at 10,000 reports)."""
    rows = db.execute("SELECT report_id, lower(force), lower(programme), year "
                      "FROM reports").fetchall()
    best: dict = {}
    for _, f, p, y in rows:
        if y is not None:
            best[(f, p)] = max(best.get((f, p), y), y)
    db.execute("CREATE TEMP TABLE IF NOT EXISTS superseded (report_id TEXT PRIMARY KEY)")
    db.execute("DELETE FROM temp.superseded")
    db.executemany("INSERT OR IGNORE INTO temp.superseded VALUES (?)",
                   [(rid,) for rid, f, p, y in rows if y is not None and y < best[(f, p)]])
    db.execute("UPDATE reports SET latest = report_id NOT IN "
               "(SELECT report_id FROM temp.superseded)")


#: A passage's fields that are its report's (passage field → report field).
_FROM_REPORT = {"report_title": "title", "inspection_type": "inspection_type",
                "source_file": "source_file"}
#: The passage columns passage_of reads, in order.
PASSAGE_COLUMNS = "passage_id, report_id, kind, force, year, text, data"
#: Every column of the passages table, in order.
ALL_PASSAGE_COLUMNS = ("rowid, passage_id, report_id, kind, force, year, section, text, "
                       "data, first_sentence, spans")


def passage_row(rowid: int, p: Passage, report: Report, first_sentence: int,
                sentences: list[str]) -> tuple:
    """A passage as a row of the passages table."""
    d = {"section": list(p.section), "page_labels": list(p.page_labels),
         "pdf_pages": list(p.pdf_pages), "order": p.order}
    for field, rfield in _FROM_REPORT.items():
        if getattr(p, field) != getattr(report, rfield):
            d[field] = getattr(p, field)
    spans = np.asarray(sentence_offsets(p.text, sentences), dtype=np.uint32)
    return (rowid, p.passage_id, p.report_id, p.kind, p.force, p.year, " > ".join(p.section),
            zlib.compress(p.text.encode("utf-8"), 6), json.dumps(d), first_sentence,
            spans.tobytes())


def passage_text(blob: bytes) -> str:
    """A passage's text from its `text` column."""
    return zlib.decompress(blob).decode("utf-8")


def passage_of(row: tuple, report: Report) -> Passage:
    """A passage from its PASSAGE_COLUMNS and its report."""
    passage_id, report_id, kind, force, year, text, data = row
    d = json.loads(data)
    for field, rfield in _FROM_REPORT.items():
        d.setdefault(field, getattr(report, rfield))
    return Passage.from_dict({**d, "passage_id": passage_id, "report_id": report_id,
                              "kind": kind, "force": force, "year": year,
                              "text": passage_text(text)})


def sentence_spans(blob: bytes) -> list[tuple[int, int]]:
    """A passage's sentences as (offset, length) pairs, from its `spans` column."""
    a = np.frombuffer(blob, dtype=np.uint32)
    return list(zip(a[0::2].tolist(), a[1::2].tolist()))


def sentence_offsets(text: str, sentences: list[str]) -> list[tuple[int, int]]:
    """Where each sentence is in its passage's text (sentences are stripped pieces of
    it, in order)."""
    out, at = [], 0
    for t in sentences:
        i = text.find(t, at)
        if i < 0:
            raise ValueError(f"sentence not found in its passage: {t[:40]!r}")
        out.append((i, len(t)))
        at = i + len(t)
    return out
