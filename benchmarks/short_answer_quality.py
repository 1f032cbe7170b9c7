"""How often the short answer holds the gold evidence, and how often it cites two
passages: on the training questions (the ranker and the relevance words were fitted on
them: in-sample) and on the locked dev2 split (out of sample).

    python benchmarks/short_answer_quality.py --index DIR

"holds": the evidence (the gold-set matching rule) is inside the short answer's
text; "first passage holds": inside the passage cited first, for comparison."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT))

from core.settings import load_settings  # noqa: E402
from fitting.crossval import load_questions, training_files  # noqa: E402
from fitting.matching import answers, norm  # noqa: E402
from retrieval.search import get_searcher  # noqa: E402


def measure(searcher, questions: list[dict]) -> dict:
    """Figures over the answerable single-fact questions the system answered."""
    n = holds = first = two = abstained = 0
    for q in questions:
        if not q.get("answerable", True) or q.get("kind") == "multi" or not q.get("evidence"):
            continue
        a = searcher.ask(q["question"], top_k=5, history=q.get("history"))
        if a.abstained:
            abstained += 1
            continue
        n += 1
        sa = a.short_answer
        text = norm(" ".join(t for t, _ in sa.parts))
        holds += any(norm(e) in text for e in q["evidence"] if isinstance(e, str))
        first += answers(q["evidence"], a.hits[0].passage.text)
        two += len(sa.cites) > 1
    return {"answered": n, "abstained": abstained,
            "short_answer_holds": round(holds / n, 3) if n else None,
            "first_passage_holds": round(first / n, 3) if n else None,
            "two_cites": round(two / n, 3) if n else None}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, default=None)
    args = ap.parse_args()
    s = get_searcher(load_settings(index_dir=args.index).index_dir)
    out = {"training (in-sample)": measure(s, load_questions(training_files(DATA))),
           "dev2 (locked)": measure(s, load_questions([DATA / "dev2.jsonl"]))}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
