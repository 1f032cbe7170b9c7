"""Filters of reports, bodies, years, programmes, latest-only and kinds are answered from
each FAISS position's report and kind (retrieval/position_facets.py), not a SQLite
query per filter: on the archive's real index they allow exactly the passages and list
exactly the reports that SQLite's condition for the same filter does."""

from __future__ import annotations

import random

import numpy as np
import pytest

from retrieval.answer import Filters
from retrieval.store import Store


@pytest.fixture(scope="module")
def store(archive):
    return Store(archive[2])


def _sql(store: Store, filters: Filters) -> tuple[np.ndarray, list[str]]:
    where, args = store.filter_clause(filters)
    rows = np.sort(np.fromiter((r for (r,) in store.db.execute(
        f"SELECT rowid FROM passages WHERE {where}", args)), dtype=np.int64))
    reps = [r for (r,) in store.db.execute(
        f"SELECT DISTINCT report_id FROM passages WHERE {where} ORDER BY report_id", args)]
    return rows, reps


def _filters(store: Store, n: int) -> list[Filters]:
    reps = [r.report_id for r in store.reports]
    kinds = sorted({p.kind for p in store.iter_passages()}) + ["no such kind"]
    forces = sorted({r.force for r in store.reports if r.force})
    years = sorted({r.year for r in store.reports if r.year})
    programmes = sorted({r.programme for r in store.reports if r.programme})
    rnd = random.Random(7)

    def some(xs, most):
        return tuple(rnd.sample(xs, min(len(xs), rnd.randint(0, most))))

    out = [Filters(), Filters(latest_only=True), Filters(report_ids=("no such report",))]
    for _ in range(n):
        out.append(Filters(
            report_ids=some(reps + ["no such report"], 3),
            # A part of a body's name, in another case: matched as SQLite's instr(lower()).
            forces=tuple(f[: rnd.randint(3, 8)].upper() for f in some(forces, 2)),
            years=some(years, 2), kinds=some(kinds, 3),
            programmes=tuple(p.upper() for p in some(programmes, 1)),
            latest_only=rnd.random() < 0.3))
    return out


def test_the_same_passages_and_reports_as_sqlite(store):
    assert len(store.reports) > 3 and len(store.facets.kinds) > 2
    for filters in _filters(store, 200):
        rows, reps = _sql(store, filters)
        n, _ = store.allowed(filters)
        assert n == len(rows), filters
        assert np.array_equal(store.allowed_rowids(filters), rows), filters
        assert store.report_ids_where(filters) == reps, filters


def test_a_section_filter_still_goes_to_sqlite(store):
    p = next(p for p in store.iter_passages() if p.section)
    filters = Filters(section=p.section[-1][1:].upper(), kinds=(p.kind,))
    rows, reps = _sql(store, filters)
    assert len(rows) and np.array_equal(store.allowed_rowids(filters), rows)
    assert store.report_ids_where(filters) == reps and p.report_id in reps


def test_each_position_holds_its_passages_report_and_kind(store):
    f = store.facets
    by_rowid = {rowid: p for rowid, p in store.passage_rows()}
    for pos, rowid in enumerate(store.rowids):
        p = by_rowid[int(rowid)]
        assert f.report_ids[f.report_of[pos]] == p.report_id
        assert f.kinds[f.kind_of[pos]] == p.kind
