"""The archive: questions that name a force, a place, a year or a programme answered
from those reports (or abstained with the reason), comparisons across reports in the
CLI and the app, the library page, filters by programme and latest report — on a real
index (real model, FAISS, SQLite) of the fictional archive in tests/archive_factory.py."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from retrieval.answer import Filters
from retrieval.store import Store
from ui.cli import main as cli

APP = str(Path(__file__).resolve().parent.parent / "ui" / "app.py")


@pytest.fixture(scope="module")
def searcher(archive):
    from ingest.embed import get_embedder
    from retrieval.search import Searcher

    store = Store(archive[2])
    return Searcher(store, get_embedder(store.model))


def _flat(t: str) -> str:
    return re.sub(r"\s+", " ", t)


def test_metadata_of_every_report_comes_from_its_text(archive, searcher):
    reports, _, _ = archive
    got = {r.source_file: r for r in searcher.store.reports}
    assert set(got) == {r.rel_path for r in reports}
    for want in reports:
        r = got[want.rel_path]
        assert (r.force, r.year, r.programme) == (want.force, want.year, want.programme)
        assert r.provenance["year"] != "path"
    # Filed under "Inspection 2015", dated 2014 by its own text.
    moved = next(r for r in got.values() if r.source_file.startswith("Inspection 2015/"))
    assert moved.year == 2014 and moved.provenance["year"] in ("running header", "title page")
    national = [r for r in got.values() if r.scope == "national"]
    assert len(national) == 1 and national[0].force == "national"


def test_named_force_is_answered_from_that_force(archive, searcher):
    reports = archive[0]
    for r in reports:
        if r.scope != "force" or "victim satisfaction" not in r.facts:
            continue
        core = r.force.split()[0].lower()
        a = searcher.ask(f"{core} victim satisfaction in {r.year}", top_k=5)
        assert not a.abstained, (r.force, r.year, a.reason)
        assert {h.passage.force for h in a.hits} == {r.force}
        assert a.scope["bodies"] == [r.force]
        assert any(_flat(r.facts["victim satisfaction"].sentence) in _flat(h.passage.text)
                   for h in a.hits), (r.force, r.year, [h.highlight for h in a.hits])


def test_unindexed_force_year_or_programme_abstains_with_the_reason(searcher):
    cases = {
        "How satisfied are victims with Cleveland Police?":
            "no indexed report covers Cleveland Police",
        "kestrel vale constabulary 999 calls": "no indexed report covers Kestrel Vale",
        "What did the 2019 inspection of Ardenvale Police find about victims?":
            "the index holds no 2019 inspection of Ardenvale Police",
        "Dunmorrow crime inspection findings on burglary":
            "the index holds no crime inspection report of Dunmorrow Constabulary",
    }
    for q, reason in cases.items():
        a = searcher.ask(q)
        assert a.abstained and a.reason.startswith(reason), (q, a.reason)
        assert a.to_dict()["reason"] == a.reason


def test_a_year_in_a_figure_is_not_taken_for_a_report_year(archive, searcher):
    # "12 months to June 2015" sits in the 2016 reports' figures: asking about 2015
    # without naming an inspection is not refused.
    r = next(r for r in archive[0] if r.year == 2016 and "crime rate" in r.facts)
    a = searcher.ask(f"{r.force} recorded crime per 1,000 in the 12 months to June 2015")
    assert not a.abstained, a.reason


def test_places_learned_at_index_time_name_their_force(searcher):
    places = searcher.store.lexicon.places
    assert places, "no place names learned from a four-force archive"
    place, force = sorted(places.items())[0]
    a = searcher.ask(f"what happens in {place.capitalize()}?")
    assert a.scope and force in a.scope["bodies"]


def test_filters_by_programme_and_latest_report(searcher):
    store = searcher.store
    peel = store.allowed_rowids(Filters(programmes=("PEEL assessment",)))
    ids = {p.report_id for p in store.passages(list(peel)).values()}
    assert ids == {r.report_id for r in store.reports if r.programme == "PEEL assessment"}
    latest = {rid for rid, ok in store.latest.items() if ok}
    # Ardenvale's 2021/22 assessment supersedes nothing of another programme; its 2014
    # crime inspection is the only one of its kind, so it is still the latest.
    assert all(store.latest[r.report_id] for r in store.reports
               if r.programme == "crime inspection")
    got = {p.report_id for p in store.passages(
        list(store.allowed_rowids(Filters(latest_only=True)))).values()}
    assert got == latest
    # SQL filters pass exactly the passages Filters.accepts does.
    f = Filters(forces=("blackmere",), years=(2016, 2021), kinds=("recommendation",),
                section="areas for improvement")
    want = {store.rowids_of([p.passage_id])[0] for p in store.iter_passages() if f.accepts(p)}
    assert want and set(store.allowed_rowids(f).tolist()) == want
    a = searcher.ask("what should the force improve", filters=f)
    assert a.hits and all(f.accepts(h.passage) for h in a.hits)


def test_a_year_filter_keeps_the_force_the_question_names(archive, searcher):
    """A year chosen in the filters and a force named in the question: that force's
    report of that year, not every report of the year (and a comparison across its
    years under the filter compares that force's reports alone)."""
    year = 2016
    reps = [r for r in searcher.store.reports if r.year == year and r.force != "national"]
    assert len({r.force for r in reps}) > 1
    force = reps[0].force
    f = Filters(years=(year,))
    a = searcher.ask(f"{force.split()[0]} victim satisfaction", filters=f)
    assert a.hits and {(h.passage.force, h.passage.year) for h in a.hits} == {(force, year)}
    c = searcher.compare(f"How has {force.split()[0]} victim satisfaction changed over time?",
                         filters=f)
    assert c.rows and {row.force for row in c.rows} == {force}


def test_compare_across_forces_brings_back_each_reports_finding(archive, searcher):
    reports = archive[0]
    c = searcher.compare("Compare victim satisfaction across the forces")
    holders = {r.rel_path: r.facts["victim satisfaction"].sentence for r in reports
               if "victim satisfaction" in r.facts}
    by_file = {r.report_id: r.source_file for r in searcher.store.reports}
    assert {by_file[row.report_id] for row in c.rows} == {r.rel_path for r in reports}
    covered = [rel for row in c.rows if (rel := by_file[row.report_id]) in holders
               and row.answers and _flat(holders[rel]) in _flat(row.hit.passage.text)]
    assert len(covered) >= 0.9 * len(holders), (len(covered), len(holders))
    assert c.chart_unit == "%"
    assert all(row.figure is not None for row in c.answering
               if by_file[row.report_id] in covered)


def test_compare_grades_reads_the_judgment_asked_for(archive, searcher):
    reports = {r.rel_path: r for r in archive[0]}
    c = searcher.compare("Which forces were graded inadequate or requires improvement for "
                         "legitimacy?")
    by_file = {r.report_id: r.source_file for r in searcher.store.reports}
    graded = [row for row in c.rows if row.judgment]
    assert graded
    reps = {r.report_id: r for r in searcher.store.reports}
    for row in graded:
        want = reports[by_file[row.report_id]].grades
        if row.judgment_of == "overall":
            # No judged question or pillar shares the question's terms: the overall grade.
            assert row.judgment == reps[row.report_id].overall_judgment
        else:
            # The judgment is the one the report gives the question or pillar it names.
            assert row.judgment_of in want, (row.judgment_of, sorted(want))
            assert want[row.judgment_of].lower() == row.judgment.lower()
    # A report with a legitimacy pillar is read for that pillar, not its overall grade.
    pillar = [row for row in graded if "legitimacy" in (row.judgment_of or "").lower()]
    assert pillar


def test_compare_cli_json_and_export(archive, tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTQA_INDEX", str(archive[2]))
    r = CliRunner().invoke(cli, ["compare", "how many organised crime groups has each force "
                                 "mapped", "--json", "--year", "2016"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["comparison"] is True and d["rows"]
    assert {row["year"] for row in d["rows"]} == {2016}
    assert all(row["passage"]["citation"] for row in d["rows"] if row["answers"])
    for fmt in ("csv", "md", "docx", "json"):
        out = tmp_path / f"cmp.{fmt}"
        r = CliRunner().invoke(cli, ["compare", "victim satisfaction in each force",
                                     "--format", fmt, "-o", str(out)])
        assert r.exit_code == 0, r.output
        assert out.stat().st_size > 200
    rows = json.loads((tmp_path / "cmp.json").read_text())
    assert len({row["report_id"] for row in rows}) == len(rows) >= 8
    r = CliRunner().invoke(cli, ["compare", "victim satisfaction at Cleveland Police"])
    assert r.exit_code == 0 and "no indexed report covers Cleveland Police" in r.output


def test_index_status_and_passages_show_metadata_and_provenance(archive, monkeypatch):
    monkeypatch.setenv("REPORTQA_INDEX", str(archive[2]))
    r = CliRunner().invoke(cli, ["index", "status", "--json"])
    reps = json.loads(r.output)["reports"]
    assert all({"programme", "published", "provenance", "latest"} <= set(x) for x in reps)
    r = CliRunner().invoke(cli, ["index", "passages", "--json"])
    first = json.loads(r.output.splitlines()[0])
    assert first["report"]["provenance"]["force"] in ("running header", "title page", "text")


@pytest.fixture
def app(archive, monkeypatch) -> AppTest:
    monkeypatch.setenv("REPORTQA_INDEX", str(archive[2]))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception
    return at


def test_app_answers_a_comparison_with_a_table(app):
    app.chat_input[0].set_value("Compare victim satisfaction across the forces").run()
    assert not app.exception, app.exception
    assert app.dataframe, "no comparison table"
    table = app.dataframe[0].value
    assert len(table) >= 10 and {"Body", "Year", "Judgment", "Figure", "Citation"} <= set(
        table.columns)
    assert (table["Answers"] == "yes").sum() >= 9
    labels = [b.label for b in app.get("download_button")]
    assert any(lbl.startswith("Table as") for lbl in labels)


def test_library_page_lists_reports_and_filters_the_chat(app):
    app.switch_page("library.py").run()
    assert not app.exception, app.exception
    table = app.dataframe[0].value
    assert len(table) == 12 and {"Body", "Programme", "Year", "Overall", "Judgments"} <= set(
        table.columns)
    app.multiselect(key="lib_bodies").set_value(["Ardenvale Police"]).run()
    assert set(app.dataframe[0].value["Body"]) == {"Ardenvale Police"}
