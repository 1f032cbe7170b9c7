"""Shared fixtures."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest

from ingest import embed as _embed

ROOT = Path(__file__).resolve().parent.parent
_REAL_GET_EMBEDDER = _embed.get_embedder
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
    summary = build_index(load_settings(corpus_dir=corpus, index_dir=index_dir),
                          embedder=_real_embedder())
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
    summary = build_index(load_settings(corpus_dir=corpus, index_dir=index_dir),
                          embedder=_real_embedder())
    assert summary.passages > 0 and not summary.failed, summary.failed
    return reports, corpus, index_dir



#: Session fixtures whose indexes the real model builds: a test that uses one queries
#: with the real model too.
REAL_INDEX_FIXTURES = frozenset({"ui_index", "archive"})


@functools.lru_cache(maxsize=4)
def _test_embedder(model: str | None = None):
    """The deterministic test embedder under the model's name and size (768 for
    all-mpnet-base-v2, else 384): a bag-of-words random projection (benchmarks/
    standin.py), thousands of passages a second, the same vectors on every run."""
    from benchmarks.standin import HashEmbedder
    from core.settings import DEFAULT_MODEL
    from ingest.model_files import resolve_model
    from ingest.onnx_embed import ONNX_MODEL

    name = model or DEFAULT_MODEL
    if name != ONNX_MODEL:
        resolve_model(name)  # a model that is not installed fails as it would for real
    return HashEmbedder(name=name, dimension=768 if "mpnet" in name else 384)


def _real_embedder():
    """The packaged model's embedder, even inside a test that uses the test embedder
    (session indexes are built by the first test that asks for them)."""
    return _REAL_GET_EMBEDDER()


def uses_real_model(item) -> bool:
    """A test embeds with the real model when it (or its module) is marked
    `real_model`, or it uses an index the real model built."""
    return bool(item.get_closest_marker("real_model")
                or REAL_INDEX_FIXTURES & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    """Unit tests embed with the deterministic test embedder — in the test and in the
    module fixtures it sets up: what they check (files, segments, swaps, errors,
    exports, messages) does not depend on which vectors a model makes. A module marked
    `real_model`, or a test using an index the real model built, gets the real model:
    quality floors, retrieval behaviour, end to end, the browser. (Processes a test
    starts — `reportqa serve`, Ray workers — always load the real model.)"""
    if uses_real_model(item):
        return (yield)
    _embed.get_embedder = _test_embedder
    try:
        return (yield)
    finally:
        _embed.get_embedder = _REAL_GET_EMBEDDER
