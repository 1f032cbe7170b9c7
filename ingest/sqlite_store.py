"""The SQLite file of a segment: reports (with their metadata as columns, so filters,
facets and the library page are SQL aggregates), passages and passage sentences (the
keyword index is tantivy's: ingest/keyword_index.py).

A passage's text is stored once, in `passages.text`: its `data` JSON holds the other
fields, and a sentence is its offsets into that text. Storing it three times (text,
JSON, sentences) made the SQLite file 2.3x bigger at 1M passages."""

from __future__ import annotations

import json
import sqlite3

from ingest.models import Passage, Report

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE reports (report_id TEXT PRIMARY KEY, content_hash TEXT, source_file TEXT,
                      force TEXT, year INTEGER, programme TEXT, scope TEXT,
                      published TEXT, latest INTEGER NOT NULL DEFAULT 1,
                      data TEXT NOT NULL);
CREATE TABLE passages (rowid INTEGER PRIMARY KEY, passage_id TEXT UNIQUE,
                       report_id TEXT, kind TEXT, force TEXT, year INTEGER,
                       section TEXT, text TEXT, data TEXT NOT NULL);
CREATE INDEX passages_report ON passages(report_id);
CREATE INDEX passages_kind ON passages(kind);
CREATE INDEX passages_section ON passages(section);
CREATE TABLE sentences (id INTEGER PRIMARY KEY, passage_rowid INTEGER, idx INTEGER,
                        pos INTEGER, len INTEGER);
CREATE INDEX sentences_passage ON sentences(passage_rowid);
"""


def report_row(r: Report) -> tuple:
    """A report as a row of the reports table (`latest` is set by mark_superseded)."""
    return (r.report_id, r.content_hash, r.source_file, r.force, r.year,
            r.family, r.scope, r.published, 1, json.dumps(r.to_dict()))


def mark_superseded(db: sqlite3.Connection) -> None:
    """Set every report's `latest` flag: a report is superseded by a later report of
    the same body and programme (a 2016 PEEL effectiveness report by the 2017 one).
    Reports without a year are never superseded, nor supersede. The one place this
    rule lives (a streamed build calls it once all reports are in)."""
    db.execute("UPDATE reports SET latest = (year IS NULL OR year >= (SELECT max(r.year) "
               "FROM reports r WHERE lower(r.force) = lower(reports.force) AND "
               "lower(r.programme) = lower(reports.programme)))")


def passage_data(p: Passage) -> str:
    """A passage's `data` column: every field but its text (in the `text` column)."""
    d = p.to_dict()
    del d["text"]
    return json.dumps(d)


def passage_of(data: str, text: str) -> Passage:
    """A passage from its `data` and `text` columns."""
    return Passage.from_dict({**json.loads(data), "text": text})


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
