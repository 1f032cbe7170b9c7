"""Power cuts at every point of a build, an optimize and a basket save (the simulator
is tests/robustness/crash_sim.py): the index opens as the previous build or the new
one, whole and checksummed, answers a question, and the next build succeeds; a basket
is the old one or the new one, whole. Each scenario records how many crash points it
checked (the robustness figures)."""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
import robust_factory as rf
from crash_sim import crash_states, materialise, record

from core.settings import load_settings
from ingest.embed import get_embedder
from ingest.index import build_index, optimize_index
from ingest.index_format import current_build_dir
from retrieval.search import Searcher
from retrieval.store import Store
from ui.workspace import Workspace, empty, new_session_id

QUESTION = "What is the plan for burglary?"


_RUNS = itertools.count()


def _ids(index: Path) -> frozenset[str] | None:
    if current_build_dir(index) is None:
        return None
    return frozenset(p.passage_id for p in Store(index).iter_passages())


def _cache_file(rel: str) -> bool:
    return rel.split("/")[0] == "cache"


def _check_every_crash_point(rec, corpus: Path, tmp: Path, old, new) -> int:
    """Every crash point of a recorded index operation: old or new, whole; answers;
    the next build completes with the corpus as it is. The number of points."""
    points = crash_states(rec)
    run = next(_RUNS)
    for k, (n, mode, names) in enumerate(points):
        # A folder of its own for each point: the previous point's index may still be
        # open in this process (tantivy's reader polls its folder from a thread of its
        # own), so clearing one shared folder raced with it.
        idx = tmp / f"crash-{run}-{k}"
        if k:
            shutil.rmtree(tmp / f"crash-{run}-{k - 1}", ignore_errors=True)
        materialise(rec, n, mode, names, idx, kept=_cache_file)
        seen = _ids(idx)
        assert seen in {old, new}, (n, mode, names, rec.events[:n][-3:])
        if seen is not None:
            store = Store(idx)  # every listed file present, right size and checksum
            assert Searcher(store, get_embedder(store.model)).ask(QUESTION).hits, (n, mode,
                                                                                  names)
        summary = build_index(load_settings(corpus_dir=corpus, index_dir=idx))
        assert summary.exit_status == 0 and _ids(idx) == new, (n, mode, names,
                                                                 summary.failed)
    return len(points)


@pytest.fixture
def corpus(tmp_path) -> Path:
    c = tmp_path / "corpus"
    c.mkdir()
    rf.write_text_report(c / "alpha.txt", "Alphashire Police", "burglary")
    return c


def test_power_cut_during_a_first_build(corpus, tmp_path, monkeypatch, figures):
    index = tmp_path / "index"
    settings = load_settings(corpus_dir=corpus, index_dir=index)
    rec = record(index, lambda: build_index(settings), monkeypatch)
    n = _check_every_crash_point(rec, corpus, tmp_path, None, _ids(index))
    figures("power_cut", first_build_points=n)
    assert n > 20


def test_power_cut_during_an_update_and_an_optimize(corpus, tmp_path, monkeypatch, figures):
    index = tmp_path / "index"
    settings = load_settings(corpus_dir=corpus, index_dir=index)
    build_index(settings)
    old = _ids(index)
    rf.write_text_report(corpus / "beta.txt", "Betashire Constabulary", "road safety")
    rec = record(index, lambda: build_index(settings), monkeypatch)
    new = _ids(index)
    assert old < new
    n_update = _check_every_crash_point(rec, corpus, tmp_path, old, new)
    # Two segments now: an optimize merges them into a new build of the same passages.
    assert len(Store(index).manifest.segments) == 2
    rec = record(index, lambda: optimize_index(settings), monkeypatch)
    assert len(Store(index).manifest.segments) == 1
    n_optimize = _check_every_crash_point(rec, corpus, tmp_path, new, new)
    figures("power_cut", update_points=n_update, optimize_points=n_optimize)
    assert n_update > 20 and n_optimize > 20


def test_power_cut_during_a_basket_save(tmp_path, monkeypatch, figures):
    root = tmp_path / "sessions"
    sid = new_session_id()
    old = {**empty(), "basket": [{"passage_id": "p1", "note": "first note"}]}
    Workspace(root, sid).save(old)
    new = {**old, "basket": [*old["basket"], {"passage_id": "p2", "note": "n" * 5000}]}
    rec = record(root, lambda: Workspace(root, sid).save(new), monkeypatch)
    points = crash_states(rec)
    for n, mode, names in points:
        dest = tmp_path / "crash"
        materialise(rec, n, mode, names, dest)
        loaded, problem = Workspace(dest, sid).load()
        assert problem is None, (n, mode, names, problem)
        assert loaded["basket"] in (old["basket"], new["basket"]), (n, mode, names)
    figures("power_cut", basket_save_points=len(points))
    assert len(points) >= 6
    assert json.loads((root / f"{sid}.json").read_text())["basket"] == new["basket"]
