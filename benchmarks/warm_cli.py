"""The warm query path for scripts: one `reportqa ask --batch -` process answering
questions written to its standard input one at a time (each timed from writing the
question to reading its answer line), beside `reportqa ask QUESTION` called once per
question (model and index loaded every call).

    python -m benchmarks.warm_cli --index DIR [--n 30] [--cold 3] [--out FILE]

Questions are the dev questions (tests/data/dev.jsonl) of the shipped report."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _cli() -> list[str]:
    return [sys.executable, "-m", "ui.cli"]


def measure(index: Path, n: int, cold: int) -> dict:
    qs = [json.loads(x)["question"] for x in
          (ROOT / "tests" / "data" / "dev.jsonl").read_text().splitlines() if x.strip()]
    qs = (qs * (n // len(qs) + 1))[:n]
    t0 = time.perf_counter()
    p = subprocess.Popen([*_cli(), "ask", "--batch", "-", "--json", "--index", str(index)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT,
                         bufsize=1)
    lat, first = [], None
    for i, q in enumerate(qs):
        t = time.perf_counter()
        p.stdin.write(json.dumps({"id": str(i), "question": q}) + "\n")
        p.stdin.flush()
        line = p.stdout.readline()
        assert json.loads(line)["id"] == str(i), line
        if first is None:
            first = time.perf_counter() - t0
        else:
            lat.append((time.perf_counter() - t) * 1000)
    p.stdin.close()
    p.wait()
    cold_s = []
    for q in qs[:cold]:
        t = time.perf_counter()
        subprocess.run([*_cli(), "ask", q, "--json", "--index", str(index)], cwd=ROOT,
                       capture_output=True, check=True)
        cold_s.append(time.perf_counter() - t)
    a = np.asarray(lat)
    return {"questions": n, "first_answer_s": round(first, 2),
            "warm_ms": {"p50": round(float(np.percentile(a, 50)), 1),
                        "p95": round(float(np.percentile(a, 95)), 1),
                        "max": round(float(a.max()), 1)},
            "one_call_per_question_s": {"mean": round(float(np.mean(cold_s)), 2),
                                        "n": len(cold_s)}}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, required=True)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--cold", type=int, default=3)
    ap.add_argument("--out", type=Path)
    a = ap.parse_args(argv)
    res = measure(a.index, a.n, a.cold)
    print(json.dumps(res, indent=2))
    if a.out:
        a.out.write_text(json.dumps(res, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
