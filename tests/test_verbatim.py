"""Quotes are the report's words: every sentence of every paragraph, recommendation and
summary passage is a verbatim piece of the cleaned source text (whitespace, hyphenation
across lines and quote marks aside) — on the shipped report, the fictional archive
(text and PDF) and the generated PDF fixtures."""

from __future__ import annotations

import re
from pathlib import Path

import archive_factory as af
import pdf_factory as pf
import pytest

from ingest.clean import clean_pages
from ingest.passages import split_sentences
from ingest.pipeline import ingest_file
from ingest.readers import read_pages
from ingest.sections import parse_structure

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "corpus" / "hmic-crime-inspection-2014-west-midlands.txt"
QUOTED = ("paragraph", "recommendation", "summary")


def _key(text: str) -> str:
    """Text with whitespace, hyphens, bullets and quote styles taken out."""
    t = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    return re.sub(r"[\s\-‐‑–•·▪●]+", "", t)


def _check(path: Path) -> int:
    res = ingest_file(path)
    assert res.error is None, res.error
    pages = clean_pages(read_pages(path))
    # Headings are the passages' sections, not their text: a sentence that runs on
    # past a chapter title the PDF drew in the middle of it is rejoined without it. So
    # the source is compared without the lines that make up a heading.
    heads = {" ".join(e.text.split()) for e in parse_structure(pages)[0]
             if e.kind == "heading"}
    kept = []
    for page in pages:
        lines, i = page.lines, 0
        while i < len(lines):
            run = next((j for j in range(i, min(i + 4, len(lines)))
                        if " ".join(" ".join(lines[i:j + 1]).split()) in heads), None)
            if run is None:
                kept.append(lines[i])
                i += 1
            else:
                i = run + 1
    source = _key("\n".join(kept))
    checked = 0
    missing = []
    for p in res.passages:
        if p.kind not in QUOTED:
            continue
        for s in (x for line in p.text.split("\n") for x in split_sentences(line)):
            checked += 1
            if _key(s) not in source:
                missing.append((p.kind, p.section[-1:], s))
    assert not missing, missing[:5]
    return checked


def test_the_shipped_report_is_quoted_verbatim():
    assert _check(SHIPPED) > 200


@pytest.fixture(scope="module")
def archive_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("verbatim")
    return [root / r.rel_path for r in af.write_archive(root)]


def test_the_archive_reports_are_quoted_verbatim(archive_files):
    assert sum(_check(f) for f in archive_files) > 500


def test_the_generated_pdfs_are_quoted_verbatim(tmp_path):
    pf.make_report_pdf(tmp_path / "report.pdf")
    pf.make_two_column_pdf(tmp_path / "columns.pdf")
    assert _check(tmp_path / "report.pdf") + _check(tmp_path / "columns.pdf") > 10
