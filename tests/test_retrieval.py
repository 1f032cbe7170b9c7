"""Retrieval units (glossary, question profile, highlights, abstention model, filters,
diversity) and the CLI's machine-readable answers, on the real index of the report."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from ingest.models import Passage
from retrieval.abstain import FEATURES, decide
from retrieval.answer import Filters
from retrieval.highlight import best_sentences
from retrieval.search import contextualise, get_searcher
from retrieval.text import Glossary, content_terms, glossary, profile, stem
from ui.cli import main as cli


def test_glossary_both_directions():
    g = glossary()
    assert "anti-social behaviour" in g.expansions("What about ASB in Birmingham?")
    assert "ASB" in g.expansions("What about anti-social behaviour?")
    assert "integrated offender management" in g.expansions("Who runs IOM?")
    assert "IOM" in g.expansions("How does integrated offender management work?")
    # Abbreviations match case-sensitively: "da" in a word is not domestic abuse.
    assert "domestic abuse" not in g.expansions("data on today")
    assert "PCC" in g.expansions("the police and crime commissioners")


def test_glossary_file_format():
    g = Glossary.load("# comment\nx\tA|b c\n\nbad line\n")
    assert g.groups == (("A", "b c"),)


def test_profile_and_terms():
    p = profile("What percentage of 999 calls in Kent were answered in 2015?")
    assert p.wants_figure and p.years == ("2015",) and "Kent" in p.names
    assert profile("What did HMIC recommend about ASB?").wants_recommendation
    assert profile("What grade did the force get?").wants_judgment
    assert "what" not in content_terms("What is the rate?")
    assert stem("investigations") == stem("investigation")


def test_highlight_picks_the_answering_sentence():
    sents = [(0.2, "The force has a plan."), (0.7, "Satisfaction was 83.7 percent."),
             (0.1, "Other matters.")]
    assert best_sentences(sents, "What was victim satisfaction?") == \
        "Satisfaction was 83.7 percent."


def test_abstention_model_plumbing():
    model = {"weights": {"bias": 2.0, "missing_name": -5.0}, "threshold": 0.5}
    base = {f: 0.0 for f in FEATURES} | {"bias": 1.0}
    assert decide(base, model)[0] is False
    assert decide(base | {"missing_name": 1.0}, model)[0] is True


def test_follow_up_context():
    hist = ["How satisfied are victims in the West Midlands?"]
    assert contextualise("and what about anti-social behaviour?", hist).startswith(hist[0])
    standalone = "What did HMIC recommend about seized computer examination resourcing?"
    assert contextualise(standalone, hist) == standalone


def test_filters_accept():
    p = Passage("id", "r1", "Crime inspection 2014", "West Midlands Police", 2014, "Crime",
                ("How effective is the force at tackling anti-social behaviour?", "Summary"),
                ("21",), (18,), "summary", "text")
    assert Filters(section="anti-social").accepts(p)
    assert Filters(section="Tackling anti-social behaviour").accepts(p)
    assert not Filters(kinds=("table",)).accepts(p)
    assert Filters(forces=("west midlands",), years=(2014,)).accepts(p)
    assert not Filters(years=(2015,)).accepts(p)


@pytest.fixture(scope="module")
def searcher(ui_index):
    return get_searcher(ui_index)


def test_answers_cite_the_evidence(searcher):
    a = searcher.ask("What is the burglary in a dwelling rate compared with England and Wales?")
    assert not a.abstained
    top = a.hits[0].passage
    assert top.kind == "table" and "11.3" in top.text
    assert "Burglary in a dwelling" in a.hits[0].highlight


def test_abbreviation_finds_expanded_form(searcher):
    a = searcher.ask("What does the IOM programme involve?", top_k=3)
    assert any("integrated offender management" in h.passage.text for h in a.hits)


def test_filters_restrict_results(searcher):
    a = searcher.ask("How does the force work with partners?", top_k=5,
                     filters=Filters(section="anti-social"))
    assert a.hits and all("anti-social" in " ".join(h.passage.section) for h in a.hits)
    a = searcher.ask("What did HMIC recommend?", top_k=5,
                     filters=Filters(kinds=("recommendation",)))
    assert a.hits and all(h.passage.kind == "recommendation" for h in a.hits)
    a = searcher.ask("victim satisfaction", filters=Filters(forces=("Nowhere Police",)))
    assert a.hits == () and a.abstained


def test_no_near_duplicates_in_results(searcher):
    a = searcher.ask("What approach does the force take to learning and evaluating tactics?",
                     top_k=8)
    texts = [h.passage.text for h in a.hits]
    assert len(texts) == len(set(texts))


def test_unanswerable_other_force_and_year(searcher):
    for q in ("What victim satisfaction rate did Cleveland Police achieve?",
              "What was West Midlands' victim satisfaction rate in the 12 months to June 2016?"):
        a = searcher.ask(q)
        assert a.abstained, (q, a.signals)
        assert a.hits, "near misses are still shown"


def test_cli_ask_json_and_batch(ui_index, tmp_path, monkeypatch):
    monkeypatch.setenv("REPORTQA_INDEX", str(ui_index))
    runner = CliRunner()
    res = runner.invoke(cli, ["ask", "What grades did HMIC give West Midlands Police?",
                              "--json", "--top-k", "3"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    assert set(d) >= {"id", "question", "abstained", "confidence", "passages"}
    p = d["passages"][0]
    assert set(p) >= {"rank", "score", "passage_id", "citation", "report", "force", "section",
                      "page", "pdf_page", "kind", "text", "highlight"}
    assert d["passages"][0]["kind"] == "judgment"
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"id": "a", "question": "What did HMIC recommend about ASB?"}\n'
                     '{"id": "b", "question": "How many PCSOs are there?"}\n')
    res = runner.invoke(cli, ["ask", "--batch", str(batch), "--json"])
    lines = [json.loads(x) for x in res.output.strip().splitlines()]
    assert [x["id"] for x in lines] == ["a", "b"]
    assert lines[0]["passages"][0]["kind"] == "recommendation"
