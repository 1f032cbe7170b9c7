"""Floors on answer quality measured out of sample, with the real model on the real
report: grouped 5-fold cross-validation over every training question (dev, calibration
and tests/data/train/), and the locked test split dev2 scored with the shipped models.
Floors sit a little under the figures in README ("Answer quality"), so a regression
fails CI; in-sample figures are not tested (they flatter)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from retrieval.crossval import capture, cross_validate, load_questions, training_files
from retrieval.evaluate import aggregate, load_gold, run_eval
from retrieval.search import get_searcher

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def searcher(ui_index):
    return get_searcher(ui_index)


@pytest.fixture(scope="module")
def cv_rows(searcher):
    shipped = json.loads(resources.files("retrieval").joinpath("data/ranker.json")
                         .read_text("utf-8"))["ranker"]
    caps = capture(searcher, load_questions(training_files()))
    return cross_validate(searcher, caps, shipped)


def test_training_set_is_what_the_issue_asks_for():
    qs = load_questions(sorted((DATA / "train").glob("*.jsonl")))
    assert len(qs) >= 300
    assert sum(not q["answerable"] for q in qs) >= len(qs) / 3
    assert all(q.get("made") and q.get("style") for q in qs)
    styles = {q["style"] for q in qs}
    assert {"terse", "lowercase", "typo", "abbrev", "paraphrase", "followup"} <= styles


def test_out_of_sample_floors(cv_rows):
    s = aggregate(cv_rows)
    assert s["hit@1"] >= 0.70
    assert s["hit@5"] >= 0.91
    assert s["mrr@10"] >= 0.80
    assert s["recall@10"] >= 0.88
    # 0.74 before the 112 hand-written near-miss questions joined the unanswerable ones
    # (a count, sub-group, measure or period the report does not give: 0.2–0.3 of
    # them are declined); 0.65 with them.
    assert s["abstain_rate"] >= 0.62
    assert s["false_abstain_rate"] <= 0.06


def test_out_of_sample_by_style(cv_rows):
    """Every way of typing keeps a floor: hit@5 for answerable questions, abstention
    for unanswerable ones."""
    styles = {r["style"] for r in cv_rows}
    for style in styles:
        rs = [r for r in cv_rows if r["style"] == style]
        s = aggregate(rs)
        if s["hit@5"] is not None and s["n_single"] >= 8:
            assert s["hit@5"] >= 0.70, (style, s)
        if s["abstain_rate"] is not None and s["n_unanswerable"] >= 8:
            assert s["abstain_rate"] >= 0.35, (style, s)


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
