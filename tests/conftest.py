"""Shared fixtures."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "corpus" / "hmic-crime-inspection-2014-west-midlands.txt"


@pytest.fixture(scope="session")
def isolated_dirs(tmp_path_factory) -> tuple[Path, Path]:
    """An empty corpus and index folder for the session: where the settings point
    when a test does not say otherwise."""
    base = tmp_path_factory.mktemp("isolated")
    (base / "corpus").mkdir()
    return base / "corpus", base / "index"


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch, isolated_dirs):
    """No test sees the developer's REPORTQA_* settings (an index, a model, a batch
    size): every settings variable is cleared, and the corpus and index point at empty
    temporary folders. Variables that steer the tests themselves
    (REPORTQA_REQUIRE_BROWSER, REPORTQA_HYPOTHESIS_RANDOM, REPORTQA_UPDATE_SCREENSHOT)
    and the model unpack cache are kept."""
    from core.settings import ENV

    for name in ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REPORTQA_CORPUS", str(isolated_dirs[0]))
    monkeypatch.setenv("REPORTQA_INDEX", str(isolated_dirs[1]))


@pytest.fixture(scope="session")
def ui_index(tmp_path_factory) -> Path:
    """A real index of the demo report (real model), built once per test session in
    a temporary folder; the UI tests point REPORTQA_INDEX at it."""
    from core.settings import load_settings
    from ingest.index import build_index

    base = tmp_path_factory.mktemp("ui")
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(REPORT, corpus / REPORT.name)
    index_dir = base / "index"
    summary = build_index(load_settings(corpus_dir=corpus, index_dir=index_dir))
    assert summary.passages > 0, summary.failed
    return index_dir


@pytest.fixture(scope="session")
def archive(tmp_path_factory):
    """The fictional archive of tests/archive_factory.py (nested folders, clashing file
    names, crime inspections, PEEL pillar reports and assessments, a thematic report)
    and a real index of it (real model), built once per test session.
    Returns (reports as written, corpus folder, index folder)."""
    import archive_factory as af

    from core.settings import load_settings
    from ingest.index import build_index

    base = tmp_path_factory.mktemp("archive")
    corpus = base / "corpus"
    reports = af.write_archive(corpus)
    index_dir = base / "index"
    summary = build_index(load_settings(corpus_dir=corpus, index_dir=index_dir))
    assert summary.passages > 0 and not summary.failed, summary.failed
    return reports, corpus, index_dir
