"""Check a question file in the gold format: every evidence item must occur verbatim
(after the gold normalisation) in one passage of the built index, or at least in the
report text when no passage dump is given.

    python tests/data/train/check.py FILE.jsonl [--passages passages.jsonl]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from fitting.matching import norm  # noqa: E402 — the gold matching rule, one copy


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", type=Path)
    ap.add_argument("--passages", type=Path, default=None)
    ap.add_argument("--report", type=Path,
                    default=Path(__file__).resolve().parents[3] / "corpus"
                    / "hmic-crime-inspection-2014-west-midlands.txt")
    a = ap.parse_args()
    if a.passages:
        windows = [norm(" ".join(json.loads(l)["text"].split()[:350]))
                   for l in a.passages.read_text().splitlines() if l.strip()]
    else:
        windows = [norm(a.report.read_text(encoding="utf-8"))]
    bad = 0
    ids = set()
    for n, line in enumerate(a.file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        q = json.loads(line)
        for k in ("id", "question", "answerable", "evidence", "kind", "style", "made"):
            if k not in q:
                print(f"line {n}: missing {k}")
                bad += 1
        if q["id"] in ids:
            print(f"line {n}: duplicate id {q['id']}")
            bad += 1
        ids.add(q["id"])
        if not q.get("answerable", True):
            continue
        ev = q.get("evidence") or []
        if not ev:
            print(f"line {n}: answerable but no evidence")
            bad += 1
        items_ok = []
        for it in ev:
            parts = [it] if isinstance(it, str) else it
            ok = any(all(norm(s) in w for s in parts) for w in windows)
            items_ok.append(ok)
            if not ok:
                print(f"line {n} ({q['id']}): evidence not found in one passage: {it!r}")
        if q.get("kind") == "multi":
            bad += sum(not x for x in items_ok)
        elif not any(items_ok):
            bad += 1
    print(f"{len(ids)} questions, {bad} problems")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
