"""Several people use the app while an administrator rebuilds: reader threads (as the
Streamlit server runs sessions) and a reader process query a real index continuously
while the main thread runs rebuilds that add, change and remove reports, each swapping
in a new build. Every answer must come, whole, from one build that existed — its build
id is one the rebuilds produced and every passage it cites is in that build — and no
query may fail."""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from pathlib import Path

import pytest
import robust_factory as rf
import robust_reader

from core.settings import load_settings
from ingest.index import build_index
from retrieval.search import get_searcher
from retrieval.store import Store

# A reader in a second interpreter answers with the packaged model, so the builds it
# reads are made with it too.
pytestmark = pytest.mark.real_model

QUESTIONS = ["What is the plan for burglary?", "How does the force handle road safety?",
             "Are victims satisfied?", "What should the force review within three months?",
             "knife crime", "What about anti-social behaviour?"]
THREADS = 3


def _snapshot(index_dir: Path) -> tuple[str, set[str]]:
    store = Store(index_dir)
    return store.build_id, {p.passage_id for p in store.iter_passages()}


def _thread_loop(index_dir: Path, stop: threading.Event, records: list, errors: list,
                 offset: int) -> None:
    n = offset
    while not stop.is_set():
        q = QUESTIONS[n % len(QUESTIONS)]
        n += 1
        t0 = time.time()
        try:
            a = get_searcher(index_dir).ask(q, top_k=3)
            records.append((t0, time.time(), a.build_id,
                            [h.passage.passage_id for h in a.hits]))
        except Exception as e:  # noqa: BLE001 - every error counts
            errors.append(f"{type(e).__name__}: {e}")


def test_queries_answer_from_old_or_new_build_during_swaps(tmp_path, figures):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rf.write_text_report(corpus / "alpha.txt", "Alphashire Police", "burglary")
    rf.write_text_report(corpus / "beta.txt", "Betashire Constabulary", "road safety")
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    index_dir = settings.index_dir
    build_index(settings)
    builds = dict([_snapshot(index_dir)])
    get_searcher(index_dir).ask("warm up")  # model loaded before the clock starts

    ctx = mp.get_context("spawn")  # a fresh interpreter, as a second server would be
    p_stop, p_ready, p_out = ctx.Event(), ctx.Event(), ctx.Queue()
    proc = ctx.Process(target=robust_reader.ask_loop,
                       args=(str(index_dir), QUESTIONS, p_stop, p_ready, p_out), daemon=True)
    proc.start()
    t_stop = threading.Event()
    t_records: list[list] = [[] for _ in range(THREADS)]
    t_errors: list[str] = []
    threads = [threading.Thread(target=_thread_loop, args=(index_dir, t_stop, t_records[i],
                                                         t_errors, i), daemon=True)
               for i in range(THREADS)]
    for t in threads:
        t.start()
    p_result = None
    windows: list[tuple[float, float]] = []
    try:
        assert p_ready.wait(180), "reader process never answered"
        changes = [
            lambda: rf.write_text_report(corpus / "gamma.txt", "Gammashire Police",
                                         "knife crime"),
            lambda: rf.write_text_report(corpus / "alpha.txt", "Alphashire Police",
                                         "burglary", "A new burglary team started in 2016."),
            lambda: (corpus / "beta.txt").unlink(),
        ]
        for change in changes:
            time.sleep(1.0)
            change()
            t0 = time.time()
            summary = build_index(settings)
            windows.append((t0, time.time()))
            assert not summary.up_to_date and summary.exit_status == 0
            build_id, ids = _snapshot(index_dir)
            assert build_id == summary.build_id
            builds[build_id] = ids
        time.sleep(1.5)
    finally:
        t_stop.set()
        p_stop.set()
        for t in threads:
            t.join(60)
        p_result = robust_reader.finish(proc, p_out, 120)
    assert p_result is not None, "reader process gave no result"

    readers = {f"thread-{i}": r for i, r in enumerate(t_records)}
    readers["process"] = p_result["records"]
    errors = t_errors + p_result["errors"]
    wrong = []
    seen_by: dict[str, set[str]] = {}
    during = 0
    total = 0
    for name, records in readers.items():
        for start, end, build_id, pids in records:
            total += 1
            seen_by.setdefault(name, set()).add(build_id)
            if build_id not in builds or not set(pids) <= builds[build_id]:
                wrong.append((name, build_id, pids))
            if any(start < w1 and end > w0 for w0, w1 in windows):
                during += 1
    figures("concurrency", queries=total, queries_during_builds=during,
            rebuilds=len(windows), builds_seen=len(set().union(*seen_by.values())),
            readers=len(readers), errors=len(errors) + len(wrong),
            per_reader={k: len(v) for k, v in readers.items()})
    assert not errors, errors[:5]
    assert not wrong, wrong[:5]
    # Every reader kept answering across the swaps, and saw the new builds.
    for name, seen in seen_by.items():
        assert len(seen) >= 2, (name, seen)
    assert len(seen_by) == len(readers)
    assert during > 0
    last = list(builds)[-1]
    for name, records in readers.items():
        assert records[-1][2] == last, name
