"""A reader in its own process for the concurrency test: asks questions in a loop
through the process-wide searcher (which reloads when a rebuild swaps CURRENT) until
told to stop, and reports what answered each question. Importable by a spawned child
(it is on the path the parent passes down)."""

from __future__ import annotations

import queue
import time
from pathlib import Path


def ask_loop(index_dir: str, questions: list[str], stop, ready, out) -> None:
    """Ask ``questions`` round-robin until ``stop`` is set; put {"records": [(start,
    end, build_id, passage ids)], "errors": [...]} on ``out``. ``ready`` is set after
    the first answer (the model is loaded)."""
    from retrieval.search import get_searcher

    records: list[tuple[float, float, str, list[str]]] = []
    errors: list[str] = []
    n = 0
    while not stop.is_set():
        q = questions[n % len(questions)]
        n += 1
        t0 = time.time()
        try:
            a = get_searcher(Path(index_dir)).ask(q, top_k=3)
            records.append((t0, time.time(), a.build_id, [h.passage.passage_id
                                                           for h in a.hits]))
        except Exception as e:  # noqa: BLE001 - every error is reported to the test
            errors.append(f"{type(e).__name__}: {e}")
        if n == 1:
            ready.set()
    out.put({"records": records, "errors": errors})


def finish(proc, out, timeout: float) -> dict | None:
    """What the reader process `proc` put on `out` after being told to stop (None when
    nothing came within `timeout` seconds); the process is then joined, or killed."""
    try:
        result = out.get(timeout=timeout)
    except queue.Empty:
        result = None
    proc.join(30)
    if proc.is_alive():
        proc.kill()
    return result


def ask_loop_test_embedder(index_dir: str, questions: list[str], stop, ready, out) -> None:
    """ask_loop with the deterministic test embedder (benchmarks/standin.py): for an
    index the tests built with it."""
    from benchmarks.standin import HashEmbedder
    from ingest import embed

    embedder = HashEmbedder()
    embed.get_embedder = lambda model=None: embedder
    ask_loop(index_dir, questions, stop, ready, out)
