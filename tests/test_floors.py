"""The rule `reportqa-fit floors` applies to cross-validated figures, and the fitting
command line's one-line errors. (The cross-validation itself runs as that command in
`make test`, after the unit tests: it takes a minute and a half.)"""

from __future__ import annotations

from click.testing import CliRunner

from fitting.cli import main
from fitting.floors import failures


def _row(style: str, answerable: bool, rank: int | None, abstained: bool) -> dict:
    return {"style": style, "answerable": answerable, "kind": "single" if answerable else
            "absent", "rank": rank, "abstained": abstained, "recall@5": 1.0,
            "recall@10": 1.0}


def _rows(hits_first: int, declined: int, style: str = "formal") -> list[dict]:
    """20 answerable single-fact questions (hits_first ranked first, the rest at rank
    2), 2 multi-passage ones (all found) and 10 unanswerable ones (`declined` of them
    declined)."""
    return ([_row(style, True, 1 if i < hits_first else 2, False) for i in range(20)]
            + [{**_row(style, True, 1, False), "kind": "multi"} for _ in range(2)]
            + [_row(style, False, None, i < declined) for i in range(10)])


def test_good_figures_miss_no_floor():
    assert failures(_rows(hits_first=18, declined=8)) == []


def test_a_weak_hit_at_1_and_abstention_are_named():
    missed = failures(_rows(hits_first=10, declined=3))
    assert any(m.startswith("hit@1 0.5 is below 0.7") for m in missed)
    assert any(m.startswith("abstain_rate 0.3 is below 0.62") for m in missed)
    assert any(m.startswith("style formal: abstention 0.3") for m in missed)


def test_one_weak_style_fails_on_its_own():
    rows = _rows(18, 9, "formal") * 3 + _rows(18, 2, "typo")
    missed = failures(rows)
    assert missed == ["style typo: abstention 0.2 is below 0.35"]


def test_a_missing_questions_folder_is_one_line(tmp_path):
    r = CliRunner().invoke(main, ["floors", "--data", str(tmp_path / "nowhere")])
    assert r.exit_code == 2
    assert r.output.count("\n") == 1 and "--data" in r.output and "nowhere" in r.output


def _sample(src, dst, n: int) -> None:
    """Every `step`-th question of a gold file, so a sample keeps its mix of kinds."""
    lines = src.read_text(encoding="utf-8").splitlines()
    step = max(1, len(lines) // n)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text("\n".join(lines[::step][:n]) + "\n", encoding="utf-8")


def test_fitting_commands_fit_write_and_report_on_a_small_sample(ui_index, tmp_path):
    """calibrate, relevance and eval --cv end to end (real model, real index) on a
    sample of the gold questions: the fitted files are what serving reads."""
    import json
    from pathlib import Path

    from retrieval.config import DEFAULT_WEIGHTS

    data = Path(__file__).resolve().parent / "data"
    small = tmp_path / "data"
    _sample(data / "dev.jsonl", small / "dev.jsonl", 30)
    _sample(data / "calibration.jsonl", small / "calibration.jsonl", 30)
    _sample(data / "train" / "nearmiss.jsonl", small / "train" / "nearmiss.jsonl", 30)
    _sample(data / "dev2.jsonl", small / "dev2.jsonl", 10)
    out = tmp_path / "models"
    out.mkdir()
    common = ["--data", str(small), "--index", str(ui_index)]
    r = CliRunner().invoke(main, ["calibrate", *common, "--out", str(out)])
    assert r.exit_code == 0, r.output
    ranker = json.loads((out / "ranker.json").read_text())
    assert set(ranker["weights"]) == set(DEFAULT_WEIGHTS)
    assert ranker["fitted_on"] == ["dev.jsonl", "calibration.jsonl", "nearmiss.jsonl"]
    assert "threshold" in json.loads((out / "abstain.json").read_text())
    assert "locked test split dev2.jsonl" in r.output
    r = CliRunner().invoke(main, ["relevance", *common, "--out", str(out)])
    assert r.exit_code == 0, r.output
    words = json.loads((out / "relevance.json").read_text())
    assert words["strong"] >= words["partial"]
