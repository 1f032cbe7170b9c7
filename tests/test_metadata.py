"""Report metadata read from the report's own text (running header, title page, body)
before the path, with where each field came from; judgments per question and pillar."""

from __future__ import annotations

from pathlib import Path

import pytest
from archive_factory import write_force_report

from core.models import Report, short_heading
from ingest.metadata import parse_title_line, programme_of
from ingest.pipeline import ingest_file

FILLER = ("Officers we spoke to described how the teams work together on local problems. "
          "Supervisors check a sample of cases every month and share what they learn. "
          "Partners told us that meetings were regular and that actions were followed up. ")


def _text_report(path: Path, cover: list[str] | None, bodies: list[str],
                 header: str | None = None) -> Path:
    """A small report laid out like PDF-extracted text: optional cover page, then body
    pages (optional running header, printed page number), form feeds between pages."""
    pages = ["\n\n".join(cover)] if cover else []
    for n, body in enumerate(bodies, 1):
        top = f"{header}\n\n" if header else ""
        pages.append(f"{top}{body}\n\n{n}\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\f".join(pages), encoding="utf-8")
    return path


def _ingest(path: Path, rel: str):
    res = ingest_file(path, rel_path=rel)
    assert res.error is None, res.error
    return res


def test_year_from_running_header_beats_folder(tmp_path):
    rel = "Inspection 2015/blackmere/report.txt"
    a = write_force_report(tmp_path / rel, "Blackmere Constabulary", 2014, "crime inspection",
                           rel_path=rel)
    r = _ingest(tmp_path / rel, rel).report
    assert (r.year, r.force, r.programme) == (2014, "Blackmere Constabulary", "crime inspection")
    assert r.provenance["year"] == r.provenance["force"] == "running header"
    assert r.published == a.published and r.provenance["published"] == "title page"
    assert r.source_file == rel and r.report_id == "inspection-2015-blackmere-report"


def test_title_page_only(tmp_path):
    body = ["Introduction\n\nThis fictional report tests metadata. " + FILLER,
            "Findings\n\n" + FILLER, "More findings\n\n" + FILLER]
    p = _text_report(tmp_path / "r.txt", ["PEEL: Police effectiveness 2016",
                                          "An inspection of Eastbrook Police",
                                          "Published 2 March 2017"], body)
    r = _ingest(p, "2019/misc/r.txt").report
    assert (r.force, r.year, r.programme) == ("Eastbrook Police", 2016, "PEEL effectiveness")
    assert r.inspection_type == "PEEL: Police effectiveness"
    assert r.published == "2017-03-02"
    assert r.provenance == {"force": "title page", "year": "title page",
                            "inspection_type": "title page", "programme": "title page",
                            "published": "title page"}


def test_year_stated_in_text_not_from_cited_figures(tmp_path):
    body = [("Introduction\n\nThis fictional report sets out the findings of our crime "
             "inspection 2014 of Fellmarsh Police. In the 12 months to June 2013 recorded "
             "crime fell. " + FILLER), "Findings\n\n" + FILLER + "\n\n© HMIC 2015"]
    p = _text_report(tmp_path / "r.txt", None, body)
    r = _ingest(p, "2016/r.txt").report
    assert r.year == 2014 and r.provenance["year"] == "text"
    assert r.force == "Fellmarsh Police" and r.provenance["force"] == "text"
    assert r.programme == "crime inspection"
    # A copyright year is not a publication date.
    assert r.published is None and r.provenance["published"] == "none"


def test_path_fallback_when_text_says_nothing(tmp_path):
    p = _text_report(tmp_path / "r.txt", None, ["Findings\n\n" + FILLER] * 3)
    r = _ingest(p, "2015/fellmarsh-police/report.txt").report
    assert (r.force, r.year) == ("Fellmarsh Police", 2015)
    assert r.provenance["force"] == r.provenance["year"] == "path"
    assert r.provenance["published"] == "none" and r.published is None


def test_thematic_report_is_national(tmp_path):
    rel = "national/stalking/report.txt"
    a = write_force_report(tmp_path / rel, None, 2017, "thematic", rel_path=rel)
    r = _ingest(tmp_path / rel, rel).report
    assert (r.scope, r.force, r.programme, r.year) == ("national", "national", "thematic", 2017)
    assert r.published == a.published
    assert r.judgments == () and r.pillar_judgments == ()


def test_five_point_adequate_and_graded_areas(tmp_path):
    areas = [("Investigating crime", "Adequate"), ("Responding to the public", "Good"),
             ("Protecting vulnerable people", "Requires improvement")]
    bodies = ["Introduction\n\nThis fictional report tests the five-point scale. " + FILLER]
    bodies += [f"{head}\n\n{grade}\n\n{FILLER}\n\nAreas for improvement\n\n"
               f"• The force should review how it handles {head.lower()}."
               for head, grade in areas]
    p = _text_report(tmp_path / "r.txt", None, bodies,
                     header="Eastbrook Police \u2013 PEEL assessment 2021/22")
    res = _ingest(p, "r.txt")
    r = res.report
    assert r.year == 2021 and r.title == "PEEL assessment 2021/22"
    assert r.programme == "PEEL assessment"
    assert list(r.judgments) == areas
    recs = {q.section for q in res.passages if q.kind == "recommendation"}
    assert recs == {(h, "Areas for improvement") for h, _ in areas}


def test_pillar_and_question_judgments(tmp_path):
    a = write_force_report(tmp_path / "r.txt", "Dunmorrow Constabulary", 2018,
                           "PEEL assessment")
    r = _ingest(tmp_path / "r.txt", "r.txt").report
    assert dict(r.pillar_judgments) == a.pillar_grades
    assert [p for p, _ in r.pillar_judgments] == ["Effectiveness", "Efficiency", "Legitimacy"]
    assert dict(r.judgments) == a.question_grades and len(r.judgments) == 3
    assert r.title == "PEEL: Police effectiveness, efficiency and legitimacy 2018/19"


def test_single_pillar_report_grades_its_pillar(tmp_path):
    a = write_force_report(tmp_path / "r.txt", "Coldharrow Police", 2016, "PEEL legitimacy")
    r = _ingest(tmp_path / "r.txt", "r.txt").report
    assert r.pillar_judgments == (("Legitimacy", a.grades["Legitimacy"]),)
    assert r.overall_judgment == a.grades["Legitimacy"] and r.overall_judgment_source == "printed"
    assert dict(r.judgments) == a.question_grades


@pytest.mark.parametrize("line,expected", [
    ("Crime inspection 2014 \u2013 West Midlands Police",
     ("Crime inspection", "2014", "West Midlands Police")),
    ("Ardenvale Police \u2013 PEEL assessment 2021/22",
     ("PEEL assessment", "2021/22", "Ardenvale Police")),
    ("PEEL 2021/22 \u2013 An inspection of Kestrel Vale Constabulary",
     ("PEEL", "2021/22", "Kestrel Vale Constabulary")),
    ("Overall summary", None),
    ("Recorded crime rose in 2014", None),
])
def test_parse_title_line(line, expected):
    assert parse_title_line(line) == expected


@pytest.mark.parametrize("printed,programme", [
    ("Crime inspection", "crime inspection"), ("PEEL: Police efficiency", "PEEL efficiency"),
    ("PEEL: Police effectiveness, efficiency and legitimacy", "PEEL assessment"),
    ("PEEL", "PEEL assessment"), ("PEEL: Police leadership", "PEEL leadership"),
    ("Custody suite inspection", ""),
])
def test_programme_of(printed, programme):
    assert programme_of(printed) == programme


def test_short_heading_forms():
    assert short_heading("How effectively does the force reduce crime and keep people "
                         "safe?") == "Reduce crime and keep people safe"
    assert short_heading("How well does the force understand demand?") == "Understand demand"
    assert short_heading("How efficient is the force at keeping people safe and reducing "
                         "crime?") == "Keeping people safe and reducing crime"


def test_report_round_trip_and_old_dicts():
    r = Report("id", "PEEL 2021/22", "X Police", 2021, "PEEL", "a/b.txt", "h", 3,
               judgments=(("Investigating crime", "Adequate"),), programme="PEEL assessment",
               published="2022-06", provenance={"force": "running header"},
               pillar_judgments=(("Effectiveness", "Good"),))
    assert Report.from_dict(r.to_dict()) == r
    old = {k: v for k, v in r.to_dict().items() if k not in (
        "programme", "published", "scope", "provenance", "pillar_judgments")}
    o = Report.from_dict(old)
    assert (o.programme, o.published, o.scope, o.provenance, o.pillar_judgments) == (
        "", None, "force", {}, ())
