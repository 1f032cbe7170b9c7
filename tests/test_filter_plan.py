"""A filter that names reports and kinds finds its passages through the reports'
index (retrieval/store.py: Store.filter_clause): SQLite, without statistics, chose the
kind index for two reports and a kind and read every passage of that kind (58 ms
against 0.4 at 100,000 passages). On the archive's real index."""

from __future__ import annotations

import itertools

import pytest

from retrieval.answer import Filters
from retrieval.store import Store


@pytest.fixture(scope="module")
def store(archive):
    return Store(archive[2])


def _plan(store, filters) -> str:
    where, args = store.filter_clause(filters)
    return " ".join(str(r[-1]) for r in store.db.execute(
        f"EXPLAIN QUERY PLAN SELECT rowid FROM passages WHERE {where}", args))


def test_reports_and_kinds_are_found_by_report(store):
    reps = store.reports
    some = (reps[0].report_id, reps[-1].report_id)
    year = next(r.year for r in reps if r.year)
    for filters in (Filters(report_ids=some, kinds=("paragraph", "table")),
                    Filters(years=(year,), kinds=("table",)),
                    Filters(latest_only=True, kinds=("paragraph",))):
        plan = _plan(store, filters)
        assert "passages_report" in plan and "passages_kind" not in plan, plan
    assert "passages_kind" in _plan(store, Filters(kinds=("table",)))


@pytest.mark.parametrize("kinds", [("paragraph",), ("table", "recommendation")])
def test_the_hint_keeps_the_same_passages(store, kinds):
    reps = [r.report_id for r in store.reports]
    for some in itertools.islice(itertools.combinations(reps, 2), 4):
        filters = Filters(report_ids=some, kinds=kinds)
        n, bitmap = store.allowed(filters)
        where, args = store.filter_clause(filters)
        got = {r for (r,) in store.db.execute(
            f"SELECT rowid FROM passages WHERE {where}", args)}
        want = {r for (r,) in store.db.execute(
            f"SELECT rowid FROM passages WHERE report_id IN (?, ?) AND kind IN "
            f"({','.join('?' * len(kinds))})", [*some, *kinds])}
        assert got == want and n == len(want)
