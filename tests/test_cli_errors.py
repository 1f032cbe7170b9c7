"""Mistakes on the command line get one line naming the mistake and what would work
(exit 2), never "0 passages"."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from ui.cli import main as cli


@pytest.mark.parametrize("args, says", [
    (["--kind", "tabel"], "--kind 'tabel' is not a passage kind here (kinds: paragraph"),
    (["--force", "Dyfed-Powys Police"],
     "--force 'Dyfed-Powys Police' matches no indexed report (forces: West Midlands Police)"),
    (["--year", "2019"], "--year 2019 matches no indexed report (years: 2014)"),
    (["--report", "nope"], "--report 'nope' is no indexed report id"),
    (["--programme", "PEEL legitimacy"], "--programme 'PEEL legitimacy' matches no indexed"),
    (["--section", "zzz"], "--section 'zzz' matches no section heading"),
])
@pytest.mark.parametrize("command", ["ask", "compare"])
def test_a_filter_that_matches_nothing_is_named(ui_index, monkeypatch, command, args, says):
    monkeypatch.setenv("REPORTQA_INDEX", str(ui_index))
    r = CliRunner().invoke(cli, [command, "victim satisfaction", *args])
    assert r.exit_code == 2, r.output
    assert says in r.output and len(r.output.strip().splitlines()) == 1


def test_top_k_zero_is_refused(ui_index, monkeypatch):
    monkeypatch.setenv("REPORTQA_INDEX", str(ui_index))
    r = CliRunner().invoke(cli, ["ask", "victims", "--top-k", "0"])
    assert r.exit_code == 2 and "--top-k" in r.output


def test_filters_that_match_still_answer(ui_index, monkeypatch):
    monkeypatch.setenv("REPORTQA_INDEX", str(ui_index))
    r = CliRunner().invoke(cli, ["ask", "victim satisfaction", "--force", "west midlands",
                                 "--kind", "paragraph", "--year", "2014"])
    assert r.exit_code == 0 and "passages from 1 report" in r.output
