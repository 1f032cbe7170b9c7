"""Ingestion of the shipped report (real text with real extraction artefacts)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from fitting.matching import item_in, passage_window
from ingest.pipeline import ingest_file

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "corpus" / "hmic-crime-inspection-2014-west-midlands.txt"
DEV = ROOT / "tests" / "data" / "dev.jsonl"
CAL = ROOT / "tests" / "data" / "calibration.jsonl"


@pytest.fixture(scope="module")
def result():
    r = ingest_file(REPORT)
    assert r.error is None
    return r


def _passages_with(result, text):
    return [p for p in result.passages if text in p.text]


def test_report_metadata(result):
    r = result.report
    assert r.force == "West Midlands Police"
    assert r.year == 2014
    assert r.title == "Crime inspection 2014"
    grades = dict(r.judgments)
    assert [g for _, g in r.judgments] == ["Good", "Good", "Good"]
    assert "How effective is the force at tackling anti-social behaviour?" in grades
    assert r.overall_judgment == "Good"
    # The report prints no separate overall grade; we say it is derived.
    assert r.overall_judgment_source == "derived"


def test_judgment_is_a_passage(result):
    (j,) = [p for p in result.passages if p.kind == "judgment"]
    assert "investigating offending? Good" in j.text
    assert "Overall judgment: Good" in j.text


def test_no_running_header_or_page_number_in_text(result):
    for p in result.passages:
        # The running header sits on its own line in the source; in a passage it
        # would appear glued into a paragraph.
        assert "Crime inspection 2014 – West Midlands Police" not in p.text
        assert not re.search(r"offending\?\s+\d{1,2}\s", p.text), p.text[:200]
        for line in p.text.splitlines():
            assert not re.fullmatch(r"\s*\d{1,3}\s*", line)


def test_repeated_page_appears_once(result):
    hits = [p for p in result.passages if "different strategies in 30 areas" in p.text]
    assert len(hits) == 1
    recs = [p for p in result.passages if "telecommunication and computer equipment" in p.text]
    assert len(recs) == 1


def test_page_labels(result):
    def page_of(text):
        (p,) = _passages_with(result, text)
        return p.page_labels

    assert "9" in page_of("reduced by 17 percent in West Midlands")
    assert "13" in page_of("West Midlands Police has a strategy which sets out how it will")
    assert page_of("HMIC uses four categories for making judgments") == ("22",)
    # Partnership working in the ASB chapter starts on printed page 19.
    p = _passages_with(result, "There is strong local partnership working")[0]
    assert p.page_labels[0] == "19"


def test_sections_found_with_paths(result):
    paths = {p.section for p in result.passages}
    q1 = "How effective is the force at reducing crime and preventing offending?"
    q2 = "How effective is the force at investigating offending?"
    q3 = "How effective is the force at tackling anti-social behaviour?"
    for sub in ("Quality of victim contact", "Partnership working and information sharing",
                "Domestic abuse", "Summary"):
        assert (q1, sub) in paths
    for sub in ("Recommendations", "Summary", "Investigation"):
        assert (q2, sub) in paths
    assert (q3, "Partnership working") in paths
    assert (q3, "Recommendations") in paths
    assert ("Methodology",) in paths
    assert ("Introduction",) in paths
    assert ("How effective is the force at cutting crime?", "Overall summary") in paths


def test_citation_format(result):
    p = _passages_with(result, "jointly with Midland Heart")[0]
    assert p.citation.startswith("West Midlands Police — Crime inspection 2014 › "
                                 "Tackling anti-social behaviour › Partnership working, p")


def test_cleaning_artefacts(result):
    text = "\n".join(p.text for p in result.passages)
    assert "kits1" not in text and "programme2" not in text
    assert "‘smart water’ kits to victims" in text
    assert "anti-social" in text and "anti‑social" not in text  # non-breaking hyphen unified
    assert "GoodGood" not in text
    # The contents list is not indexed as text.
    assert "\tContents" not in text and "\tIntroduction" not in text
    # Sentences broken by a page break and a displaced chapter title are rejoined.
    assert "where it is appropriate and in the interests of victims" in text
    assert "in which the force is working jointly with Midland Heart" in text


def test_table_rows_read_on_their_own(result):
    (t,) = [p for p in result.passages if p.kind == "table"]
    assert ("Crime excluding fraud — West Midlands Police 62.5, England and Wales 60.7 "
            "(per 1,000 population, 12 months to June 2014)") in t.text
    assert "per 1,000 households" in t.text  # the footnote caveat travels with the table


def test_a_marked_row_carries_its_own_unit_and_period_from_the_notes(result):
    (t,) = [p for p in result.passages if p.kind == "table"]
    lines = t.text.splitlines()
    burglary = next(ln for ln in lines if ln.startswith("Burglary in a dwelling*"))
    asb = next(ln for ln in lines if ln.startswith("Anti-social behaviour incidents*"))
    # The report's note: ASB data is for the 12 months to March 2014, and the burglary
    # rate is per 1,000 households, not population.
    assert burglary.endswith("(per 1,000 households, 12 months to June 2014)")
    assert asb.endswith("(per 1,000 population, 12 months to March 2014)")
    # The note itself is the report's words, as printed.
    assert ("*Note that anti-social behaviour data is for the 12 months to March 2014 and "
            "the rate for burglary in a dwelling is the rate per 1,000 households, not "
            "population.") in lines


def test_a_marked_row_no_note_names_gets_no_unit_or_period():
    from ingest.sections import _note_about

    notes = ["*Note that vehicle crime data is for the 12 months to March 2014."]
    assert _note_about("Vehicle crime", notes) == (None, "12 months to March 2014")
    assert _note_about("Vehicle offences", notes) is None  # named differently: not guessed
    assert _note_about("Robbery", notes) is None


def test_footnotes_become_notes(result):
    notes = [p for p in result.passages if p.kind == "note"]
    assert any("commercial product" in n.text for n in notes)
    body = [p for p in result.passages if p.kind != "note"]
    assert not any("commercial product" in p.text for p in body)


def test_passage_sizes_and_kinds(result):
    ps = result.passages
    assert {p.kind for p in ps} >= {"paragraph", "table", "summary", "recommendation",
                                    "judgment"}
    body = [p for p in ps if p.kind in ("paragraph", "summary")]
    assert max(len(p.text.split()) for p in ps) <= 320
    small = [p for p in body if len(p.text.split()) < 40]
    assert len(small) <= 2, [p.text[:60] for p in small]


def test_ids_are_stable(result):
    again = ingest_file(REPORT)
    assert [p.passage_id for p in again.passages] == [p.passage_id for p in result.passages]
    assert len({p.passage_id for p in result.passages}) == len(result.passages)


@pytest.mark.parametrize("gold", [DEV, CAL], ids=["dev", "calibration"])
def test_every_evidence_item_lies_whole_in_a_passage(result, gold):
    windows = [passage_window(p.text) for p in result.passages]
    missing = []
    for line in gold.read_text().splitlines():
        q = json.loads(line)
        for item in q["evidence"]:
            # "Good GoodGood" is the extraction's rendering of the judgment grid, which
            # ingestion turns into the judgment passage (its list form is checked).
            if isinstance(item, str) and re.fullmatch(r"(?:Good|Outstanding|Inadequate|\s)+",
                                                      item):
                continue
            if not any(item_in(item, w) for w in windows):
                missing.append((q["id"], item))
    assert not missing
