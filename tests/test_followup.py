"""Follow-ups: a question asked after another is read with it only when it leans on it
— by its form (retrieval/followup.py), never because the joined reading, a longer text,
scores higher. Checked by rule on examples of both kinds, then on the real index of the
report (real model) through Searcher.ask — the app's path — and through
`reportqa ask --batch` with a conversation's "history"."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from retrieval.followup import choose_reading, leans_on_previous
from retrieval.search import get_searcher
from ui.cli import main as cli

PREV = "How satisfied are victims in the West Midlands?"

#: Questions that cannot be read without the one before them.
LEANS = [
    # A connective.
    "and for burglary?",
    "And is it improving?",
    "what about anti-social behaviour?",
    "How about domestic abuse?",
    "also, what did HMIC recommend?",
    "same for Coventry?",
    "or is it getting worse?",
    "so what did HMIC tell them to do about it",
    "what if they refuse to take part?",
    # An ellipsis: no subject of its own, or a phrase with no verb.
    "in 2013?",
    "why?",
    "by how much?",
    "across England and Wales?",
    "which forces?",
    "does it actually work though?",
    "where is it being trialled?",
    "has it gone up?",
    # A word that points back, with nothing in the question for it to stand for.
    "how does that compare with England and Wales?",
    "is that per person or per household?",
    "what time period does that figure cover?",
    "what impact does that have on cases?",
    "is this linked to any other HMIC report?",
    "have they set up specialist teams for it?",
    "how many offenders are on it right now?",
    "what is the rate there?",
    "what does the bottom one mean?",
    "what else did HMIC find?",
    "how does Staffordshire compare?",
]

#: Questions that name their own subject, pronouns or not.
STANDS = [
    "how many burglaries did wmp record",
    "What is the burglary rate in Birmingham?",
    "victim satisfaction rate west midlands",
    "violence with injury rate",
    "What did HMIC recommend about seized computer examination resourcing?",
    # "they", "their", "it" as the subject: the inspected body.
    "how good are they at dealing with antisocial behaviour",
    "do they work well with local councils?",
    "is it doing anything about forced marriage and modern slavery",
    "is their response to asb tailored to each victim",
    "what grades can hmic give them",
    # Words that look back but do not: existential "there", "this year", "those who",
    # "that" joining a clause, "the same as", "compare with", "IT".
    "Are there enough detectives in the force?",
    "How many crimes were recorded this year?",
    "How does the force support those who are vulnerable?",
    "What does HMIC say that the force should do about burglary?",
    "Is the burglary rate the same as last year?",
    "How does the West Midlands compare with other forces on burglary?",
    "How many forensic IT examiners does the force employ?",
    "So far, how many offenders are on the IOM scheme?",
    # A pronoun whose antecedent is in an earlier clause of the same question.
    "How much did the Turning Point project cost, and how many offenders took part in it?",
    "By how much did recorded crime fall since 2010, and how does that compare nationally?",
    "is the detection rate in the west midlands higher or lower than the national one",
]


@pytest.mark.parametrize("question", LEANS)
def test_leans_on_previous(question):
    assert leans_on_previous(question, PREV)


@pytest.mark.parametrize("question", STANDS)
def test_stands_alone(question):
    assert not leans_on_previous(question, PREV)


def test_nothing_to_lean_on():
    assert not leans_on_previous("and is it improving?", None)
    assert not leans_on_previous("and is it improving?", "  ")
    assert not leans_on_previous(PREV, PREV)


@pytest.fixture(scope="module")
def searcher(ui_index):
    return get_searcher(ui_index)


#: Unrelated questions asked in a row (the first pair was searched as one long
#: question: its joined reading scores clearly higher, for its length alone).
UNRELATED = [
    (PREV, "how many burglaries did wmp record"),
    ("What did HMIC recommend about seized computer examination resourcing?",
     "How satisfied are victims with the service they get?"),
    ("How does the force tackle anti-social behaviour?", "What is integrated offender management?"),
    ("victim satisfaction rate", "how good are they at dealing with antisocial behaviour"),
    ("What is the burglary rate?", "Does the force work with Cambridge University?"),
    ("How is West Midlands Police organised?", "what is the violence with injury rate"),
]


@pytest.mark.parametrize("previous,question", UNRELATED)
def test_unrelated_questions_are_each_read_alone(searcher, previous, question):
    a = searcher.ask(question, history=[previous])
    assert a.follow_up_of is None, a.searched_as
    alone = searcher.ask(question)
    assert [h.passage.passage_id for h in a.hits] == [h.passage.passage_id for h in alone.hits]


@pytest.mark.parametrize("question", ["and is it improving?", "what about anti-social behaviour?"])
def test_true_follow_ups_are_read_with_the_previous_question(searcher, question):
    a = searcher.ask(question, history=["What is the burglary rate?", PREV])
    assert a.follow_up_of == PREV
    assert "satisf" in a.searched_as.lower()
    if "improving" in question:
        # The passage with this year's and last year's satisfaction rates.
        assert any("85.5 percent" in h.passage.text for h in a.hits[:3])


def test_a_margin_never_overrides_the_form(searcher):
    q = "how many burglaries did wmp record"
    joined = searcher.ask(q, history=[PREV], follow_up=True)
    alone = searcher.ask(q, history=[PREV], follow_up=False)
    assert joined.follow_up_of == PREV and alone.follow_up_of is None
    # A question that names its own subject is read alone, whatever the margin (the
    # old rule took the joined reading when its confidence beat the alone one's by it).
    assert choose_reading(q, alone, joined) is alone
    q = "and is it improving?"
    joined = searcher.ask(q, history=[PREV], follow_up=True)
    alone = searcher.ask(q, history=[PREV], follow_up=False)
    assert not joined.abstained
    assert choose_reading(q, alone, joined) is joined


def test_batch_reads_a_conversation_as_the_app_does(ui_index, searcher):
    """`ask --batch` with "history": the same Searcher.ask path and choice as the app;
    a bad history is one line on standard error and the rest go on."""
    turns = [
        {"id": "q1", "question": PREV},
        {"id": "q2", "question": "how many burglaries did wmp record", "history": [PREV]},
        {"id": "q3", "question": "and is it improving?",
         "history": [PREV, "how many burglaries did wmp record"]},
        {"id": "q4", "question": "and is it improving?", "history": PREV},
        {"id": "q5", "question": "and is it improving?", "history": [PREV, 7]},
        {"id": "q6", "question": "what about anti-social behaviour?", "history": [PREV]},
    ]
    res = CliRunner().invoke(cli, ["ask", "--batch", "-", "--json", "--index", str(ui_index)],
                             input="".join(json.dumps(t) + "\n" for t in turns))
    assert res.exit_code == 0, res.output
    out = [json.loads(x) for x in res.stdout.splitlines() if x.startswith("{")]
    assert [d["id"] for d in out] == ["q1", "q2", "q3", "q6"]
    got = {d["id"]: d for d in out}
    assert got["q1"]["follow_up_of"] is None
    assert got["q2"]["follow_up_of"] is None
    # The last turn is what a follow-up leans on.
    assert got["q3"]["follow_up_of"] == "how many burglaries did wmp record"
    assert got["q6"]["follow_up_of"] == PREV
    errors = [x for x in res.stderr.splitlines() if x.startswith("<stdin>:")]
    assert [e.split(":")[1] for e in errors] == ["4", "5"]
    assert all('"history" is not a list of questions' in e for e in errors)
    # Each answer is the app's: Searcher.ask with the same history.
    for t in turns:
        if t["id"] in got:
            app = searcher.ask(t["question"], history=t.get("history"), qid=t["id"]).to_dict()
            d = got[t["id"]]
            assert d["follow_up_of"] == app["follow_up_of"]
            assert [p["passage_id"] for p in d["passages"]] == \
                [p["passage_id"] for p in app["passages"]]
            assert d["short_answer"] == app["short_answer"]
