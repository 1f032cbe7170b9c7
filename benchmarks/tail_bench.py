"""The slow tail: real questions answered one after another in one warm process, the
filters changing between them, through the app's one entry point
(`retrieval.respond.respond`, which gives a question asked across reports its
comparison). Prints p50 / p95 / p99 / max, p99 ÷ p50 (target ≤ 3), the CPU time an
answer takes (mean, p95: steadier than wall time on a shared machine), p50 and p99 of
each kind of reply alone (first askings and askings again; answers and comparisons,
which search each report), and for the slowest answers where their time went, stage by
stage.

    python benchmarks/tail_bench.py --index DIR --questions FILE.jsonl [--rounds 3]

FILE.jsonl has a "question" per line (e.g. the real filings' questions beside an index
of the filings). Each question is asked once per round, each round under different
filters: none, the first report the index holds of the question's "company" or "file",
that report's year, a report kind (paragraphs and tables), and the latest reports only.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

# This checkout's code, not an installed one's: a run from another checkout (the code
# before a change) measures that checkout.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


class StageClock:
    """Wraps named callables on objects and adds their wall time, per question."""

    def __init__(self):
        self.now: dict[str, float] = defaultdict(float)
        self._depth = 0

    def wrap(self, owner, name: str, label: str | None = None) -> None:
        fn = getattr(owner, name)
        label = label or name

        def timed(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                self.now[label] += (time.perf_counter() - t) * 1000

        setattr(owner, name, timed)

    def take(self) -> dict[str, float]:
        out = {k: round(v, 1) for k, v in self.now.items() if v >= 0.05}
        self.now.clear()
        return out


def _filters_for(store, row: dict, round_no: int):
    from retrieval.answer import Filters

    kind = round_no % 5
    if kind == 0:
        return Filters(), "none"
    key = (row.get("company") or row.get("file") or "").lower().split()[:1]
    rep = next((r for r in store.reports if key and key[0] in
                f"{r.force} {r.source_file} {r.title}".lower()), None)
    if kind == 1 and rep:
        return Filters(report_ids=(rep.report_id,)), "report"
    if kind == 2 and rep and rep.year:
        return Filters(years=(rep.year,)), "year"
    if kind == 3:
        return Filters(kinds=("paragraph", "table")), "kinds"
    return Filters(latest_only=True), "latest"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--questions", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--slowest", type=int, default=6)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    rows = [json.loads(x) for x in args.questions.read_text().splitlines() if x.strip()]

    from retrieval import abstain, candidates
    from retrieval import search as search_mod
    from retrieval.respond import respond
    from retrieval.search import get_searcher

    t = time.perf_counter()
    searcher = get_searcher(args.index)
    searcher.warm_up()
    respond(searcher, "How did revenue change from the previous year?")
    warm_s = time.perf_counter() - t
    clock = StageClock()
    store = searcher.store
    clock.wrap(searcher, "embed")
    clock.wrap(searcher, "dense")
    clock.wrap(searcher, "keyword")
    clock.wrap(searcher, "scope")
    clock.wrap(searcher, "compare")
    clock.wrap(store, "passages", "fetch_passages")
    clock.wrap(store, "sentence_rows", "sentences")
    clock.wrap(candidates, "pooled")
    clock.wrap(abstain, "signals", "abstain")
    clock.wrap(search_mod, "ranked_hits", "rank")
    clock.wrap(search_mod, "with_short_answer", "short_answer")

    lat, cpu, records = [], [], []
    for r in range(args.rounds):
        for i, row in enumerate(rows):
            filters, fname = _filters_for(store, row, r + i)
            t, c = time.perf_counter(), time.process_time()
            resp = respond(searcher, row["question"], filters=filters)
            ms = (time.perf_counter() - t) * 1000
            lat.append(ms)
            cpu.append((time.process_time() - c) * 1000)
            records.append({"ms": round(ms, 1), "cpu_ms": round(cpu[-1], 1), "round": r,
                            "filters": fname,
                            "kind": resp.kind, "question": row["question"][:90],
                            "stages": clock.take()})
    a = np.asarray(lat)
    idle = np.maximum(0.0, a - np.asarray(cpu))
    p = {k: round(float(np.percentile(a, q)), 1) for k, q in
         (("p50", 50), ("p95", 95), ("p99", 99))}
    p["max"] = round(float(a.max()), 1)
    # The first round asks each question for the first time (its texts embedded then);
    # later rounds ask it again under other filters, its vectors cached, as a user who
    # changes a filter and asks again.
    first = np.asarray([x["ms"] for x in records if x["round"] == 0])
    # The batch mixes kinds of reply that do unlike work: each is given alone too.
    strata = {}
    for name, keep in (("first askings", lambda x: x["round"] == 0),
                       ("asked again", lambda x: x["round"] > 0),
                       ("answers", lambda x: "compare" not in x["stages"]),
                       ("comparisons", lambda x: "compare" in x["stages"])):
        ms = np.asarray([x["ms"] for x in records if keep(x)])
        if len(ms):
            p50, p99 = (float(np.percentile(ms, q)) for q in (50, 99))
            strata[name] = {"n": len(ms), "p50": round(p50, 1), "p99": round(p99, 1),
                            "p99_over_p50": round(p99 / p50, 2)}
    out = {"index": str(args.index), "answers": len(a), "warm_up_s": round(warm_s, 1),
           "ms": p, "p99_over_p50": round(p["p99"] / p["p50"], 2),
           "first_round_ms": {k: round(float(np.percentile(first, q)), 1) for k, q in
                              (("p50", 50), ("p95", 95), ("max", 100))},
           # The work an answer takes (the process's CPU time, every thread), which a
           # busy neighbour on a shared machine moves less than its wall time.
           "cpu_ms": {"mean": round(float(np.mean(cpu)), 1),
                      **{k: round(float(np.percentile(cpu, q)), 1) for k, q in
                         (("p50", 50), ("p95", 95), ("p99", 99))},
                      # p99 ÷ p50 of the work alone, beside the wall time's (above).
                      "p99_over_p50": round(float(np.percentile(cpu, 99)
                                                  / np.percentile(cpu, 50)), 2)},
           # Wall time beyond the CPU time of every thread: time an answer spends
           # neither computing nor waiting for a thread of its own that computes.
           "waiting_ms": {k: round(float(np.percentile(idle, q)), 1) for k, q in
                          (("p50", 50), ("p99", 99), ("max", 100))},
           "strata": strata,
           "slowest": sorted(records, key=lambda x: -x["ms"])[: args.slowest]}
    print(f"{len(a)} answers ({len(rows)} questions × {args.rounds} rounds, filters "
          f"changing); warm-up {out['warm_up_s']} s")
    print(f"p50 {p['p50']} ms · p95 {p['p95']} · p99 {p['p99']} · max {p['max']} · "
          f"p99 ÷ p50 {out['p99_over_p50']} (target ≤ 3)")
    f = out["first_round_ms"]
    print(f"first round (each question asked for the first time): p50 {f['p50']} ms · "
          f"p95 {f['p95']} · max {f['max']}")
    c, w = out["cpu_ms"], out["waiting_ms"]
    print(f"CPU time an answer takes (all threads): mean {c['mean']} ms · p50 {c['p50']} · "
          f"p95 {c['p95']} · p99 {c['p99']} · p99 ÷ p50 {c['p99_over_p50']}")
    print(f"waiting (wall time beyond that CPU time): p50 {w['p50']} ms · p99 {w['p99']} · "
          f"max {w['max']}")
    for name, x in strata.items():
        print(f"  {name} alone ({x['n']}): p50 {x['p50']} ms · p99 {x['p99']} · "
              f"p99 ÷ p50 {x['p99_over_p50']}")
    print("slowest:")
    for x in out["slowest"]:
        print(f"  {x['ms']:8.1f} ms  {x['kind']:10} filters={x['filters']:7} "
              f"{x['question']!r}\n            {x['stages']}")
    if args.json:
        args.json.write_text(json.dumps({**out, "all": records}, indent=2))
    return out


if __name__ == "__main__":
    main()
