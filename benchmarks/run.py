"""reportqa benchmarks: speed, memory and scale from one report to a national archive.

    python benchmarks/run.py [--sizes 1k,10k,100k,1M] [--quick] [--only STAGES]

Stages (default: all): ingest, embed, rebuild, scale, ann.

* ingest   PDF pages/s through the real reader and parser; passages/s end to end with
           the real model (benchmarks/ingest_bench.py)
* embed    passages/s of the packaged MiniLM on this CPU by batch size and ordering,
           ONNX Runtime / int8 variants with their cosine to fp32, and the dev-question
           quality of the fastest faithful one (benchmarks/embed_bench.py)
* rebuild  full build, no-change rebuild, one-changed-report rebuild of 1,000 synthetic
           reports through ingest.index.build_index (benchmarks/rebuild_bench.py)
* scale    per size: a synthetic index (benchmarks/synth_index.py), then query
           processes measuring p50/p95/p99 of dense, keyword, hybrid, hybrid+rerank
           and the naive baselines (plain FTS5 BM25, exact float32 dense scan), peak
           RSS, the synthetic build's peak RSS and the index size on disk
           (benchmarks/query_bench.py)
* warm     the warm query path for scripts: `reportqa ask --batch -` answering questions
           piped to it one at a time, beside one `reportqa ask` call per question
           (benchmarks/warm_cli.py)
* keywords (only with --only keywords) the keyword engines side by side: SQLite FTS5,
           tantivy and bm25s on the same indexes and questions, with keyword-only
           quality on the shipped report (benchmarks/keyword_engines.py)
* filters  (only with --only filters; sizes default to 100k,1M) filtered against
           unfiltered answer-path latency per filter kind, and the app's first page
           (benchmarks/filter_bench.py; results in benchmarks/results/filters.json)
* ann      recall@10 of approximate / compressed FAISS indexes against exact search,
           on stand-in vectors at each size and on real-model vectors where available
           (benchmarks/ann.py; real-model vectors up to 1M from
           benchmarks/gpu_real_vectors.py)

--quick: sizes 1k and 10k, a small embedding sample, 100 reports for the rebuild;
finishes in a few minutes. Results: benchmarks/results/results[-quick].json and .md.
Work files (indexes, corpora): benchmarks/work/ (git-ignored; big ones are removed
unless --keep).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results"
#: A scale run's stand-in passage vectors, kept for the ann stage after the index goes.
KEPT_VECTORS = "standin_vectors.npy"
STAGES = ("ingest", "embed", "rebuild", "scale", "warm", "ann")
#: Stages run only when --only names them.
EXTRA_STAGES = ("filters", "keywords")


def parse_size(s: str) -> int:
    s = s.strip().lower()
    mult = {"k": 1_000, "m": 1_000_000}.get(s[-1], 1)
    return int(float(s.rstrip("km")) * mult)


def fmt_size(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n >= 1_000 and n % 1_000 == 0:
        return f"{n // 1_000}k"
    return f"{n:,}"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- scale ----------------------------------------------------------------------------

def _query(index: Path, out: Path, n: int, modes: list[str], model: str = "real",
           extra: list[str] | None = None) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.query_bench", "--index", str(index),
           "--out", str(out), "--n", str(n), "--modes", ",".join(modes), "--model", model,
           *(extra or [])]
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"query run failed: {' '.join(cmd)}\n{p.stderr[-3000:]}")
    return json.loads(out.read_text())


def _disk(index: Path) -> int:
    """Bytes on disk of the live build and its segments (what a copy must carry)."""
    from ingest.index_format import IndexPaths, current_build_dir, read_manifest

    b = current_build_dir(index)
    segs = [IndexPaths(index).segment(s.id) for s in read_manifest(b).segments]
    return sum(f.stat().st_size for d in (b, *segs) for f in d.rglob("*") if f.is_file())


def _fts5_table(index: Path, out: Path) -> Path:
    """The plain-BM25 baseline's FTS5 table over the index's passages (what a user
    would pick instead of reportqa's retrieval)."""
    import sqlite3

    from retrieval.store import Store

    out.unlink(missing_ok=True)
    db = sqlite3.connect(out)
    db.execute("CREATE VIRTUAL TABLE f USING fts5(text, section, "
               "tokenize='porter unicode61 remove_diacritics 2')")
    db.executemany("INSERT INTO f(rowid, text, section) VALUES (?,?,?)",
                   ((r, p.text, " > ".join(p.section))
                    for r, p in Store(index).passage_rows()))
    db.commit()
    db.close()
    return out


def scale_size(n: int, work: Path, quick: bool, keep: bool, n_q: int, build_rss: dict,
               build_only: bool = False) -> dict:
    from benchmarks import synth_index
    from core.settings import load_settings
    from ingest.index_format import current_build_dir

    settings = load_settings()
    d = work / "scale" / fmt_size(n)
    base = d / "base"
    meta_p = d / "base.json"
    res: dict = {"passages": n}
    meta = json.loads(meta_p.read_text()) if meta_p.exists() else None
    if not (meta and meta.get("passages") == n and meta.get("schema") == 4
            and current_build_dir(base) is not None):
        log(f"scale {fmt_size(n)}: building the synthetic index")
        meta = synth_index.build(base, n, settings,
                                 sentence_vectors="embed" if n <= 100_000 else "derive",
                                 log=log)
        meta["schema"] = 4
        meta_p.write_text(json.dumps(meta))
    res["synthetic_build"] = meta
    if build_only:
        return res
    res["current_faiss"] = meta["faiss"]
    main_modes = ["dense", "keyword", "hybrid", "hybrid_rerank"]
    log(f"scale {fmt_size(n)}: querying ({meta['faiss']['type']})")
    res["current"] = _query(base, d / "q-current.json", n_q, main_modes)
    log(f"scale {fmt_size(n)}: baselines in processes of their own")
    fts = _fts5_table(base, d / "fts5.sqlite")
    res["dense_baseline"] = _query(base, d / "q-dense-baseline.json", min(n_q, 60),
                                   ["dense_baseline"], extra=["--no-stages"])
    res["bm25_baseline"] = _query(base, d / "q-bm25-baseline.json", min(n_q, 60),
                                  ["bm25_baseline"], model="none",
                                  extra=["--no-stages", "--fts5", str(fts)])
    res["disk_bytes"] = {"index": _disk(base), "fts5_baseline": fts.stat().st_size}
    res["files_bytes"] = meta["files"]
    res["build_index_rss"] = build_rss.get(n)
    if not keep and n >= 100_000:
        # The index goes; its vectors stay (as float16) for the ann stage, which removes
        # them.
        from ingest.index_format import IndexPaths, read_manifest
        from ingest.index_format.layout import VECTORS

        seg = read_manifest(current_build_dir(base)).segments[0]
        os.replace(IndexPaths(base).segment(seg.id) / VECTORS, d / KEPT_VECTORS)
        for sub in d.iterdir():
            if sub.name != KEPT_VECTORS:
                shutil.rmtree(sub, ignore_errors=True) if sub.is_dir() else sub.unlink()
    return res


def build_rss_small(n: int, work: Path) -> dict:
    """Peak RSS and time of ingest.index.build_index (stand-in embedder) on a .txt
    corpus of about n passages."""
    from benchmarks import rebuild_bench, scaler

    d = work / f"buildrss-{fmt_size(n)}"
    shutil.rmtree(d, ignore_errors=True)
    n_rep = max(1, round(n / 92))
    scaler.write_txt_corpus(d / "corpus", n_rep)
    r = rebuild_bench._run_child(d / "corpus", d / "index", True, False, log)
    shutil.rmtree(d, ignore_errors=True)
    return {"reports": n_rep, "passages": r["passages"], "seconds": r["seconds"],
            "peak_rss_mb": r["peak_rss_mb"], "files": r.get("files"),
            "cache_bytes": r.get("cache_bytes")}


# -- ann ------------------------------------------------------------------------------

def ann_stage(sizes: list[int], work: Path, quick: bool, keep: bool = False) -> dict:
    import numpy as np

    from benchmarks import ann
    from benchmarks.query_bench import workload
    from benchmarks.standin import HashEmbedder

    out: dict = {"standin": {}, "real": {}}
    Q = HashEmbedder().encode(workload(200))
    for n in sizes:
        p = work / "scale" / fmt_size(n) / KEPT_VECTORS
        if n < 10_000 or not p.exists():
            continue
        X = np.load(p).astype(np.float32)
        specs = [{"type": "flat"}, {"type": "flat-fp16"}, {"type": "flat-sq8"}]
        if n <= 200_000:
            specs.append({"type": "hnsw", "M": 32, "efConstruction": 80,
                          "efSearch": [64, 128, 256]})
        log(f"ann: stand-in vectors, {fmt_size(n)}")
        out["standin"][str(n)] = ann.sweep(X, Q, specs, build_threads=os.cpu_count(),
                                           log=lambda m: None)
        del X
        if n >= 100_000 and not keep:
            p.unlink()
    real = sorted(work.glob("gpu*/real100k_int8_0.npy"))
    if real and not quick:
        g = real[-1].parent
        X = np.concatenate([np.load(g / f"real100k_int8_{i}.npy") for i in range(3)])
        X = X.astype(np.float32) / 127
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        Qr = np.load(g / "queries_fp32.npy")[:500]
        log("ann: real-model vectors, 100k")
        out["real"]["100000"] = ann.sweep(X, Qr, [
            {"type": "flat-fp16"}, {"type": "flat-sq8"},
            {"type": "hnsw", "M": 32, "efConstruction": 80, "efSearch": [128, 256, 512]},
            {"type": "hnsw", "M": 48, "efConstruction": 200, "efSearch": [256, 512]},
            {"type": "ivf-flat", "nlist": 1024, "nprobe": [64, 128, 256]},
        ], build_threads=os.cpu_count(), log=lambda m: None)
    for f in sorted(RESULTS.glob("gpu_recall*.json")):
        out.setdefault("gpu", {})[f.name] = json.loads(f.read_text())
    return out


# -- report ---------------------------------------------------------------------------

def _p(m: dict | None, key: str = "p95") -> str:
    return "—" if not m else f"{m[key]:.0f}"


def table(res: dict) -> str:
    """The one table: per size, query latency (ms) beside the naive baselines measured
    in the same run, memory, disk."""
    head = ("| passages | FAISS | dense p95 | keyword p95 | hybrid p95 | "
            "hybrid+rerank p50 / p95 / p99 | BM25 (FTS5) baseline p95 | exact dense "
            "baseline p95 | rerank ÷ BM25 | rerank ÷ dense | query RSS MB | index on disk |")
    lines = [head, "|" + "|".join(["---"] * (head.count("|") - 1)) + "|"]
    for n, r in sorted(res.get("scale", {}).items(), key=lambda x: int(x[0])):
        if "current" not in r or "bm25_baseline" not in r:
            continue
        bb = r["bm25_baseline"]["modes"]["bm25_baseline"]
        bd = r["dense_baseline"]["modes"]["dense_baseline"]
        q = r["current"]["modes"]
        hr = q["hybrid_rerank"]
        disk = r["disk_bytes"]["index"] if isinstance(r["disk_bytes"].get("index"), int) \
            else 0
        lines.append(
            f"| {fmt_size(int(n))} | {r['current_faiss']['type']} | {_p(q.get('dense'))} | "
            f"{_p(q.get('keyword'))} | {_p(q.get('hybrid'))} | "
            f"{hr['p50']:.0f} / {hr['p95']:.0f} / {hr['p99']:.0f} | {_p(bb)} | {_p(bd)} | "
            f"{hr['p95'] / bb['p95']:.2f} | {hr['p95'] / bd['p95']:.2f} | "
            f"{r['current']['rss_mb']['peak']:.0f} | {disk / 1e6:,.0f} MB |")
    return "\n".join(lines)


def details(res: dict) -> str:
    """Markdown for the other stages."""
    out = []
    ing = res.get("ingest")
    if ing:
        p = ing["pdf"]
        out.append(f"**Ingestion.** PDF: {p['read_pages_per_s']:.0f} pages/s read (pypdf), "
                   f"{p['ingest_pages_per_s']:.0f} pages/s = {p['ingest_passages_per_s']:.0f} "
                   f"passages/s read+clean+structure+passages ({p['reports']} reports, "
                   f"{p['pages']} pages). Text: {ing['txt']['ingest_passages_per_s']:.0f} "
                   f"passages/s. End to end with the real model "
                   f"({ing['end_to_end']['reports']} PDF reports, "
                   f"{ing['end_to_end']['passages']} passages, "
                   f"{ing['end_to_end']['embedded_texts']} passages+sentences embedded): "
                   f"{ing['end_to_end']['passages_per_s']:.1f} passages/s.")
    emb = res.get("embed")
    if emb:
        out.append(f"\n**Embedding** ({emb['n_texts']} passages, mean {emb['mean_words']} "
                   f"words; cosine against torch fp32 on the {emb['n_real_for_cosine']} "
                   "real passages of corpus/):\n")
        out.append("| variant | batch | order | passages/s | cos min | cos mean |")
        out.append("|---|---|---|---|---|---|")
        for v in emb["variants"]:
            out.append(f"| {v['variant']} | {v.get('batch', '')} | {v.get('order', '')} | "
                       f"{v['passages_per_s']} | {v.get('cos_min', '')} | "
                       f"{v.get('cos_mean', '')} |")
        if emb.get("sentences_per_s"):
            out.append(f"\nSentences (~20 words): {emb['sentences_per_s']}/s torch fp32. "
                       f"One query: {emb.get('query_embed_ms_torch', '—')} ms torch, "
                       f"{emb.get('query_embed_ms_ort_int8_1thread', '—')} ms ONNX int8 "
                       "(1 thread).")
        if emb.get("dev_quality"):
            out.append("\nDev questions with each embedder (index of corpus/ rebuilt with it):")
            for k, v in emb["dev_quality"].items():
                out.append(f"- {k}: " + ", ".join(f"{a} {b:.2f}" for a, b in v.items()
                                                  if isinstance(b, float)))
    ab = RESULTS / "embed_interleaved.json"
    if emb and ab.exists():
        d = json.loads(ab.read_text())
        out.append(f"\nInterleaved A/B ({d['rounds']} rounds on the same {d['n_texts']} "
                   "passages, so machine load hits every variant alike; medians):")
        for k, v in d["variants"].items():
            out.append(f"- {k}: {v['passages_per_s_median']} passages/s, cos min "
                       f"{v['cos_min']}, mean {v['cos_mean']}")
    rb = res.get("rebuild")
    if rb:
        f, nc, one = rb["full"], rb["nochange"], rb["one_changed"]
        line = (f"\n**Rebuilds** ({rb['reports']} synthetic reports, {f['passages']:,} "
                f"passages, {f.get('sentences') or 0:,} sentences; stand-in embedder): full "
                f"build {f['seconds']:.0f} s (peak RSS {f['peak_rss_mb']:.0f} MB, vector "
                f"cache {f.get('cache_bytes', 0) / 1e6:,.0f} MB); no change "
                f"{nc['seconds']:.1f} s (peak RSS {nc['peak_rss_mb']:.0f} MB); one report "
                f"changed {one['seconds']:.1f} s (embedded {one['embedded']}, reused "
                f"{one['reused_vectors']:,}; peak RSS {one['peak_rss_mb']:.0f} MB)")
        if rb.get("optimize"):
            line += f"; `index optimize` {rb['optimize']['seconds']:.1f} s"
        if f.get("index_bytes"):
            line += f"; index {f['index_bytes'] / 1e6:,.0f} MB on disk"
        if one.get("estimated_real_model_embed_s") is not None:
            line += (f" + about {one['estimated_real_model_embed_s']:.0f} s to embed the "
                     "changed report with the real model (estimate from the measured rates)")
        out.append(line + ".")
    ann = res.get("ann")
    if ann:
        out.append("\n**Approximate vs exact search** (recall@10 against exact "
                   "inner-product search; latency: one query, one thread, top 60):\n")
        out.append("| vectors | n | index | params | recall@10 | exact top-10 in top-60 | "
                   "p50 ms | size MB |")
        out.append("|---|---|---|---|---|---|---|---|")

        def rows(src, n, rs):
            for r in rs:
                params = ", ".join(f"{k}={r[k]}" for k in ("M", "efConstruction", "efSearch",
                                                            "nlist", "nprobe", "m") if k in r)
                out.append(f"| {src} | {int(n):,} | {r['type']} | {params} | "
                           f"{r['recall@10']:.3f} | {r.get('cand_recall@10in60', '—')} | "
                           f"{r['p50_ms']:.2f} | {r['bytes'] / 1e6:,.0f} |")

        for n, rs in ann.get("standin", {}).items():
            rows("stand-in", n, rs)
        for n, rs in ann.get("real", {}).items():
            rows("real MiniLM", n, rs)
        for name, g in ann.get("gpu", {}).items():
            for n, rs in g.get("sizes", {}).items():
                rows(f"real MiniLM ({name}; latency: GPU host CPU)", n, rs)
    return "\n".join(out)


def _markdown(res: dict) -> str:
    m = res["machine"]
    return ("# reportqa benchmark results\n\n"
            f"{m['cpus']} CPUs, {m['platform']}, Python {m['python']}, reportqa "
            f"{m.get('git', '?')}; load average at start {m['loadavg_start'][0]:.1f} (the "
            "machine is shared: other work ran during these measurements). Latencies in ms, "
            "one question at a time, model loaded, real query embedding included; stand-in "
            "vectors (benchmarks/standin.py) for the synthetic indexes.\n\n"
            + table(res) + "\n\n" + details(res) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="reportqa benchmarks")
    ap.add_argument("--sizes", help="passage counts, e.g. 1k,10k,100k,1M")
    ap.add_argument("--quick", action="store_true", help="1k and 10k, small samples")
    ap.add_argument("--only", help="comma-separated stages of "
                    f"{', '.join(STAGES + EXTRA_STAGES)}")
    ap.add_argument("--questions", type=int, help="questions per query run")
    ap.add_argument("--work", type=Path, default=BENCH / "work")
    ap.add_argument("--keep", action="store_true", help="keep big indexes in --work")
    ap.add_argument("--out", type=Path, help="results JSON (default benchmarks/results/)")
    ap.add_argument("--build-only", action="store_true",
                    help="scale stage: only build (and keep) the synthetic indexes, so a "
                    "1M run can be split into two shorter ones")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite the .md from the results JSON without measuring")
    a = ap.parse_args(argv)
    if a.report_only:
        p = a.out or RESULTS / ("results-quick.json" if a.quick else "results.json")
        res = json.loads(p.read_text())
        p.with_suffix(".md").write_text(_markdown(res))
        print(table(res))
        return 0
    sizes = [parse_size(s) for s in (a.sizes or ("1k,10k" if a.quick else
                                                  "1k,10k,100k,1M")).split(",")]
    stages = [s for s in (a.only or ",".join(STAGES)).split(",") if s]
    n_q = a.questions or (30 if a.quick else 100)
    work = a.work
    work.mkdir(parents=True, exist_ok=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out_json = a.out or RESULTS / ("results-quick.json" if a.quick else "results.json")
    res: dict = json.loads(out_json.read_text()) if out_json.exists() and a.only else {}
    res["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform(),
                      "python": platform.python_version(),
                      "loadavg_start": os.getloadavg()}
    try:
        res["machine"]["git"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
            text=True).stdout.strip()
    except OSError:
        pass
    res["quick"] = a.quick
    t0 = time.perf_counter()
    if "ingest" in stages:
        from benchmarks import ingest_bench

        log("ingest: PDFs and text reports")
        res["ingest"] = ingest_bench.run(work, n_pdf=3 if a.quick else 20,
                                         n_txt=10 if a.quick else 100,
                                         n_e2e=1 if a.quick else 3, log=log)
    if "embed" in stages:
        from benchmarks import embed_bench

        log("embed: speed and fidelity")
        e = embed_bench.run(work, n_sample=48 if a.quick else 200, quick=a.quick, log=log)
        e["sentences_per_s"] = embed_bench.sentence_rate(n=150 if a.quick else 400)
        if not a.quick:
            e["dev_quality"] = embed_bench.dev_quality_all(work, log=log)
        res["embed"] = e
    if "rebuild" in stages:
        from benchmarks import rebuild_bench

        rates = None
        if res.get("embed"):
            best = max((v for v in res["embed"]["variants"] if v["variant"] == "torch-fp32"),
                       key=lambda v: v["passages_per_s"])
            rates = {"passages_per_s": best["passages_per_s"],
                     "sentences_per_s": res["embed"]["sentences_per_s"]}
        log("rebuild: full, no change, one report changed")
        res["rebuild"] = rebuild_bench.run(work, 100 if a.quick else 1000, log=log,
                                           embed_rates=rates)
    if "scale" in stages:
        build_rss = {}
        for n in sizes:
            if n <= 10_000:
                log(f"scale {fmt_size(n)}: build_index peak RSS")
                build_rss[n] = build_rss_small(n, work)
            elif res.get("rebuild") and abs(res["rebuild"]["full"]["passages"] - n) < 0.3 * n:
                f = res["rebuild"]["full"]
                build_rss[n] = {"reports": res["rebuild"]["reports"],
                                "passages": f["passages"], "seconds": f["seconds"],
                                "peak_rss_mb": f["peak_rss_mb"]}
        res.setdefault("scale", {})
        for n in sizes:
            r = scale_size(n, work, a.quick, a.keep, n_q if n < 1_000_000 else min(n_q, 50),
                           build_rss, build_only=a.build_only)
            if a.build_only:
                res.setdefault("synthetic_builds", {})[str(n)] = r["synthetic_build"]
            else:
                res["scale"][str(n)] = r
            out_json.write_text(json.dumps(res, indent=2))
    if "warm" in stages:
        from benchmarks import warm_cli
        from core.settings import load_settings
        from ingest.index import build_index

        log("warm: `ask --batch -` against one call per question (shipped report)")
        idx = work / "warm-index"
        build_index(load_settings(corpus_dir=ROOT / "corpus", index_dir=idx))
        res["warm"] = warm_cli.measure(idx, 20 if a.quick else 60, 2 if a.quick else 3)
    if "keywords" in stages:
        from benchmarks import keyword_engines

        log("keywords: FTS5, tantivy and bm25s side by side")
        keyword_engines.main(["--sizes", ",".join(fmt_size(n) for n in sizes)])
        res["keyword_engines"] = json.loads(
            (RESULTS / "keyword_engines.json").read_text())
    if "filters" in stages:
        from benchmarks import filter_bench

        log("filters: filtered search at size")
        fa = ["--sizes", a.sizes or "100k,1M", "--work", str(work), "--app"]
        fa += ["--n", str(a.questions)] if a.questions else []
        fa += ["--build-only"] if a.build_only else []
        filter_bench.main(fa)
        if stages == ["filters"]:
            return 0
    if "ann" in stages and not a.build_only:
        new = ann_stage(sizes, work, a.quick, a.keep)
        old = res.get("ann") or {}
        for k, v in new.items():  # sizes measured in earlier --only runs stay
            old[k] = {**old.get(k, {}), **v} if isinstance(v, dict) else v
        res["ann"] = old
    res["seconds"] = round(time.perf_counter() - t0, 1)
    res["machine"]["loadavg_end"] = os.getloadavg()
    out_json.write_text(json.dumps(res, indent=2))
    out_json.with_suffix(".md").write_text(_markdown(res))
    print(table(res))
    print(f"\n(full results: {out_json} and {out_json.with_suffix('.md')}; "
          f"{res['seconds']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
