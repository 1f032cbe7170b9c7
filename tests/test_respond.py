"""One entry point answers for the app and the command line (retrieval/respond.py): a
question asked across reports gets the comparison in the app, `reportqa ask` (plain,
--json and --batch) alike, any other question the answer — on a real index (real model)
of the fictional archive in tests/archive_factory.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from retrieval.respond import respond
from ui.cli import main as cli

APP = str(Path(__file__).resolve().parent.parent / "ui" / "app.py")
COMPARE = "Compare victim satisfaction across the forces"
#: A conversation, in order: across reports, one force, a follow-up that leans on the
#: previous turn, and a question about grades across reports.
CONVERSATION = [
    COMPARE,
    "How does Ardenvale Police tackle anti-social behaviour?",
    "and how does that compare across the forces?",
    "Which forces were graded inadequate or requires improvement for legitimacy?",
]


@pytest.fixture(scope="module")
def searcher(archive):
    from retrieval.search import get_searcher

    return get_searcher(archive[2])


def _what(d: dict) -> tuple:
    """What a machine-readable reply gave: its kind, and the reports of its rows or
    the passages it cites."""
    if d["kind"] == "comparison":
        return "comparison", tuple(r["report_id"] for r in d["rows"])
    return "answer", tuple(p["passage_id"] for p in d["passages"])


def test_a_question_across_reports_gets_the_comparison(searcher):
    r = respond(searcher, COMPARE)
    assert r.kind == "comparison" and r.comparison is not None
    assert len(r.comparison.answering) >= 9
    # The answer is the comparison's answering passages (the app's cards, the exports).
    assert r.answer == r.comparison.as_answer()
    d = r.to_dict()
    assert d["kind"] == "comparison" and d["comparison"] is True
    assert len(d["rows"]) == len(r.comparison.rows) and d["passages"]

    one = respond(searcher, "How does Ardenvale Police tackle anti-social behaviour?")
    assert one.kind == "answer" and one.comparison is None
    assert one.to_dict() == {"kind": "answer", **one.answer.to_dict()}


def test_cli_ask_gives_the_comparison(archive, monkeypatch):
    monkeypatch.setenv("REPORTQA_INDEX", str(archive[2]))
    runner = CliRunner()
    res = runner.invoke(cli, ["ask", "--json", "compare victim satisfaction across the forces"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["kind"] == "comparison" and len(d["rows"]) >= 10
    assert sum(r["answers"] for r in d["rows"]) >= 9
    # Plain `ask` prints the table as `reportqa compare` does.
    asked = runner.invoke(cli, ["ask", COMPARE])
    compared = runner.invoke(cli, ["compare", COMPARE])
    assert asked.exit_code == compared.exit_code == 0, asked.output
    assert "answer this (one row per report)" in asked.stdout
    assert asked.stdout == compared.stdout


def test_one_report_is_never_compared(ui_index, monkeypatch):
    monkeypatch.setenv("REPORTQA_INDEX", str(ui_index))
    res = CliRunner().invoke(cli, ["ask", "--json", COMPARE])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["kind"] == "answer"


def test_app_and_cli_batch_reply_alike_turn_by_turn(archive, monkeypatch, tmp_path):
    """The same conversation in the app and as `ask --batch` lines with their history:
    each turn gets the same kind of reply, with the same reports or passages."""
    monkeypatch.setenv("REPORTQA_INDEX", str(archive[2]))
    monkeypatch.setenv("REPORTQA_SESSIONS", str(tmp_path / "sessions"))
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception, at.exception
    for q in CONVERSATION:
        at.chat_input[0].set_value(q).run()
        assert not at.exception, at.exception
    in_app = []
    for t in at.session_state["turns"]:
        c = t["comparison"]
        in_app.append(("comparison", tuple(r.report_id for r in c.rows)) if c is not None
                      else ("answer", tuple(h.passage.passage_id for h in t["answer"].hits)))

    lines = "".join(json.dumps({"id": str(i), "question": q, "history": CONVERSATION[:i]})
                    + "\n" for i, q in enumerate(CONVERSATION))
    res = CliRunner().invoke(cli, ["ask", "--batch", "-", "--json"], input=lines)
    assert res.exit_code == 0, res.output
    in_cli = [_what(json.loads(x)) for x in res.stdout.splitlines() if x.startswith("{")]
    assert [k for k, _ in in_app] == [k for k, _ in in_cli]
    assert in_app == in_cli
    assert in_app[0][0] == "comparison" and in_app[1][0] == "answer"


def test_a_question_is_scoped_once(searcher, monkeypatch):
    """respond, the comparison and the answer each ask a question's scope: it is worked
    out once (Searcher.scope keeps the last few), and is the same scope each time."""
    import retrieval.search as search_mod

    calls: list[str] = []
    resolve = search_mod.resolve
    monkeypatch.setattr(search_mod, "resolve",
                        lambda text, *a, **k: calls.append(text) or resolve(text, *a, **k))
    question = "Compare how the forces handle hate crime reports"
    first = respond(searcher, question)
    assert first.kind == "comparison" and len(calls) == 1
    again = respond(searcher, question)
    assert len(calls) == 1 and again.to_dict() == first.to_dict()
