"""Short answers that answer each part of a question in several parts
(retrieval/short_answer.py), on the real index of the report (real model): a sentence
for each part the passages answer, verbatim, each with its passage's marker — in the
answer the search returns, its JSON, a saved conversation and the app — while a
one-part question's short answer is what it always was."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from retrieval.records import answer_from_record, answer_record
from retrieval.search import get_searcher
from retrieval.short_answer import question_parts, short_answer

TWO_PARTS = "How satisfied are victims in the West Midlands, and is it improving?"
RATE = "West Midlands had a victim satisfaction rate of 83.7 percent"
EARLIER = ("Its current rate is lower than the 85.5 percent (± 0.2 percent) recorded for "
           "West Midlands in the previous year.")


@pytest.mark.parametrize("question,parts", [
    (TWO_PARTS, ["How satisfied are victims in the West Midlands", "is it improving?"]),
    ("What is the burglary rate and how does it compare with England and Wales?",
     ["What is the burglary rate", "how does it compare with England and Wales?"]),
    ("How satisfied are victims? Is it improving?",
     ["How satisfied are victims?", "Is it improving?"]),
    ("How does the force tackle domestic abuse; what did HMIC recommend?",
     ["How does the force tackle domestic abuse", "what did HMIC recommend?"]),
    ("What is IOM, and what about Turning Point?", ["What is IOM", "what about Turning Point?"]),
    # One question: "and" between nouns, or before something that is not a clause.
    ("What are the burglary and robbery rates?", ["What are the burglary and robbery rates?"]),
    ("How do the police and partners tackle anti-social behaviour?",
     ["How do the police and partners tackle anti-social behaviour?"]),
    ("victim satisfaction rate", ["victim satisfaction rate"]),
    ("How and why did recorded crime fall?", ["How and why did recorded crime fall?"]),
])
def test_question_parts(question, parts):
    assert question_parts(question) == parts


@pytest.fixture(scope="module")
def searcher(ui_index):
    return get_searcher(ui_index)


def _verbatim(answer, sa) -> None:
    """Each part of a short answer is the report's own words, in the passage it cites."""
    for text, rank in sa.parts:
        hit = answer.hits[rank - 1]
        assert " ".join(text.split()) in " ".join(hit.passage.text.split())
        assert f"{text} [{rank}]" in sa.text


@pytest.mark.parametrize("question", [TWO_PARTS,
                                      "How satisfied are victims in the West Midlands? "
                                      "Is it improving?"])
def test_each_part_gets_its_sentence(searcher, question):
    a = searcher.ask(question)
    assert not a.abstained
    sa = a.short_answer
    texts = [t for t, _ in sa.parts]
    # The satisfaction rate answers the first part, last year's rate the second.
    assert RATE in texts[0]
    assert any(EARLIER in t for t in texts), sa.text
    assert len(sa.parts) == len(set(texts)) <= len(question_parts(question))
    _verbatim(a, sa)
    # The JSON answer and a saved conversation carry the same short answer.
    assert a.to_dict()["short_answer"] == sa.to_dict()
    again = answer_from_record(json.loads(json.dumps(answer_record(a))))
    assert again.short_answer == sa


def test_a_part_already_answered_gets_nothing_more(searcher):
    """The burglary row gives the West Midlands and England and Wales rates: the
    comparison part is answered by it, so no other passage's comparison is added."""
    a = searcher.ask("What is the burglary rate and how does it compare with England and Wales?")
    sa = a.short_answer
    assert "Burglary in a dwelling" in sa.parts[0][0]
    assert len(sa.parts) <= 2
    assert not any("anti-social behaviour rate" in t for t, _ in sa.parts)
    _verbatim(a, sa)


@pytest.mark.parametrize("question", ["victim satisfaction rate",
                                      "How satisfied are victims in the West Midlands?",
                                      "How does the force tackle anti-social behaviour?",
                                      "What is the burglary in a dwelling rate compared with "
                                      "England and Wales?"])
def test_one_part_question_is_unchanged(searcher, question):
    a = searcher.ask(question)
    # The model changes nothing for one part.
    assert short_answer(a, searcher) == short_answer(a) == a.short_answer
    if "satisf" in question:
        assert RATE in a.short_answer.parts[0][0] and a.short_answer.cites[0] == 1
        assert EARLIER not in a.short_answer.text


@pytest.mark.parametrize("instruction", ["Round your answer to one decimal place.",
                                         "Please state the answer in percent."])
def test_an_instruction_is_not_a_part(searcher, instruction):
    """An instruction after the question is not answered by a sentence of the report:
    the short answer is the one-part question's (it used to add a second sentence,
    e.g. an unrelated cash-flow row for "Compute or extract the answer by primarily
    using the details outlined in the cash flow statement")."""
    from model_calls import counting_searcher

    question = "How satisfied are victims in the West Midlands?"
    assert len(question_parts(f"{question} {instruction}")) == 2
    plain = searcher.ask(question)
    s, calls = counting_searcher(searcher)
    a = s.ask(f"{question} {instruction}")
    assert [h.passage.passage_id for h in a.hits] == [h.passage.passage_id for h in plain.hits]
    assert a.short_answer == plain.short_answer and RATE in a.short_answer.parts[0][0]
    # Only the question's own texts went to the model: no part was sought for the
    # instruction.
    assert len(calls) == 1 and not any(instruction in t for t in calls[0]), calls


def test_without_the_model_a_question_is_answered_as_one_part(searcher):
    a = searcher.ask(TWO_PARTS)
    plain = short_answer(a)
    assert RATE in plain.parts[0][0]
    assert plain != a.short_answer


def test_the_app_shows_each_part(ui_index, monkeypatch, tmp_path):
    monkeypatch.setenv("REPORTQA_INDEX", str(ui_index))
    monkeypatch.setenv("REPORTQA_SESSIONS", str(tmp_path / "sessions"))
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "ui" / "app.py"),
                           default_timeout=90)
    at.run()
    at.chat_input[0].set_value(TWO_PARTS).run()
    assert not at.exception, at.exception
    (block,) = [h.value for h in at.get("html") if 'class="rq-short"' in h.value]
    plain = re.sub(r"<[^>]+>", "", block).replace("&#x27;", "'")
    assert "83.7 percent" in plain and "85.5 percent" in plain
    assert "previous year" in plain


def test_a_highlight_of_table_rows_is_not_embedded_again(searcher):
    """A highlight that joins a table's rows has no sentence end to split at: its
    vector is the mean of the rows' stored vectors, as for sentences, not a model call
    over the whole text (13 ms for two long rows of a balance sheet)."""
    import numpy as np

    from retrieval.answer import Hit
    from retrieval.short_answer import _Vectors

    store = searcher.store
    table = next(p for p in store.iter_passages() if p.kind == "table"
                 and len(store.sentences(store.rowids_of([p.passage_id]))) >= 3)
    rows = [t for _, t, _ in store.sentences(store.rowids_of([table.passage_id]))]
    calls = []

    class Counting:
        def __init__(self):
            self.store = store

        def embed(self, texts):
            calls.append(texts)
            return searcher.embed(texts)

    vectors = _Vectors(Counting(), [Hit(table, 1.0, rows[0], 1, {})])
    joined = " ".join(rows[:2])
    got = vectors.of([joined])[0]
    mean = np.mean([vectors.known[" ".join(r.split())] for r in rows[:2]], axis=0)
    assert not calls
    assert np.allclose(got, mean / np.linalg.norm(mean))
    # A text that only starts like a row is embedded as it is.
    vectors.of([rows[0] + " and something the report never says"])
    assert len(calls) == 1


def test_a_question_of_several_parts_goes_to_the_model_once_more(searcher):
    """Beyond the question's own texts, its parts' texts (each part, and the first
    part with a part that leans on it) go to the model in one call, not one a part."""
    from model_calls import counting_searcher

    s, calls = counting_searcher(searcher)
    q = ("How satisfied are victims in the West Midlands? Is it improving? "
         "How does it compare with England and Wales?")
    a = s.ask(q)
    assert len(question_parts(q)) == 3 and len(a.short_answer.parts) >= 2
    assert len(calls) == 2, calls
