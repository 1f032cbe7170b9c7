"""Ingestion of every report family in the fictional archive (tests/archive_factory.py):
crime inspections, PEEL pillar reports, PEEL assessments (four- and five-point) and a
national thematic report, as text and as PDF."""

from __future__ import annotations

import pytest
from archive_factory import _PLAN, passages_containing, write_archive

from ingest.pipeline import ingest_file


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    root = tmp_path_factory.mktemp("archive")
    reports = write_archive(root)
    results = {}
    for a in reports:
        res = ingest_file(root / a.rel_path, rel_path=a.rel_path)
        assert res.error is None, (a.rel_path, res.error)
        results[a.rel_path] = res
    return root, reports, results


IDS = [f"{folder}-{force or 'national'}-{prog}" for folder, force, _, prog, _ in _PLAN]


@pytest.fixture(params=range(len(_PLAN)), ids=IDS)
def one(request, archive):
    root, reports, results = archive
    a = reports[request.param]
    return root, a, results[a.rel_path]


def test_archive_covers_the_families(archive):
    _, reports, results = archive
    assert {a.programme for a in reports} == {"crime inspection", "PEEL effectiveness",
                                              "PEEL efficiency", "PEEL legitimacy",
                                              "PEEL assessment", "thematic"}
    assert any(a.pdf for a in reports) and any(not a.pdf for a in reports)
    # The same file name in different folders gives different reports.
    assert len({r.report.report_id for r in results.values()}) == len(reports)


def test_metadata(one):
    _, a, res = one
    r = res.report
    assert (r.force, r.year, r.programme, r.scope) == (a.force, a.year, a.programme, a.scope)
    assert r.published == a.published
    assert r.source_file == a.rel_path
    assert all(r.provenance[k] in ("running header", "title page") for k in (
        "force", "year", "programme", "published"))


def test_grades(one):
    _, a, res = one
    assert dict(res.report.judgments) == a.question_grades
    assert dict(res.report.pillar_judgments) == a.pillar_grades


def test_passages_and_recommendations(one):
    _, a, res = one
    assert len(res.passages) >= 8
    recs = [p for p in res.passages if p.kind == "recommendation"]
    assert recs
    sections = {p.section for p in recs}
    for sec in a.improvement_sections:
        assert sec in sections, sec
    for p in recs:
        if p.section[-1] in ("Areas for improvement", "Causes of concern"):
            assert "should" in p.text
    # Fiction is declared in the text.
    assert any("fictional" in p.text for p in res.passages)


def test_facts_found_verbatim_once(one):
    root, a, res = one
    assert a.facts
    for fact in a.facts.values():
        hits = passages_containing(res.passages, fact.sentence)
        assert len(hits) == 1, (fact.topic, len(hits))
        assert hits[0].section == fact.section
        assert fact.value in fact.sentence
        # Inside a normal paragraph, not a passage of its own.
        assert hits[0].kind == "paragraph" and len(hits[0].text) > 2 * len(fact.sentence)
        if not a.pdf:
            assert (root / a.rel_path).read_text().count(fact.sentence.split(" ", 3)[-1]) <= 1


def test_figures_differ_between_reports(archive):
    _, reports, _ = archive
    force_reports = [a for a in reports if a.scope == "force"]
    for topic in ("victim satisfaction", "crime rate"):
        values = [a.facts[topic].value for a in force_reports]
        assert len(set(values)) == len(values)
