"""A body is whatever the reports are about: companies named in questions select their
reports, a fiscal year selects among one company's reports and never another's, and
instructions around a question change nothing in what is searched.

The index is real (real model, FAISS, tantivy) over tests/data/companies: the cover and
one statement page of six real annual reports (American Water Works 2020, 2021, 2022;
Corning 2021, 2022; Coca-Cola 2017), cut from public SEC filings."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.instructions import read_instructions

DATA = Path(__file__).resolve().parent / "data" / "companies"


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    from core.settings import load_settings
    from fitting.families import open_searcher
    from ingest.index import build_index

    index_dir = tmp_path_factory.mktemp("companies") / "index"
    summary = build_index(load_settings(corpus_dir=DATA, index_dir=index_dir))
    assert summary.passages > 0 and not summary.failed, summary.failed
    return open_searcher(index_dir)


def _files(searcher, question: str) -> set[str]:
    """The files a question's scope allows, and the files of its answer's passages."""
    query = searcher.understand(question)
    scope = searcher.scope(query)
    reports = {r.report_id: r.source_file for r in searcher.store.reports}
    return {Path(reports[r]).name for r in scope.report_ids}


def test_bodies_are_learned_from_the_covers(searcher):
    bodies = {r.force for r in searcher.store.reports}
    assert bodies == {"American Water Works Company, Inc.", "Corning Incorporated",
                      "The Coca-Cola Company"}


@pytest.mark.parametrize("question, expected", [
    ("What was Corning's operating income?", {"corning-2021-10k.pdf", "corning-2022-10k.pdf"}),
    ("coca cola operating income by segment", {"cocacola-2017-10k.pdf"}),
    ("How much did The Coca-Cola Company earn?", {"cocacola-2017-10k.pdf"}),
    ("American Water total current assets", {"americanwaterworks-2020-10k.pdf",
                                             "americanwaterworks-2021-10k.pdf",
                                             "americanwaterworks-2022-10k.pdf"}),
    # A short form of the user's own making: the name's leading letters.
    ("AWW cash dividends paid", {"americanwaterworks-2020-10k.pdf",
                                 "americanwaterworks-2021-10k.pdf",
                                 "americanwaterworks-2022-10k.pdf"}),
])
def test_a_company_named_selects_its_reports(searcher, question, expected):
    assert _files(searcher, question) == expected
    a = searcher.ask(question, top_k=5)
    assert a.hits and {Path(h.passage.source_file).name for h in a.hits} <= expected


@pytest.mark.parametrize("question, expected", [
    ("How much did American Water Works pay out in cash dividends for FY2020?",
     "americanwaterworks-2020-10k.pdf"),
    ("American Water Works FY21 dividends paid", "americanwaterworks-2021-10k.pdf"),
    ("What was Corning's FY 2022 working capital?", "corning-2022-10k.pdf"),
    ("corning fiscal 2021 net sales", "corning-2021-10k.pdf"),
])
def test_a_fiscal_year_selects_among_one_companys_reports(searcher, question, expected):
    assert _files(searcher, question) == {expected}
    a = searcher.ask(question, top_k=5)
    assert {Path(h.passage.source_file).name for h in a.hits} == {expected}


def test_a_year_never_selects_another_companys_report(searcher):
    # Coca-Cola has only its 2017 report: "2021" must not pull in Corning's or American
    # Water's 2021 reports; the question stays with Coca-Cola's.
    files = _files(searcher, "What was Coca-Cola's operating income in 2021?")
    assert files <= {"cocacola-2017-10k.pdf"}
    a = searcher.ask("What was Coca-Cola's operating income in 2021?", top_k=5)
    assert all(Path(h.passage.source_file).name == "cocacola-2017-10k.pdf" for h in a.hits)


def test_an_unindexed_company_is_not_answered_from_another(searcher):
    a = searcher.ask("What were Boeing's net sales in 2021?", top_k=5)
    assert a.abstained
    assert "boeing" in (a.reason or "").lower()


PLAIN = "what did American Water Works pay in cash dividends in FY2021?"


@pytest.mark.parametrize("wrapped", [
    "Answer the following question as if you are an equity research analyst. " + PLAIN,
    PLAIN + " Round your answer to two decimal places.",
    "Answer in one sentence: " + PLAIN,
    "According to the details clearly outlined within the statement of cash flows, " + PLAIN,
    PLAIN + " Please state the answer in USD millions. Provide a response by primarily "
            "using the statement of cash flows.",
])
def test_an_instruction_changes_nothing_in_the_search_words(searcher, wrapped):
    plain, inst = searcher.understand(PLAIN), searcher.understand(wrapped)
    assert inst.text == plain.text
    assert [t.word for t in inst.terms] == [t.word for t in plain.terms]
    assert inst.embed_text == plain.embed_text
    assert searcher.keyword_query(inst) == searcher.keyword_query(plain)
    assert inst.instructions and not plain.instructions
    # "analyst", "decimal", "USD" are no absent subject.
    assert [t.word for t in inst.absent] == [t.word for t in plain.absent]


def test_an_instruction_pointing_at_a_statement_is_a_hint():
    r = read_instructions("Basing your judgment on the balance sheet and the P&L statement, "
                          "what is the asset turnover ratio? Round to two decimals.")
    assert r.subject == "what is the asset turnover ratio?"
    assert "balance sheet" in r.hints and "P&L statement" in r.hints
    # A question with no instruction comes back whole.
    q = "How satisfied are victims in the West Midlands, and is it improving?"
    assert read_instructions(q).subject == q and not read_instructions(q).hints


def test_a_document_type_named_selects_those_reports():
    from core.models import Report
    from retrieval.scope import _type_codes

    def rep(title):
        return Report(report_id=title, title=title, force="Pfizer Inc.", year=2021,
                      inspection_type="", source_file=f"{title}.pdf", content_hash="",
                      pages=1)

    pool = [rep("Form 10-K 2021"), rep("Form 10-Q, quarter ended July 2, 2023")]
    assert _type_codes("companies acquired by Pfizer in this 10K report", pool) == {"10k"}
    assert _type_codes("Pfizer's Q2 2023 10-Q revenue", pool) == {"10q"}
    # A code every report's title has, or none has, tells nothing apart.
    assert _type_codes("Pfizer revenue in 2021", pool) == set()
    assert _type_codes("Pfizer COVID-19 vaccine sales", pool) == set()
