"""Does a sentence state what was asked? The kind of thing a question asks for, whether
a sentence states one, and near-miss questions on the real report: a figure the report
does not give for a subject it discusses is declined, with a reason naming what is
missing (real model, real index, the shipped abstention model)."""

from __future__ import annotations

import pytest

from retrieval.answerability import states, wanted_slot
from retrieval.search import get_searcher


@pytest.mark.parametrize("question, slot", [
    ("How many burglaries did West Midlands Police record in 2014?", "count"),
    ("number of PCSOs in wmp", "count"),
    ("How much did the force spend on restorative justice?", "sum"),
    ("What was the cost of the Turning Point project?", "sum"),
    ("what percentage of victims were satisfied", "rate"),
    ("burglary rate per 1000 households", "rate"),
    ("When did Operation Sentinel start?", "date"),
    ("How much has crime fallen since 2010?", None),
    ("What does HMIC say about anti-social behaviour?", None),
])
def test_what_a_question_asks_for(question, slot):
    assert wanted_slot(question) == slot


@pytest.mark.parametrize("slot, sentence, expected", [
    ("count", "The force recorded 12,345 burglaries in the year.", True),
    ("count", "Burglary — West Midlands Police 11.3, England and Wales 8.9 (rate per "
              "1,000 households)", False),
    ("count", "83.7 percent of victims were satisfied.", False),
    ("count", "In 2014 the force changed its approach.", False),
    ("sum", "The project cost £1.2 million over two years.", True),
    ("sum", "The force uses restorative justice to resolve low-level crime.", False),
    ("rate", "a victim satisfaction rate of 83.7 percent", True),
    ("date", "The scheme began in April 2013.", True),
    ("date", "The scheme is run with local councils.", False),
])
def test_whether_a_sentence_states_it(slot, sentence, expected):
    assert states(slot, sentence) is expected


@pytest.fixture(scope="module")
def searcher(ui_index):
    return get_searcher(ui_index)


def test_a_near_miss_sum_is_declined_with_what_is_missing(searcher):
    # The report describes restorative justice at length but never gives a sum spent.
    a = searcher.ask("How much did West Midlands Police spend on restorative justice?")
    assert a.abstained
    assert "restorative justice" in a.reason and "no sum" in a.reason
    # The answerable neighbour of the same subject is still answered.
    b = searcher.ask("How does West Midlands Police use restorative justice?")
    assert not b.abstained and "restorative" in b.hits[0].passage.text.lower()
