"""The distributed build's speed: a full build of the same corpus locally and through
Ray with 1, 2 and 4 workers (a local cluster on this machine), with the real model.
Prints texts embedded per second (passages, sentences and vocabulary words: what the
build embeds) and wall time, and the Ray builds' overhead against the local one.

    python benchmarks/ray_bench.py                    # the shipped report, ~5 min on 2 cores
    python benchmarks/ray_bench.py --reports 10       # plus 10 generated reports
    python benchmarks/ray_bench.py --workers 1,2,4,8 --json out.json

On a machine with a GPU, `--gpus 1` runs the embedding actors on it (one per GPU).
Needs the cluster extra (pip install -e '.[cluster]')."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.settings import load_settings  # noqa: E402
from ingest.index import build_index  # noqa: E402

REPORT = ROOT / "corpus" / "hmic-crime-inspection-2014-west-midlands.txt"


def _corpus(base: Path, reports: int) -> Path:
    corpus = base / "corpus"
    corpus.mkdir()
    shutil.copy(REPORT, corpus / REPORT.name)
    if reports:
        from benchmarks import scaler

        scaler.write_txt_corpus(corpus, reports, seed=7, size=0.3)
    return corpus


def _run(corpus: Path, index: Path, workers: int | None, gpus: float) -> dict:
    s = load_settings(corpus_dir=corpus, index_dir=index)
    t0 = time.monotonic()
    if workers is None:
        summary = build_index(s, full=True)
    else:
        from ingest.ray_build import RayCluster

        with RayCluster(None, workers=workers, gpus_per_actor=gpus) as cluster:
            started = time.monotonic()
            summary = build_index(s, full=True, cluster=cluster)
            cluster_start = started - t0
    seconds = time.monotonic() - t0
    out = {"workers": workers or "local", "seconds": round(seconds, 1),
           "embedded": summary.embedded, "passages": summary.passages,
           "texts_per_s": round(summary.embedded / seconds, 1)}
    if workers is not None:
        out["cluster_start_s"] = round(cluster_start, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reports", type=int, default=0, help="generated reports to add")
    ap.add_argument("--workers", default="1,2,4")
    ap.add_argument("--gpus", type=float, default=0.0, help="GPUs per embedding actor")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = _corpus(Path(tmp), args.reports)
        for w in [None, *(int(x) for x in args.workers.split(","))]:
            r = _run(corpus, Path(tmp) / f"index-{w or 'local'}", w, args.gpus)
            rows.append(r)
            print(json.dumps(r), flush=True)
    local = rows[0]["seconds"]
    print(f"\n{'build':>8} {'seconds':>8} {'texts/s':>8} {'vs local':>9}")
    for r in rows:
        print(f"{r['workers']!s:>8} {r['seconds']:>8} {r['texts_per_s']:>8} "
              f"{r['seconds'] / local:>8.2f}x")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
