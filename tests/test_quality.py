"""Floors on answer quality with the real model on the real report: the locked test
split dev2 scored with the shipped models. The cross-validated floors over every
training question are `reportqa-fit floors` (fitting/floors.py), which `make test` runs
after the unit tests; tests/test_floors.py checks their rule. Floors sit a little under
the figures in docs/answers.md, so a regression fails CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from fitting.crossval import load_questions
from fitting.evaluate import load_gold, run_eval
from retrieval.search import get_searcher

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def searcher(ui_index):
    return get_searcher(ui_index)


def test_training_set_is_what_the_issue_asks_for():
    qs = load_questions(sorted((DATA / "train").glob("*.jsonl")))
    assert len(qs) >= 300
    assert sum(not q["answerable"] for q in qs) >= len(qs) / 3
    assert all(q.get("made") and q.get("style") for q in qs)
    styles = {q["style"] for q in qs}
    assert {"terse", "lowercase", "typo", "abbrev", "paraphrase", "followup"} <= styles


def test_locked_test_split(searcher):
    """dev2 was never read question by question; the shipped models score it."""
    r = run_eval(searcher, load_gold(DATA / "dev2.jsonl"), k=10)
    s = r["systems"]["reportqa"]
    # hit@1 was 0.67 (16 of 24) until table rows took their own unit and period from
    # the table's notes (a quoting fix, issue 12): 0.62 since (15 of 24), with the
    # 660 cross-validated questions unchanged. The floor guards against regressions
    # larger than one question.
    assert s["hit@1"] >= 0.60 and s["hit@5"] >= 0.80 and s["mrr@10"] >= 0.72
    assert s["recall@10"] >= 0.9 and s["abstain_rate"] >= 0.3
    # Plain dense and plain BM25 tie on these 34 formal questions: not worse by more
    # than one question's reciprocal rank share. (BM25 went from 0.70 to 0.76 when the
    # keyword index took each passage's context — body, report, section path — which
    # the baseline searches too; this system scores 0.74.)
    assert s["mrr@10"] >= r["systems"]["bm25"]["mrr@10"] - 0.03
    assert s["mrr@10"] >= r["systems"]["dense"]["mrr@10"] - 0.03
    assert r["latency_ms"]["p50"] < 1000  # sanity only; speed is measured in benchmarks/
