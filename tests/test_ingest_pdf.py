"""The whole ingestion pipeline on generated PDFs (real pypdf) with the artefacts of
real reports: running headers, printed page numbers that differ from the PDF index,
hyphenation, a table, a footnote, a paragraph across a page break."""

from __future__ import annotations

import pytest
from pdf_factory import FORCE, HEADER, make_report_pdf

from ingest.pipeline import ingest_file


@pytest.fixture(scope="module", params=[True, False], ids=["pagelabels", "printed-numbers"])
def pdf(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / "northshire-2015.pdf"
    info = make_report_pdf(path, page_labels=request.param)
    res = ingest_file(path)
    assert res.error is None, res.error
    return info, res


def test_metadata(pdf):
    _, res = pdf
    assert res.report.force == FORCE
    assert res.report.year == 2015
    assert res.report.title == "Crime inspection 2015"


def test_no_header_or_page_number_in_passages(pdf):
    _, res = pdf
    for p in res.passages:
        assert HEADER not in p.text
        assert "November 2015" not in p.text  # the cover is metadata, not text
        for line in p.text.splitlines():
            assert not line.strip().isdigit()


def test_printed_page_labels(pdf):
    info, res = pdf
    by_text = {p.text: p for p in res.passages}
    for idx, sentences in info["sentences"].items():
        for s in sentences:
            # Footnote markers are removed from the text.
            s = s.replace(info["footnote"]["marker_word"], info["footnote"]["marker_word"][:-1])
            owners = [p for t, p in by_text.items() if s in t]
            assert owners, s
            # printed page of that PDF page is among the passage's labels
            assert info["printed"][idx] in owners[0].page_labels, (s, owners[0].page_labels)


def test_hyphenation_and_page_break_joined(pdf):
    info, res = pdf
    text = "\n".join(p.text for p in res.passages)
    assert "thorough investigation and" in text
    split = info["split_sentence"]
    assert f"{split['first']} {split['second']}" in text


def test_sections(pdf):
    _, res = pdf
    paths = {p.section for p in res.passages}
    q = "How effective is the force at reducing crime and preventing offending?"
    assert (q, "Quality of victim contact") in paths
    assert (q, "Partnership working") in paths
    assert ("How effective is the force at investigating offending?", "Recommendations") in paths
    recs = [p for p in res.passages if p.kind == "recommendation"]
    assert recs and all("should" in p.text for p in recs)


def test_table_and_footnote(pdf):
    info, res = pdf
    (table,) = [p for p in res.passages if p.kind == "table"]
    for row in info["table"]["rows"]:
        label, a, b = row[0], row[1], row[2]
        # Each row names every value's column header (read from the page's layout).
        assert (f"{label} — Northshire rate (per 1,000 population): {a}; "
                f"England and Wales rate (per 1,000 population): {b}") in table.text
    text = "\n".join(p.text for p in res.passages if p.kind != "note")
    assert "kits1" not in text and "kits to victims" in text
    assert any(p.kind == "note" and "forensic liquid" in p.text for p in res.passages)
