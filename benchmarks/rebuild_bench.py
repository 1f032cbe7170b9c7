"""Index builds through the real ``ingest.index.build_index`` on a corpus of synthetic
.txt reports: a full build, a rebuild with nothing changed, and a rebuild after one
report in the corpus changed. Each build runs in a process of its own so its peak RSS
is the build's.

The passages are embedded by the stand-in embedder (benchmarks/standin.py): with the
real model a 1,000-report corpus (~92k passages, ~670k sentences) takes hours. The
real-model cost of the changed report is estimated from its passage and sentence
counts and the measured embedding rates (marked as an estimate).

    python -m benchmarks.rebuild_bench --reports 1000 --out result.json
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _child(corpus: Path, index: Path, full: bool, profile: bool) -> dict:
    from benchmarks.query_bench import rss_mb
    from benchmarks.standin import HashEmbedder
    from core.settings import load_settings
    from ingest.index import build_index
    from ingest.index_format import IndexPaths, current_build_dir, read_manifest

    settings = load_settings(corpus_dir=corpus, index_dir=index)
    prof = cProfile.Profile() if profile else None
    t = time.perf_counter()
    if prof:
        prof.enable()
    s = build_index(settings, full=full, embedder=HashEmbedder())
    if prof:
        prof.disable()
    secs = time.perf_counter() - t
    out = {"seconds": round(secs, 2), "peak_rss_mb": round(rss_mb()["peak"], 1),
           "added": len(s.added), "changed": len(s.changed), "unchanged": len(s.unchanged),
           "passages": s.passages, "embedded": s.embedded, "reused_vectors": s.reused_vectors,
           "up_to_date": s.up_to_date}
    b = current_build_dir(index)
    if b:
        m = read_manifest(b)
        out["files"] = _sizes(m)
        out["index_bytes"] = sum(out["files"].values())
        out["segments"] = len(m.segments)
        out["sentences"] = m.counts.sentences
    cache = IndexPaths(index).vector_cache
    if cache.exists():
        out["cache_bytes"] = cache.stat().st_size
    if prof:
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(18)
        out["profile"] = [ln for ln in buf.getvalue().splitlines()
                          if ln.strip() and ("/" in ln or "{" in ln)][:18]
    return out


def _sizes(m) -> dict:
    """Bytes of the live build's files by kind (its own, and its segments' summed)."""
    from ingest.index_format.keyword import is_keyword_file

    out: dict[str, int] = {}
    for name, size in m.files.items():
        key = "keyword" if is_keyword_file(name) else name
        out[key] = out.get(key, 0) + size
    for seg in m.segments:
        for name, size in seg.files.items():
            out[f"segments/{name}"] = out.get(f"segments/{name}", 0) + size
    return out


def _optimize_child(index: Path) -> dict:
    from benchmarks.query_bench import rss_mb
    from core.settings import load_settings
    from ingest.index import optimize_index

    t = time.perf_counter()
    r = optimize_index(load_settings(index_dir=index))
    return {**r, "seconds": round(time.perf_counter() - t, 2),
            "peak_rss_mb": round(rss_mb()["peak"], 1)}


def _run_child(corpus: Path, index: Path, full: bool, profile: bool, log,
               optimize: bool = False) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.rebuild_bench", "--child", "--corpus", str(corpus),
           "--index", str(index)] + (["--full"] if full else []) + (["--profile"] if profile
                                                                   else []) + (
        ["--optimize"] if optimize else [])
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"build failed: {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def change_one(path: Path) -> None:
    """Change one report the way a corrected re-publication would: one paragraph
    added to a chapter (its text, hash and passages change)."""
    text = path.read_text(encoding="utf-8")
    marker = "\n\nRecommendations\n"
    i = text.find(marker)
    add = ("\n\nCorrection: the figures for the 12 months to March in this chapter were "
           "revised after publication. The force has since confirmed the revised figures "
           "and told us that they do not change its plans for neighbourhood policing.")
    text = text[:i] + add + text[i:] if i >= 0 else text + add
    path.write_text(text, encoding="utf-8")


def run(work: Path, n_reports: int = 1000, seed: int = 0, log=print,
        embed_rates: dict | None = None) -> dict:
    """Full build, no-change rebuild and one-changed-report rebuild of n_reports."""
    import shutil

    from benchmarks import scaler

    base = work / f"rebuild-{n_reports}"
    shutil.rmtree(base, ignore_errors=True)
    corpus, index = base / "corpus", base / "index"
    t = time.perf_counter()
    paths = scaler.write_txt_corpus(corpus, n_reports, seed)
    gen_s = time.perf_counter() - t
    corpus_bytes = sum(p.stat().st_size for p in paths)
    log(f"  rebuild: wrote {n_reports} reports ({corpus_bytes / 1e6:.0f} MB) in {gen_s:.1f} s")
    full = _run_child(corpus, index, True, False, log)
    log(f"  rebuild: full build {full['seconds']} s, {full['passages']:,} passages")
    nochange = _run_child(corpus, index, False, True, log)
    log(f"  rebuild: no-change rebuild {nochange['seconds']} s")
    target = paths[len(paths) // 2]
    change_one(target)
    one = _run_child(corpus, index, False, True, log)
    log(f"  rebuild: one changed report {one['seconds']} s (embedded {one['embedded']})")
    opt = _run_child(corpus, index, False, False, log, optimize=True)
    log(f"  rebuild: optimize {opt['seconds']} s")
    out = {"reports": n_reports, "corpus_bytes": corpus_bytes, "full": full,
           "nochange": nochange, "one_changed": one, "optimize": opt,
           "embedder": "stand-in (benchmarks.standin.HashEmbedder)"}
    if embed_rates:
        # The changed report's passages and sentences with the real model (estimate).
        from ingest.passages import passage_sentences
        from ingest.pipeline import ingest_file

        r = ingest_file(target)
        n_p = len(r.passages)
        n_s = sum(len(passage_sentences(p.text)) for p in r.passages)
        est = n_p / embed_rates["passages_per_s"] + n_s / embed_rates["sentences_per_s"]
        out["one_changed"]["estimated_real_model_embed_s"] = round(est, 1)
        out["one_changed"]["changed_report"] = {"passages": n_p, "sentences": n_s}
        out["one_changed"]["estimate_basis"] = embed_rates
    shutil.rmtree(base, ignore_errors=True)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--index", type=Path)
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--optimize", action="store_true")
    ap.add_argument("--reports", type=int, default=1000)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    if a.child and a.optimize:
        print(json.dumps(_optimize_child(a.index)))
        return 0
    if a.child:
        print(json.dumps(_child(a.corpus, a.index, a.full, a.profile)))
        return 0
    res = run(ROOT / "benchmarks" / "work", a.reports)
    text = json.dumps(res, indent=2)
    if a.out:
        a.out.write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
