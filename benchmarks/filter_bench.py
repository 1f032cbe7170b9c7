"""Filtered search at archive size: how much a filter (force, year, report, kind,
section, programme, latest-only, force + year) costs on the answer path against the
same questions unfiltered, and how long the app's first page takes to get its data.

    python -m benchmarks.filter_bench --sizes 100k,1M [--n 60] [--app]
    python -m benchmarks.filter_bench --sizes 1M --build-only        # build once (~6 min)
    python benchmarks/run.py --only filters --sizes 100k,1M

Indexes are the synthetic ones of benchmarks/synth_index.py (stand-in vectors, the FAISS
index build_index would write today) under benchmarks/work/filters/<size>/; one whose
recorded parameters match is reused, otherwise it is built. Each size is measured in a
process of its own. Per question and case, in interleaved order (so machine load hits
every case alike), it times

* ``ask``      ``Searcher.ask(question, filters=...)`` — the whole answer path, with the
               real model run on the question (benchmarks/standin.py ModelCostEmbedder)
               and the Searcher's question-vector cache emptied first;
* ``dense``    ``Searcher.dense(qvec, 60, filters)`` — SQL allowed rowids, the FAISS ID
               selector and the search;
* ``keyword``  ``Searcher.keyword(query, 60, filters)`` — FTS5 with the filter subquery;
* ``allowed``  ``Store.allowed_rowids(filters)`` alone (part of ``dense``).

It prints p50/p95 per case and stage and the ratio of each filtered case's p95 to the
unfiltered p95 (target: at most 1.5x), and, with ``--app``, the time of
``facets(store) + store.status() + library(store)`` and of a cold ``AppTest`` first
run of ui/app.py against the 100k index. Results: benchmarks/results/filters.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH = ROOT / "benchmarks"
#: Bump when synth_index writes something else the benchmark depends on (v2: the
#: reports table's `latest` flags are computed, not all 1; v3: segments and tantivy;
#: v4: compact passage rows).
SYNTH_VERSION = 4
TARGET_RATIO = 1.5


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def pct(xs: list[float]) -> dict:
    a = np.asarray(xs, dtype=float)
    return {"n": len(xs), "p50": round(float(np.percentile(a, 50)), 2),
            "p95": round(float(np.percentile(a, 95)), 2),
            "mean": round(float(a.mean()), 2), "max": round(float(a.max()), 2)}


# -- the index ----------------------------------------------------------------------

def ensure_index(n: int, work: Path, seed: int = 0) -> Path:
    """The synthetic index of n passages under work/filters/<size>/index, built unless
    one with the same parameters is there."""
    from benchmarks import synth_index
    from benchmarks.run import fmt_size
    from core.settings import load_settings
    from ingest.index_format import current_build_dir

    d = work / "filters" / fmt_size(n)
    index = d / "index"
    want = {"passages": n, "seed": seed, "synth_version": SYNTH_VERSION,
            "sentence_vectors": "embed" if n <= 100_000 else "derive"}
    meta_p = d / "params.json"
    if meta_p.exists() and current_build_dir(index) is not None:
        have = json.loads(meta_p.read_text())
        if {k: have.get(k) for k in want} == want:
            return index
    log(f"filters {fmt_size(n)}: building the synthetic index")
    d.mkdir(parents=True, exist_ok=True)
    meta_p.unlink(missing_ok=True)
    meta = synth_index.build(index, n, load_settings(), seed=seed,
                             sentence_vectors=want["sentence_vectors"], log=log)
    meta_p.write_text(json.dumps({**want, "build": meta}, indent=2))
    return index


def report_columns(store) -> dict:
    """What the reports table holds, to check the synthetic reports make sensible
    filters: distinct forces, years, programmes, the share flagged latest."""
    db = store.db
    one = lambda q: db.execute(q).fetchone()[0]  # noqa: E731
    return {
        "reports": one("SELECT count(*) FROM reports"),
        "forces": one("SELECT count(DISTINCT force) FROM reports"),
        "years": [y for (y,) in db.execute("SELECT DISTINCT year FROM reports ORDER BY 1")],
        "programmes": dict(db.execute("SELECT programme, count(*) FROM reports "
                                      "GROUP BY 1 ORDER BY 2 DESC")),
        "latest_share": round(one("SELECT avg(latest) FROM reports"), 3),
        "null_force_or_year": one("SELECT count(*) FROM reports WHERE force IS NULL OR "
                                  "force = '' OR year IS NULL"),
        "passages_disagreeing_with_report": one(
            "SELECT count(*) FROM passages p JOIN reports r USING (report_id) "
            "WHERE p.force IS NOT r.force OR p.year IS NOT r.year"),
    }


def cases(store) -> dict:
    """The filter cases, with values picked from the index: the force and year with
    the most passages, the report in the middle of the id order, the most common
    programme."""
    from retrieval.answer import Filters

    db = store.db
    force = db.execute("SELECT force FROM passages GROUP BY force ORDER BY count(*) DESC "
                       "LIMIT 1").fetchone()[0]
    year = db.execute("SELECT year FROM passages GROUP BY year ORDER BY count(*) DESC "
                      "LIMIT 1").fetchone()[0]
    rids = [r for (r,) in db.execute("SELECT report_id FROM reports ORDER BY report_id")]
    prog = db.execute("SELECT programme FROM reports GROUP BY programme ORDER BY "
                      "count(*) DESC LIMIT 1").fetchone()[0]
    return {
        "unfiltered": Filters(),
        "force": Filters(forces=(force,)),
        "year": Filters(years=(int(year),)),
        "report": Filters(report_ids=(rids[len(rids) // 2],)),
        "kind": Filters(kinds=("recommendation",)),
        "section": Filters(section="investigating offending"),
        "programme": Filters(programmes=(prog,)),
        "latest_only": Filters(latest_only=True),
        "force+year": Filters(forces=(force,), years=(int(year),)),
    }


# -- one size, in its own process ------------------------------------------------------

def measure(index: Path, n_q: int, warmup: int = 5, only: list[str] | None = None,
            stages: tuple[str, ...] = ("ask", "dense", "keyword", "allowed"),
            old_way: bool = True) -> dict:
    from benchmarks.scaler import questions
    from benchmarks.standin import HashEmbedder, ModelCostEmbedder
    from ingest.embed import get_embedder
    from retrieval.search import Searcher
    from retrieval.store import Store

    t = time.perf_counter()
    real = get_embedder()
    real.encode(["warm up the model"])
    t_model = time.perf_counter() - t
    t = time.perf_counter()
    store = Store(index)
    emb = ModelCostEmbedder(HashEmbedder(name=store.model), real)
    s = Searcher(store, emb)
    t_index = time.perf_counter() - t
    cs = cases(store)
    if only:
        cs = {k: v for k, v in cs.items() if k == "unfiltered" or k in only}
    out: dict = {"passages": store.faiss.ntotal, "faiss": store.manifest.faiss,
                 "reports_table": report_columns(store),
                 "load_s": {"model": round(t_model, 2), "index": round(t_index, 2)},
                 "cases": {k: {"filters": {f: v for f, v in asdict(fl).items() if v}}
                           for k, fl in cs.items()}}
    for k, fl in cs.items():
        t = time.perf_counter()
        a = store.allowed_rowids(fl) if fl.active else store.rowids
        out["cases"][k]["allowed_rows"] = int(len(a))
        out["cases"][k]["allowed_share"] = round(len(a) / store.faiss.ntotal, 4)
        out["cases"][k]["contiguous_runs"] = int(1 + np.count_nonzero(np.diff(a) != 1)) \
            if len(a) else 0
        out["cases"][k]["first_allowed_ms"] = round((time.perf_counter() - t) * 1000, 1)
    qs = questions(n_q + warmup, seed=3)
    warm, qs = qs[:warmup], qs[warmup:]
    names = list(cs)
    lat: dict[str, dict[str, list[float]]] = {k: {st: [] for st in stages} for k in names}
    narrowed = 0
    rng = np.random.default_rng(0)
    t_all = time.perf_counter()
    for i, q in enumerate(warm + qs):
        query = s.understand(q)
        qv = emb.encode([q])[0]
        if i >= warmup and s.scope(query).narrows:
            narrowed += 1
        for k in rng.permutation(names):  # interleaved, in a new order each question
            fl = cs[k]
            times = {}
            if "ask" in stages:
                s._vectors.clear()  # the question is embedded again, as a new one would be
                t = time.perf_counter()
                s.ask(q, top_k=5, filters=fl)
                times["ask"] = time.perf_counter() - t
            if "dense" in stages:
                t = time.perf_counter()
                s.dense(qv, 60, fl)
                times["dense"] = time.perf_counter() - t
            if "keyword" in stages:
                t = time.perf_counter()
                s.keyword(query, 60, fl)
                times["keyword"] = time.perf_counter() - t
            if "allowed" in stages and fl.active:
                t = time.perf_counter()
                store.allowed_rowids(fl)
                times["allowed"] = time.perf_counter() - t
            if i >= warmup:
                for st, v in times.items():
                    lat[k][st].append(v * 1000)
        if i == warmup:
            log(f"  first measured question: {time.perf_counter() - t_all:.0f} s so far")
    out["measure_s"] = round(time.perf_counter() - t_all, 1)
    out["questions"] = len(qs)
    out["scope_narrowed_questions"] = narrowed
    base = {st: pct(v) for st, v in lat["unfiltered"].items() if v}
    for k in names:
        c = out["cases"][k]
        for st, v in lat[k].items():
            if v:
                c[st] = pct(v)
        for st in ("ask", "dense", "keyword"):
            if st in c and st in base:
                c[f"{st}_p95_ratio"] = round(c[st]["p95"] / base[st]["p95"], 2)
    if old_way:
        out["old_way"] = old_reconstruct(store, cs)
    from benchmarks.query_bench import rss_mb

    out["rss_mb"] = rss_mb()
    out["loadavg_end"] = os.getloadavg()
    return out


def old_reconstruct(store, cs: dict, cap: int = 300_000) -> dict:
    """For contrast, the pre-SQL way for the biggest allowed set (up to `cap`):
    reconstruct each allowed vector one at a time and scan them with numpy."""
    import faiss

    best = max((k for k in cs if k != "unfiltered"),
               key=lambda k: len(store.allowed_rowids(cs[k])))  # noqa: B023
    allowed = store.allowed_rowids(cs[best])[:cap]
    q = np.ones(store.faiss.d, dtype=np.float32) / np.sqrt(store.faiss.d)
    t = time.perf_counter()
    X = store.vectors([int(r) for r in allowed])
    top = np.argsort(-(X @ q))[:60]
    t_old = time.perf_counter() - t
    t = time.perf_counter()
    store.faiss.search(q[None, :], 60, params=faiss.SearchParameters(
        sel=faiss.IDSelectorBatch(store.positions(allowed))))
    t_new = time.perf_counter() - t
    return {"case": best, "allowed": int(len(allowed)), "reconstruct_scan_ms":
            round(t_old * 1000, 1), "id_selector_ms": round(t_new * 1000, 1),
            "top": int(len(top))}


# -- the app's first page ------------------------------------------------------------------

def first_page(index: Path) -> dict:
    """facets + status + library on a freshly opened Store (what the app's first page
    needs besides the model), each timed."""
    from retrieval.facets import facets, library
    from retrieval.store import Store

    out = {}
    t0 = time.perf_counter()
    store = Store(index)
    out["store_open_s"] = time.perf_counter() - t0
    t = time.perf_counter()
    store.reports  # noqa: B018 — decodes every report (facets/status/library share it)
    out["reports_decode_s"] = time.perf_counter() - t
    t = time.perf_counter()
    f = facets(store)
    out["facets_s"] = time.perf_counter() - t
    t = time.perf_counter()
    store.status()
    out["status_s"] = time.perf_counter() - t
    t = time.perf_counter()
    rows = library(store)
    out["library_s"] = time.perf_counter() - t
    out["total_s"] = time.perf_counter() - t0
    out = {k: round(v, 3) for k, v in out.items()}
    out.update(reports=len(rows), sections=len(f["sections"]), forces=len(f["forces"]))
    return out


_APPTEST = """
import json, sys, time
t0 = time.perf_counter()
from streamlit.testing.v1 import AppTest
t_import = time.perf_counter() - t0
at = AppTest.from_file("ui/app.py", default_timeout=300)
t = time.perf_counter()
at.run()
t_first = time.perf_counter() - t
t = time.perf_counter()
at.run()
t_second = time.perf_counter() - t
print(json.dumps({"import_streamlit_s": round(t_import, 2), "first_run_s": round(t_first, 2),
                  "second_run_s": round(t_second, 2),
                  "exceptions": [str(e.value)[:200] for e in at.exception],
                  "errors": [str(e.value)[:200] for e in at.error],
                  "sidebar_widgets": len(at.sidebar.selectbox) + len(at.sidebar.multiselect)}))
"""


def apptest(index: Path) -> dict:
    """A cold AppTest first run of ui/app.py against the index, in a fresh process."""
    env = {**os.environ, "REPORTQA_INDEX": str(index)}
    t = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", _APPTEST], cwd=ROOT, env=env,
                       capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        return {"error": p.stderr[-2000:]}
    res = json.loads(p.stdout.strip().splitlines()[-1])
    res["process_wall_s"] = round(wall, 2)
    return res


# -- driver -----------------------------------------------------------------------------

def _pp(c: dict, st: str) -> str:
    return f"{c[st]['p50']:.0f} / {c[st]['p95']:.0f}" if st in c else "—"


def _rr(c: dict, st: str) -> str:
    x = c.get(f"{st}_p95_ratio")
    return "—" if x is None else (f"**{x:.2f}**" if x > TARGET_RATIO else f"{x:.2f}")


def table(res: dict) -> str:
    lines = ["| passages | case | allowed | ask p50 / p95 ms | ask p95 ÷ unfiltered | "
             "dense p50 / p95 | dense ÷ | keyword p50 / p95 | keyword ÷ | "
             "allowed_rowids p50 / p95 |", "|" + "---|" * 10]
    for n, r in res.get("sizes", {}).items():
        for k, c in r["cases"].items():
            al = f"{c['allowed_rows']:,} ({c['allowed_share']:.1%})"
            al_ms = (f"{c['allowed']['p50']:.1f} / {c['allowed']['p95']:.1f}"
                     if "allowed" in c else "—")
            lines.append(f"| {n} | {k} | {al} | {_pp(c, 'ask')} | {_rr(c, 'ask')} | "
                         f"{_pp(c, 'dense')} | {_rr(c, 'dense')} | {_pp(c, 'keyword')} | "
                         f"{_rr(c, 'keyword')} | {al_ms} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    from benchmarks.run import fmt_size, parse_size

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100k,1M")
    ap.add_argument("--n", type=int, default=60, help="questions per size (1M: at most 50; "
                    "each 1M question costs ~30 s over the nine cases here)")
    ap.add_argument("--work", type=Path, default=BENCH / "work")
    ap.add_argument("--out", type=Path, default=BENCH / "results" / "filters.json")
    ap.add_argument("--build-only", action="store_true")
    ap.add_argument("--app", action="store_true",
                    help="also time the first page's data and a cold AppTest run (on the "
                    "smallest size)")
    ap.add_argument("--cases", help="comma-separated subset of the filter cases")
    ap.add_argument("--stages", default="ask,dense,keyword,allowed")
    ap.add_argument("--warmup", type=int, default=5, help="questions run before timing")
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # child process
    ap.add_argument("--child-out", type=Path, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    only = [c for c in (a.cases or "").split(",") if c] or None
    stages = tuple(x for x in a.stages.split(",") if x)
    if a.measure:
        a.child_out.write_text(json.dumps(measure(a.measure, a.n, warmup=a.warmup,
                                                  only=only, stages=stages), indent=2))
        return 0
    sizes = [parse_size(s) for s in a.sizes.split(",")]
    res = json.loads(a.out.read_text()) if a.out.exists() else {}
    res.setdefault("sizes", {})
    res["machine"] = {"cpus": os.cpu_count(), "loadavg_start": os.getloadavg()}
    for n in sizes:
        index = ensure_index(n, a.work)
        if a.build_only:
            continue
        nq = a.n if n < 1_000_000 else min(a.n, 50)
        log(f"filters {fmt_size(n)}: {nq} questions x {len(only) + 1 if only else 9} cases")
        child = a.work / "filters" / fmt_size(n) / "result.json"
        cmd = [sys.executable, "-m", "benchmarks.filter_bench", "--measure", str(index),
               "--child-out", str(child), "--n", str(nq), "--stages", ",".join(stages),
               "--warmup", str(a.warmup)]
        if a.cases:
            cmd += ["--cases", a.cases]
        p = subprocess.run(cmd, cwd=ROOT, text=True, stderr=sys.stderr)
        if p.returncode != 0:
            raise RuntimeError(f"filter run failed: {' '.join(cmd)}")
        r = json.loads(child.read_text())
        old = res["sizes"].get(fmt_size(n), {})
        if only and old.get("cases"):  # a subset of cases updates those only
            r["cases"] = {**old["cases"], **r["cases"]}
        res["sizes"][fmt_size(n)] = r
        a.out.parent.mkdir(parents=True, exist_ok=True)
        a.out.write_text(json.dumps(res, indent=2))
    if a.app and not a.build_only:
        index = ensure_index(min(sizes), a.work)
        log(f"filters: first page on {fmt_size(min(sizes))}")
        fp = subprocess.run([sys.executable, "-c", "import json,sys;from pathlib import Path;"
                             "from benchmarks.filter_bench import first_page;"
                             f"print(json.dumps(first_page(Path({str(index)!r}))))"],
                            cwd=ROOT, capture_output=True, text=True)
        res["first_page"] = {"passages": fmt_size(min(sizes)),
                             **(json.loads(fp.stdout.strip().splitlines()[-1])
                                if fp.returncode == 0 else {"error": fp.stderr[-2000:]})}
        res["apptest"] = {"passages": fmt_size(min(sizes)), **apptest(index)}
    res["machine"]["loadavg_end"] = os.getloadavg()
    a.out.write_text(json.dumps(res, indent=2))
    print(table(res))
    for k in ("first_page", "apptest"):
        if k in res:
            print(f"{k}: {json.dumps(res[k])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
