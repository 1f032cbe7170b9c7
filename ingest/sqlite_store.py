"""The SQLite file of a build: reports (with their metadata as columns, so filters,
facets and the library page are SQL aggregates), passages and passage sentences (the
keyword index is tantivy's: ingest/keyword_index.py)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

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
                        text TEXT);
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


def write_sqlite(path: Path, reports: list[Report], passages: list[Passage],
                 sentences: list[tuple[int, int, str]]) -> None:
    """Write a build's SQLite file: passage i gets rowid i+1 (its FAISS row is i)."""
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.executemany("INSERT INTO reports VALUES (?,?,?,?,?,?,?,?,?,?)",
                   [report_row(r) for r in reports])
    mark_superseded(db)
    db.executemany(
        "INSERT INTO passages VALUES (?,?,?,?,?,?,?,?,?)",
        [
            (i + 1, p.passage_id, p.report_id, p.kind, p.force, p.year,
             " > ".join(p.section), p.text, json.dumps(p.to_dict()))
            for i, p in enumerate(passages)
        ],
    )
    db.executemany("INSERT INTO sentences VALUES (?,?,?,?)",
                   [(i, pr, idx, t) for i, (pr, idx, t) in enumerate(sentences)])
    db.commit()
    db.close()
