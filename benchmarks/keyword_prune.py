"""Experiment behind one recommendation: leave very common terms out of the FTS5
keyword query (retrieval.search.Searcher.keyword_query), measured two ways.

1. Keyword latency (FTS5 top-60) on a large index at several document-frequency
   cut-offs (a term in more than that share of the passages is left out).
2. Quality on the dev questions (shared/eval/dev.jsonl) on the demo corpus's real
   index (real model) at the same cut-offs.

    python -m benchmarks.keyword_prune --index benchmarks/work/scale/100k/current
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CUTS = (None, 0.5, 0.3, 0.2, 0.1)


def latency(index: Path, n: int = 100, cuts=CUTS) -> dict:
    from benchmarks.query_bench import pct, prune_keyword_terms, workload
    from benchmarks.standin import HashEmbedder
    from retrieval.search import Searcher
    from retrieval.store import Store

    qs = workload(n + 10)
    out = {}
    for cut in cuts:
        s = Searcher(Store(index), HashEmbedder())
        if cut:
            prune_keyword_terms(s, cut)
        for q in qs[:10]:
            s.keyword(q, 60)
        # Document frequencies are cached per process (Searcher._df): warm them so the
        # figures compare the MATCH queries, not the first sight of each term.
        for q in qs[10:]:
            s.keyword_query(q)
        lat = []
        for q in qs[10:]:
            t = time.perf_counter()
            s.keyword(q, 60)
            lat.append((time.perf_counter() - t) * 1000)
        # A repeated cut-off (e.g. None first and last) shows whether the OS file cache
        # was still warming up during the first.
        out[str(cut) if str(cut) not in out else f"{cut} (again)"] = pct(lat)
    return out


def quality(work: Path) -> dict:
    import shutil

    from benchmarks.query_bench import prune_keyword_terms
    from ingest.embed import get_embedder
    from ingest.index import build_index
    from ingest.settings import load_settings
    from retrieval.evaluate import load_gold, run_eval
    from retrieval.search import Searcher
    from retrieval.store import Store

    gold = ROOT.parent / "shared" / "eval" / "dev.jsonl"
    idx = work / "prune-dev-index"
    shutil.rmtree(idx, ignore_errors=True)
    build_index(load_settings(corpus_dir=ROOT / "corpus", index_dir=idx))
    out = {}
    for cut in CUTS:
        s = Searcher(Store(idx), get_embedder())
        if cut:
            prune_keyword_terms(s, cut)
        r = run_eval(s, load_gold(gold), baselines=False)["systems"]["reportqa"]
        out[str(cut)] = {k: r.get(k) for k in ("hit@1", "hit@5", "mrr@10", "recall@10",
                                               "abstain_rate", "false_abstain_rate")}
    shutil.rmtree(idx, ignore_errors=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" /
                    "keyword_prune.json")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--latency-only", action="store_true")
    a = ap.parse_args(argv)
    res = {"index": str(a.index), "loadavg_start": os.getloadavg(),
           "latency_ms": latency(a.index, a.n, CUTS + (None,))}
    res["loadavg_end"] = os.getloadavg()
    if a.latency_only:
        a.out.write_text(json.dumps(res, indent=2))
        for k, lt in res["latency_ms"].items():
            print(f"cut {k}: keyword p50 {lt['p50']:.0f} ms, p95 {lt['p95']:.0f} ms")
        return 0
    res["dev_quality"] = quality(ROOT / "benchmarks" / "work")
    a.out.write_text(json.dumps(res, indent=2))
    for cut in CUTS:
        lt, q = res["latency_ms"][str(cut)], res["dev_quality"][str(cut)]
        print(f"cut {cut}: keyword p50 {lt['p50']:.0f} ms, p95 {lt['p95']:.0f} ms; dev " +
              ", ".join(f"{k} {v:.2f}" for k, v in q.items() if isinstance(v, float)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
