"""The suite's figures (runs last: files run in name order). Every section that ran
must report no errors and no data lost; the figures are printed in the terminal
summary and written to tests/artifacts/robustness.json."""

from __future__ import annotations


def test_no_errors_and_no_data_lost(figure_totals):
    totals, sections = figure_totals()
    assert totals["errors"] == 0, sections
    assert totals["data_lost"] == 0, sections
    if "fuzz" in sections:
        assert sections["fuzz"]["crashes"] == 0 and sections["fuzz"]["hangs"] == 0
    if "concurrency" in sections:
        assert sections["concurrency"]["queries"] > 0
