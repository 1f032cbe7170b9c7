"""Reading real PDFs laid out by another publisher: pages cut with pypdf from US SEC
filings (tests/data/realworld/README.md), read by the real pdfium and pypdf."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from core.settings import load_settings
from ingest.pipeline import file_time_limit, ingest_file

DATA = Path(__file__).parent / "data" / "realworld"
NUMBER = re.compile(r"^\(?[$]?\d[\d,.]*\)?%?$")


@pytest.fixture(scope="module")
def read():
    cache: dict[str, object] = {}

    def get(name: str):
        if name not in cache:
            res = ingest_file(DATA / name)
            assert res.error is None, res.error
            cache[name] = res
        return cache[name]

    return get


def _rows(res) -> list[str]:
    return [ln for p in res.passages if p.kind == "table" for ln in p.text.split("\n")]


def _has_row(rows: list[str], want: str) -> bool:
    return any(want in r for r in rows)


def test_a_word_the_old_reader_split_is_whole(read):
    name = "americanwaterworks-2021-10k-p69.pdf"
    # pypdf's own text of this page splits the word: the fixture is a real case.
    assert "Consol idated" in PdfReader(DATA / name).pages[0].extract_text()
    text = "\n".join(p.text for p in read(name).passages)
    assert "Consol idated" not in text
    assert "Consolidated Statements of Cash Flows" in text


def test_wrapped_row_label_is_one_label_with_every_header(read):
    rows = _rows(read("americanwaterworks-2020-10k-selected-data.pdf"))
    # The label wraps onto a second line ("... per basic" / "common share  $3.91 ...");
    # the header "For the Years Ended December 31," spans the five year columns.
    want = ("Net income attributable to common shareholders per basic common share — "
            "For the Years Ended December 31, 2020: $3.91; "
            "For the Years Ended December 31, 2019: $3.44")
    assert _has_row(rows, want), rows[:5]
    # Every row carries the table's units.
    assert all(r.endswith("(In millions, except per share data)") for r in rows if " — " in r)


def test_multi_row_header_names_each_column(read):
    rows = _rows(read("jpmorgan-2022q2-10q-highlights.pdf"))
    want = ("Noninterest revenue — Three months ended June 30, 2022: $15,587; "
            "Three months ended June 30, 2021: $17,738; Three months ended June 30, Change: "
            "(12) %; Six months ended June 30, 2022: $32,432")
    assert _has_row(rows, want), rows[:5]


def test_statement_over_two_pages_stays_one_table(read):
    res = read("walmart-2020-10k-stores.pdf")
    tables = [p for p in res.passages if p.kind == "table"]
    # One table over both pages: every piece has the same caption and section, and
    # rows of the second page (states late in the alphabet) name every column too.
    assert {p.section for p in tables} == {tables[0].section}
    assert {p.text.split("\n", 1)[0] for p in tables} == {"State or Territory"}
    assert {2} <= {pg for p in tables for pg in p.pdf_pages}
    rows = _rows(res)
    wyoming = next(r for r in rows if r.startswith("Wyoming — "))
    # (The group headers "Walmart U.S." and "Sam's Club" head the column they are
    # centred on; which further columns a centred group header spans the page does not
    # say without its rules.)
    assert re.fullmatch(r"Wyoming — Supercenters: \d+; (?:Walmart U\.S\. )?Discount Stores: "
                        r"\S+; Neighborhood Markets and other small formats: \S+; "
                        r"(?:Sam's Club )?Clubs: \S+; Grand Total: \d+", wyoming), wyoming


def test_cover_page_names_the_company_and_the_report(read):
    r = read("microsoft-2023-10k-cover.pdf").report
    assert r.force == "Microsoft Corporation"
    assert not r.title.startswith("Inspection") and "10-K" in r.title
    assert r.year == 2023
    assert r.judgments == () and r.overall_judgment is None


def test_outstanding_in_a_table_is_no_grade(read):
    res = read("americanexpress-2022-10k-options.pdf")
    assert res.report.judgments == () and res.report.overall_judgment is None
    assert not [p for p in res.passages if p.kind == "judgment"]
    # The word stays what it is: a column header of the option table.
    assert any("Outstanding: " in r for r in _rows(res))


@pytest.mark.parametrize("name", sorted(p.name for p in DATA.glob("*.pdf")))
def test_no_column_n_and_no_table_row_as_heading(read, name):
    res = read(name)
    text = "\n".join(p.text for p in res.passages)
    assert not re.search(r"\bcolumn \d+\b", text)
    for p in res.passages:
        for heading in p.section:
            figures = [t for t in heading.split() if NUMBER.match(t)]
            assert len(figures) < 3, heading


def test_time_limit_grows_with_pages():
    settings = load_settings(file_timeout_s=10, file_timeout_per_page_s=0.5)
    assert file_time_limit(DATA / "walmart-2020-10k-stores.pdf", settings) == 10 + 2 * 0.5
    assert file_time_limit(DATA / "microsoft-2023-10k-cover.pdf", settings) == 10 + 0.5


def test_another_publishers_statistical_table():
    res = ingest_file(Path(__file__).parent / "data" / "otherpub"
                      / "census-2012-table-324-arrests.pdf")
    assert res.error is None, res.error
    r = res.report
    assert r.force == "U.S. Census Bureau" and "Arrests by Sex and Age" in r.title
    assert r.year == 2009 and r.judgments == ()
    rows = _rows(res)
    murder = next(x for x in rows if x.startswith("Murder and nonnegligent manslaughter — "))
    # Dot leaders are gone; column heads set almost touching are told apart.
    assert ". ." not in murder
    assert "Under 18 years: 0.9" in murder and "18 years and over: 9.1" in murder


def test_table_in_one_column_of_a_two_column_page_gets_its_header(read):
    # pdfium draws this table's rows before its header; read column by column, the
    # header is found above the rows, and group headers over two columns head both.
    rows = _rows(read("jpmorgan-2021q1-10q-two-columns.pdf"))
    row = next(r for r in rows if "Senior notes issued in the U.S. market — " in r)
    assert row.startswith("Issuance › ")
    assert ("Three months ended March 31, 2021 Parent Company: $9,250; "
            "Three months ended March 31, 2020 Parent Company: $5,250; "
            "Three months ended March 31, 2021 Subsidiaries: $—") in row


def test_year_captions_and_a_footnote_mark_between_rows(read):
    rows = _rows(read("cocacola-2017-10k-segments.pdf"))
    # A footnote mark set as a line of its own does not split the table, and the
    # year that captions a block of rows heads each row of the block.
    intersegment = [r for r in rows if "Net operating revenues › Intersegment — " in r]
    assert [r.split(" › ", 1)[0] for r in intersegment][:2] == ["2017", "2016"]
    assert all("Europe, Middle East & Africa: " in r and "Consolidated: " in r
               for r in intersegment)
