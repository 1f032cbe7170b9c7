"""Builds and optimizes killed with SIGKILL at random moments until 60 have been
killed part-way (a child that finished first is not counted), while a reader in
another process asks questions throughout: no read fails, the index always opens as a
whole build, and the next build completes with every report of the corpus."""

from __future__ import annotations

import multiprocessing as mp
import os
import random
import signal
import time
from pathlib import Path

import robust_factory as rf
import robust_reader

from core.settings import load_settings
from ingest.index import build_index, optimize_index
from ingest.index_format import IndexPaths, current_build_dir
from retrieval.store import Store

KILLS = 60
QUESTIONS = ["What is the plan for burglary?", "road safety partners", "knife crime"]
TOPICS = ["burglary", "road safety", "knife crime", "anti-social behaviour", "fraud"]


def _work(corpus: str, index: str, optimize: bool) -> None:
    """The child: one build (or optimize), to be killed part-way. A forked child cannot
    start the build's forkserver of file readers (it inherits the parent's), so it
    reads the few small files itself; what it writes, and how, is the build's own."""
    import ingest.pipeline

    ingest.pipeline._workers_can_start = lambda: False
    settings = load_settings(corpus_dir=Path(corpus), index_dir=Path(index))
    optimize_index(settings) if optimize else build_index(settings)


def _half_written(index: Path) -> bool:
    """Whether a killed child left a build or a segment half-written (debris the next
    build clears)."""
    paths = IndexPaths(index)
    return any(p.name.startswith(".tmp-") for d in (paths.builds, paths.segments)
               if d.exists() for p in d.iterdir())


def test_builds_and_optimizes_killed_at_random_lose_nothing(tmp_path, figures):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for n in range(3):
        rf.write_text_report(corpus / f"r{n}.txt", f"Force{n} Police", TOPICS[n % 5])
    index = tmp_path / "index"
    settings = load_settings(corpus_dir=corpus, index_dir=index)
    build_index(settings)

    spawn = mp.get_context("spawn")
    stop, ready, out = spawn.Event(), spawn.Event(), spawn.Queue()
    reader = spawn.Process(target=robust_reader.ask_loop_test_embedder,
                           args=(str(index), QUESTIONS, stop, ready, out), daemon=True)
    reader.start()
    fork = mp.get_context("fork")  # the child inherits the test embedder: no model load
    rng = random.Random(20261207)
    half_written = killed = 0
    try:
        assert ready.wait(120), "the reader never answered"
        k = 0
        while killed < KILLS and k < 4 * KILLS:
            k += 1
            n = 3 + k % 4
            if k % 3 == 2 and (corpus / f"r{n}.txt").exists():
                (corpus / f"r{n}.txt").unlink()
            else:
                rf.write_text_report(corpus / f"r{n}.txt", f"Force{n} Police",
                                     TOPICS[k % 5], f"Change {k}.")
            child = fork.Process(target=_work, args=(str(corpus), str(index), k % 5 == 4))
            child.start()
            time.sleep(rng.uniform(0.0, 0.3))
            if child.is_alive():
                os.kill(child.pid, signal.SIGKILL)
                killed += 1
            child.join(30)
            half_written += _half_written(index)
            # Whatever the moment, the index is a whole build (checksums checked).
            assert current_build_dir(index) is not None
            Store(index)
        summary = build_index(settings)
        assert summary.exit_status == 0, summary.failed
    finally:
        stop.set()
        result = robust_reader.finish(reader, out, 60)
    assert result is not None, "the reader gave no result"
    assert not result["errors"], result["errors"][:5]
    store = Store(index)
    assert {r.source_file for r in store.reports} == {p.name for p in corpus.iterdir()}
    figures("kill_loop", rounds=k, kills=killed, half_written=half_written,
            reads=len(result["records"]), errors=len(result["errors"]), data_lost=0)
    assert killed >= 50 and half_written >= 10
