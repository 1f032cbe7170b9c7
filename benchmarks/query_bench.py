"""Query latency and memory of one index, in a process of its own (so its peak RSS is
the query process's). Run by benchmarks/run.py; by hand:

    python -m benchmarks.query_bench --index DIR --out result.json [--model real|none]

Modes, each timed per question (wall clock, one question at a time, model loaded):

* ``dense``          embed the question, FAISS top-60, fetch the passages
* ``keyword``        tantivy BM25 top-60 of the glossary-expanded query, fetch the passages
* ``hybrid``         both, reciprocal-rank fusion, fetch the top 10
* ``hybrid_rerank``  ``Searcher.ask`` — the whole answer path (features over the
                     sentence vectors, scoring, near-duplicate removal, abstention,
                     highlights)
* ``bm25_baseline``  what a user would pick instead: plain BM25 in SQLite FTS5 (question
                     words ORed, no glossary, no rerank), top 10, over an FTS5 table of
                     the same passages (``--fts5 FILE``, made by benchmarks/run.py)
* ``dense_baseline`` plain dense search: embed, an exact float32 FAISS scan, top 10,
                     fetch

``--model real`` loads the packaged model and runs it on every question (its cost is
in every figure) while the vectors searched come from the stand-in embedder the
synthetic index was built with (benchmarks/standin.py).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ALL_MODES = ("dense", "keyword", "hybrid", "hybrid_rerank", "bm25_baseline", "dense_baseline")


def rss_mb() -> dict:
    """Current and peak resident set size of this process, MB."""
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                k, v = line.split(":")
                out["rss" if k == "VmRSS" else "peak"] = int(v.split()[0]) / 1024
    return out


def pct(xs: list[float]) -> dict:
    a = np.asarray(xs)
    return {"n": len(xs), "p50": float(np.percentile(a, 50)), "p95": float(np.percentile(a, 95)),
            "p99": float(np.percentile(a, 99)), "mean": float(a.mean()), "max": float(a.max())}


def workload(n: int, seed: int = 1) -> list[str]:
    """n questions: the dev questions' wording (real phrasing, West Midlands names) and
    template questions over the synthetic corpus's forces and vocabulary."""
    from benchmarks.scaler import questions

    dev = []
    p = ROOT.parent / "shared" / "eval" / "dev.jsonl"
    if p.exists():
        dev = [json.loads(x)["question"] for x in p.read_text().splitlines() if x.strip()]
    else:
        # Said aloud: without the real questions the workload is easier (template
        # questions only), and two checkouts compared must read the same file.
        print(f"query_bench: {p} not found; the workload is template questions only",
              file=sys.stderr)
    qs = dev[: n // 4] + questions(n, seed)
    return qs[:n]


class _Timer:
    """Wraps a callable and adds its wall time to a running total."""

    def __init__(self, fn):
        self.fn = fn
        self.total = 0.0

    def __call__(self, *a, **kw):
        t = time.perf_counter()
        try:
            return self.fn(*a, **kw)
        finally:
            self.total += time.perf_counter() - t


def run(index: Path, n: int, modes: list[str], model: str, warmup: int = 8,
        stages: bool = True, faiss_threads: int | None = None,
        fts5: Path | None = None) -> dict:
    t0 = time.perf_counter()
    before = rss_mb()
    from benchmarks.standin import HashEmbedder, ModelCostEmbedder

    real = None
    t_model = 0.0
    if model == "real":
        from ingest.embed import get_embedder

        t = time.perf_counter()
        real = get_embedder()
        real.encode(["warm up the model"])
        t_model = time.perf_counter() - t
    after_model = rss_mb()
    from fitting.evaluate import Baselines
    from retrieval.search import Searcher
    from retrieval.store import Store

    t = time.perf_counter()
    store = Store(index)
    emb = ModelCostEmbedder(HashEmbedder(name=store.model), real)
    s = Searcher(store, emb)
    t_index = time.perf_counter() - t
    # As the app does before its first question (the spellers, gc.freeze).
    t = time.perf_counter()
    s.warm_up()
    t_warm = time.perf_counter() - t
    if faiss_threads:
        import faiss

        faiss.omp_set_num_threads(faiss_threads)
    after_index = rss_mb()
    base = Baselines(s)
    qs = workload(n + warmup)
    warm, qs = qs[:warmup], qs[warmup:]

    def dense(q):
        qv = emb.encode([q])[0]
        store.passages([r for r, _ in s.dense(qv, 60)])

    from retrieval.query import parse

    def keyword(q):
        store.passages([r for r, _ in s.keyword(parse(q, store.lexicon), 60)])

    exact = None
    if "dense_baseline" in modes:
        import faiss

        exact = faiss.IndexFlatIP(store.faiss.d)
        exact.add(store.faiss.reconstruct_n(0, store.faiss.ntotal))

    def dense_baseline(q):
        qv = emb.encode([q])[0]
        _, ids = exact.search(qv[None, :], 10)
        store.passages([int(store.rowids[i]) for i in ids[0] if i >= 0])

    fts = None
    if "bm25_baseline" in modes and fts5:
        import sqlite3

        fts = sqlite3.connect(f"file:{fts5}?mode=ro", uri=True)

    def bm25_baseline(q):
        import re

        words = [w for w in re.findall(r"[a-z0-9]+", q.lower()) if len(w) > 2]
        expr = " OR ".join(f'"{w}"' for w in dict.fromkeys(words))
        rows = fts.execute("SELECT rowid FROM f WHERE f MATCH ? ORDER BY bm25(f) LIMIT 10",
                           [expr]).fetchall() if expr else []
        store.passages([r for (r,) in rows])

    def hybrid(q):
        qv = emb.encode([q])[0]
        fused: dict[int, float] = {}
        for hits in (s.dense(qv, 60), s.keyword(parse(q, store.lexicon), 60)):
            for i, (r, _) in enumerate(hits):
                fused[r] = fused.get(r, 0.0) + 1.0 / (60 + i + 1)
        store.passages(sorted(fused, key=fused.get, reverse=True)[:10])

    fns = {"dense": dense, "keyword": keyword, "hybrid": hybrid,
           "hybrid_rerank": lambda q: s.ask(q, top_k=5),
           "bm25_baseline": bm25_baseline if fts is not None else lambda q: base.bm25(q, 10),
           "dense_baseline": dense_baseline}
    for q in warm:
        for m in modes:
            fns[m](q)
    out: dict = {"modes": {}}
    for m in modes:
        lat = []
        for q in qs:
            t = time.perf_counter()
            fns[m](q)
            lat.append((time.perf_counter() - t) * 1000)
        out["modes"][m] = pct(lat)
    if stages and "hybrid_rerank" in modes:
        # Where the time of the whole answer path goes (instance-level wrappers only).
        te = _Timer(emb.encode)
        td = _Timer(s.dense)
        tk = _Timer(s.keyword)
        from retrieval import candidates

        tsent = _Timer(candidates.sentence_scores)
        tp = _Timer(store.passages)
        emb.encode, s.dense, s.keyword, candidates.sentence_scores = te, td, tk, tsent
        store.passages = tp
        from retrieval import abstain

        ta = _Timer(abstain.signals)
        abstain.signals = ta
        tc = _Timer(s.candidates)
        s.candidates = tc
        t = time.perf_counter()
        k = min(len(qs), 50)
        for q in qs[:k]:
            s.ask(q, top_k=5)
        total = time.perf_counter() - t
        out["stages_ms"] = {
            "embed": te.total / k * 1000, "faiss": td.total / k * 1000,
            "keyword": tk.total / k * 1000, "fetch_passages": tp.total / k * 1000,
            "sentence_scores": tsent.total / k * 1000,
            "other_features": (tc.total - te.total - td.total - tk.total - tsent.total
                               - tp.total) / k * 1000,
            "abstain": ta.total / k * 1000,
            "score_diversify_highlight": (total - tc.total - ta.total) / k * 1000,
            "total": total / k * 1000}
    end = rss_mb()
    out.update({
        "index": str(index), "n_questions": len(qs), "model": model,
        "faiss": store.manifest.faiss, "passages": store.faiss.ntotal,
        "load_s": {"model": round(t_model, 2), "index": round(t_index, 2),
                   "warm_up": round(t_warm, 2)},
        "rss_mb": {"start": before.get("rss"), "after_model": after_model.get("rss"),
                   "after_index": after_index.get("rss"), "end": end.get("rss"),
                   "peak": end.get("peak")},
        "seconds": round(time.perf_counter() - t0, 1),
        "threads": os.environ.get("OMP_NUM_THREADS"),
        "faiss_threads": faiss_threads,
        "loadavg_end": os.getloadavg(),
    })
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--modes", default=",".join(ALL_MODES))
    ap.add_argument("--model", choices=("real", "none"), default="real")
    ap.add_argument("--no-stages", action="store_true")
    ap.add_argument("--faiss-threads", type=int,
                    help="experiment: faiss.omp_set_num_threads(N) in the query process")
    ap.add_argument("--fts5", type=Path, help="FTS5 table of the passages (bm25_baseline)")
    a = ap.parse_args(argv)
    res = run(a.index, a.n, [m for m in a.modes.split(",") if m], a.model,
              stages=not a.no_stages, faiss_threads=a.faiss_threads,
              fts5=a.fts5)
    a.out.write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
