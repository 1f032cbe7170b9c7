"""Filters of reports, bodies, years, programmes, latest-only, kinds and sections are
answered from each FAISS position's report, kind and section
(retrieval/position_facets.py), not a SQLite query per filter: on the archive's real
index they allow exactly the passages and list exactly the reports that a SQL condition
for the same filter (the one the Store ran before) selects."""

from __future__ import annotations

import random

import numpy as np
import pytest

from retrieval.answer import Filters
from retrieval.store import Store


@pytest.fixture(scope="module")
def store(archive):
    return Store(archive[2])


def _where(filters: Filters) -> tuple[str, list]:
    """The filter as a SQL condition on the passages view, as the Store wrote it before
    it read positions' facets: the reference the facets must agree with."""
    conds, args = [], []

    def any_of(column, values):
        conds.append(f"{column} IN ({','.join('?' * len(values))})")
        args.extend(values)

    if filters.report_ids:
        any_of("report_id", filters.report_ids)
    if filters.section:
        conds.append("instr(lower(section), ?) > 0")
        args.append(filters.section.lower())
    # The conditions on the reports table are the Store's own (they still run in SQL).
    rep, rep_args = Store._report_conditions(filters)
    if rep:
        conds.append(f"report_id IN (SELECT report_id FROM reports WHERE {rep})")
        args.extend(rep_args)
    if filters.kinds:
        any_of("kind", filters.kinds)
    return " AND ".join(conds) or "1", args


def _sql(store: Store, filters: Filters) -> tuple[np.ndarray, list[str]]:
    where, args = _where(filters)
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
    # Parts of real section headings, in other cases, and a heading no passage has.
    parts = sorted({x for p in store.iter_passages() for x in p.section})
    sections = [x[1:9].upper() for x in parts] + [x.split()[-1] for x in parts] + \
        ["no such heading"]
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
            section=rnd.choice(sections) if rnd.random() < 0.3 else None,
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


def test_a_section_filter_is_case_blind_and_spans_the_path(store):
    p = next(p for p in store.iter_passages() if len(p.section) > 1)
    # The stored path joins its headings with " > ": a filter may span two of them.
    across = f"{p.section[0][-3:]} > {p.section[1][:3]}".upper()
    for section in (p.section[-1][1:].upper(), across):
        filters = Filters(section=section, kinds=(p.kind,))
        rows, reps = _sql(store, filters)
        assert len(rows) and np.array_equal(store.allowed_rowids(filters), rows)
        assert store.report_ids_where(filters) == reps and p.report_id in reps


def test_each_position_holds_its_passages_report_kind_and_section(store):
    f = store.facets
    by_rowid = {rowid: p for rowid, p in store.passage_rows()}
    for pos, rowid in enumerate(store.rowids):
        p = by_rowid[int(rowid)]
        assert f.report_ids[f.report_of[pos]] == p.report_id
        assert f.kinds[f.kind_of[pos]] == p.kind
        assert f.sections[f.section_of[pos]] == " > ".join(p.section).lower()


def test_a_section_filter_is_case_blind_beyond_ascii():
    """SQLite's lower() left "É" as it was, so "équipe" missed "Équipe"; now every
    letter is lower-cased."""
    from retrieval.position_facets import PositionFacets

    rows = [(10, "r1", "paragraph", "Équipe de contrôle > Résumé"),
            (11, "r1", "table", "Summary"), (12, "r2", "paragraph", None)]
    f = PositionFacets.read(iter(rows), lambda r: np.asarray(r) - 10, 3)
    assert f.mask(None, (), "ÉQUIPE").tolist() == [True, False, False]
    assert f.mask(["r1"], ("paragraph",), "résumé").tolist() == [True, False, False]
    assert f.mask(["r2"], (), "summary").tolist() == [False, False, False]
    assert f.reports_in(f.mask(None, ("paragraph",))) == ["r1", "r2"]


def test_a_filter_is_worked_out_once(archive, monkeypatch):
    """The keyword search asks each question's reports, and a comparison a filter's
    reports and then its passages: one mask a Filters, kept."""
    from retrieval.position_facets import PositionFacets

    store = Store(archive[2])
    made: list[tuple] = []
    mask = PositionFacets.mask
    monkeypatch.setattr(PositionFacets, "mask",
                        lambda self, *a: made.append(a) or mask(self, *a))
    filters = Filters(kinds=("paragraph",), latest_only=True)
    first = store.report_ids_where(filters)
    n, bitmap = store.allowed(filters)
    assert store.report_ids_where(filters) == first and store.allowed(filters)[0] == n
    assert len(made) == 1 and first and n == len(store.allowed_rowids(filters))
