"""Regression floor on answer quality: the real model on the real report, scored on
the dev questions with the gold matching rule. Floors sit a little under the figures
measured when they were set (README, "Answer quality"), so a regression fails CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from retrieval.evaluate import load_gold, run_eval
from retrieval.search import get_searcher

DATA = Path(__file__).resolve().parent / "data"


@pytest.fixture(scope="module")
def result(ui_index):
    return run_eval(get_searcher(ui_index), load_gold(DATA / "dev.jsonl"), k=10)


def test_dev_floors(result):
    s = result["systems"]["reportqa"]
    assert s["hit@1"] >= 0.80
    assert s["hit@5"] >= 0.92
    assert s["mrr@10"] >= 0.85
    assert s["recall@10"] >= 0.90
    assert s["abstain_rate"] >= 0.66
    assert s["false_abstain_rate"] <= 0.07


def test_beats_baselines(result):
    sy = result["systems"]
    for base in ("bm25", "dense"):
        assert sy["reportqa"]["mrr@10"] > sy[base]["mrr@10"]
        assert sy["reportqa"]["recall@10"] >= sy[base]["recall@10"]


def test_calibration_set_floors(ui_index):
    r = run_eval(get_searcher(ui_index), load_gold(DATA / "calibration.jsonl"), k=10,
                 baselines=False)
    s = r["systems"]["reportqa"]
    assert s["hit@5"] >= 0.85 and s["abstain_rate"] >= 0.6 and s["false_abstain_rate"] <= 0.1
