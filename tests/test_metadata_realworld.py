"""Metadata of reports other publishers wrote (companies' annual and quarterly filings,
an audit office's report): the body from the cover, a title from the cover's document
type and period, and no inspection grades read from ordinary words ("Outstanding")."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.clean import Page
from ingest.cover import cover_body, cover_type, org_name, readable_name, report_period
from ingest.pipeline import ingest_file

PROSE = ("Revenue increased in the year, driven by growth in cloud services and by higher "
         "demand from commercial customers. Operating expenses rose more slowly than revenue, "
         "and the company continued to invest in research and development across segments. ")


def _text_report(path: Path, cover: list[str], bodies: list[str]) -> Path:
    """A small report laid out like PDF-extracted text: a cover page, then body pages
    each ending in a printed page number, form feeds between pages."""
    pages = ["\n\n".join(cover)]
    pages += [f"{body}\n\n{n}\n" for n, body in enumerate(bodies, 1)]
    path.write_text("\f".join(pages), encoding="utf-8")
    return path


def _report(path: Path):
    res = ingest_file(path, rel_path=path.name)
    assert res.error is None, res.error
    return res.report


ANNUAL_COVER = ["UNITED STATES", "SECURITIES AND EXCHANGE COMMISSION", "Washington, D.C. 20549",
                "FORM 10-K", "ANNUAL REPORT PURSUANT TO SECTION 13 OR 15(d) OF THE SECURITIES "
                "EXCHANGE ACT OF 1934", "For the fiscal year ended June 30, 2023",
                "Commission File Number 001-37845", "MICROSOFT CORPORATION",
                "(Exact name of registrant as specified in its charter)",
                "One Microsoft Way, Redmond, Washington 98052-6399"]
ANNUAL_BODY = [f"Business\n\nMicrosoft Corporation is a technology company. {PROSE}",
               f"Results\n\nMicrosoft reported higher revenue. {PROSE}",
               f"Outlook\n\nMicrosoft expects growth to continue. {PROSE}"]


def test_company_cover_names_the_company_and_its_filing(tmp_path):
    r = _report(_text_report(tmp_path / "annual.txt", ANNUAL_COVER, ANNUAL_BODY))
    # The regulator heading the cover is not the body; the company the text keeps
    # naming is, in a readable case.
    assert r.force == "Microsoft Corporation"
    assert r.provenance["force"] == "title page"
    assert (r.title, r.inspection_type, r.year) == ("Form 10-K 2023", "Form 10-K", 2023)
    assert not r.title.startswith("Inspection")
    assert r.programme == "" and r.scope == "force"


def test_quarterly_cover_gives_the_quarter(tmp_path):
    cover = ["UNITED STATES", "SECURITIES AND EXCHANGE COMMISSION", "FORM 10-Q",
             "For the quarterly period ended June 30, 2023", "Northwind Traders, Inc."]
    bodies = [f"Overview\n\nNorthwind Traders sells goods. {PROSE}",
              f"Results\n\nNorthwind Traders grew. {PROSE}"]
    r = _report(_text_report(tmp_path / "quarter.txt", cover, bodies))
    assert r.force == "Northwind Traders, Inc."
    assert r.title == "Form 10-Q, quarter ended June 30, 2023" and r.year == 2023


def test_outstanding_in_a_company_report_is_no_grade(tmp_path):
    bodies = ANNUAL_BODY + [
        "Stock options\n\nOptions Outstanding\n\nOutstanding\n\n" + PROSE,
        "Outstanding\n\n" + PROSE,
        "Share awards\n\nOptions Outstanding 1,200 34.50 2.1\n\nOutstanding\n\n" + PROSE]
    r = _report(_text_report(tmp_path / "options.txt", ANNUAL_COVER, bodies))
    assert r.judgments == () and r.pillar_judgments == ()
    assert r.overall_judgment is None and r.overall_judgment_source is None


def test_audit_office_cover(tmp_path):
    cover = ["National Audit Office", "Report by the Comptroller and Auditor General",
             "Ministry of Justice", "Managing the prison estate", "14 July 2023"]
    bodies = [("Summary\n\nThe Ministry of Justice is responsible for the prison estate. "
               "The Ministry of Justice has not kept pace with maintenance, and the "
               "Ministry of Justice plans new places. " + PROSE),
              "Findings\n\nThe National Audit Office examined the programme. " + PROSE]
    r = _report(_text_report(tmp_path / "nao.txt", cover, bodies))
    assert r.force == "Ministry of Justice"
    assert r.title == "Managing the prison estate 2023" and r.year == 2023
    assert r.published == "2023-07-14"
    assert r.judgments == () and r.overall_judgment is None


def test_annual_report_and_accounts_cover(tmp_path):
    # The title wraps onto a second line, as on many designed covers.
    cover = ["Harbourside Water plc", "Annual Report", "and Accounts 2022/23",
             "For the year ended 31 March 2023"]
    bodies = [f"Chair's statement\n\nHarbourside Water supplies the region. {PROSE}"]
    r = _report(_text_report(tmp_path / "ara.txt", cover, bodies))
    assert r.force == "Harbourside Water plc"
    assert (r.inspection_type, r.title, r.year) == (
        "Annual Report and Accounts", "Annual Report and Accounts 2023", 2023)


@pytest.mark.parametrize("line,expected", [
    ("MICROSOFT CORPORATION", "MICROSOFT CORPORATION"),
    ("JPMorgan Chase & Co.", "JPMorgan Chase & Co."),
    ("THE COCA-COLA COMPANY AND SUBSIDIARIES", "THE COCA-COLA COMPANY"),
    ("National Audit Office", "National Audit Office"),
    ("Commission File Number 001-37845", None),
    ("(Exact name of registrant as specified in its charter)", None),
    ("The Company", None),
    ("Revenue at the company rose in the year.", None),
    ("UNITED STATES", None),
])
def test_org_name(line, expected):
    assert org_name(line) == expected


@pytest.mark.parametrize("name,text,expected", [
    ("MICROSOFT CORPORATION", "", "Microsoft Corporation"),
    ("CVS HEALTH CORPORATION", "", "CVS Health Corporation"),
    ("ADVANCED MICRO DEVICES, INC.", "", "Advanced Micro Devices, Inc."),
    ("BANK OF THE WEST", "", "Bank of the West"),
    # The text's own mixed-case spelling wins over the rule.
    ("JPMORGAN CHASE & CO.", "results of JPMorgan Chase & Co. for", "JPMorgan Chase & Co."),
    ("Tesco PLC", "", "Tesco PLC"),
])
def test_readable_name(name, text, expected):
    assert readable_name(name, text) == expected


@pytest.mark.parametrize("text,expected", [
    ("For the fiscal year ended December 26, 2015", ("year", "December 26, 2015", 2015)),
    ("For the quarterly period ended March 31 , 2021", ("quarter", "March 31, 2021", 2021)),
    ("for the year ended 31 March 2023", ("year", "31 March 2023", 2023)),
    ("for the six months ended 30 September 2022", ("period", "30 September 2022", 2022)),
    ("In the 12 months to June 2013 crime fell", None),
])
def test_report_period(text, expected):
    assert report_period(text) == expected


def _cover_page(styles: dict[str, tuple[float, bool]] | None) -> Page:
    page = Page(index=0, lines=["Department of Transport", "Annual report 2023",
                                "Highways Agency", "Road safety review 2023"])
    # Style info is optional (text reports have none); set it only where given.
    page.styles = styles or {}
    return page


def test_prominent_cover_lines_win_when_styles_are_known():
    big = {"Highways Agency": (24.0, True), "Road safety review 2023": (20.0, True),
           "Department of Transport": (10.0, False), "Annual report 2023": (10.0, False)}
    styled = [_cover_page(big)]
    assert cover_body(styled, "") == "Highways Agency"
    assert cover_type(styled) == "Road safety review"
    # Without styles, cover order decides.
    plain = [_cover_page(None)]
    assert cover_body(plain, "") == "Department of Transport"
    assert cover_type(plain) == "Annual report"


def test_wrapped_cover_title_is_joined(tmp_path):
    cover = ["UNITED STATES", "SECURITIES AND EXCHANGE COMMISSION", "Washington, D.C. 20549",
             "FORM", "10-K ______________________",
             "For the fiscal year ended January 31, 2020", "NORTHWIND TRADERS INC."]
    bodies = [f"Overview\n\nNorthwind Traders sells goods. {PROSE}"]
    r = _report(_text_report(tmp_path / "wrapped.txt", cover, bodies))
    assert (r.force, r.title, r.year) == ("Northwind Traders Inc.", "Form 10-K 2020", 2020)
