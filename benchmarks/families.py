"""Answer quality per family of reports, in sample, grouped cross-validated and out of
family, beside plain dense and plain BM25 over the same passages — one command:

    python benchmarks/families.py --filings DIR [--work /tmp/families]

Families:
- shipped: the bundled inspection report (corpus/) and the training questions under
  tests/data (dev, calibration, train/: hand-written, rule-made, near-miss);
- archive: the held-back fictional archive (benchmarks/archive_quality.py: other
  forces, another seed), its template questions in six styles, answerable (named
  force) and not (a year or force with no report);
- filings: a folder of real filings (`filings/`, and `filings-questions.jsonl` with
  the analysts' questions and their evidence pages), plus the hand-written ones under
  tests/data/families/.

Indexes are built once under --work and reused. Also prints the locked split dev2
scored by models fitted on every family, and with --write stores those models in
retrieval/data (what `python -m fitting.calibrate` does for one family)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests"))


def _index(corpus: Path, index_dir: Path):
    """A searcher over an index of `corpus`, built unless `index_dir` holds one."""
    from core.settings import load_settings
    from fitting.families import open_searcher
    from ingest.index import build_index
    from ingest.index_format import current_build_dir

    if current_build_dir(index_dir) is None:  # no build yet: make one
        t = time.perf_counter()
        s = build_index(load_settings(corpus_dir=corpus, index_dir=index_dir))
        print(f"indexed {corpus}: {s.passages} passages in {time.perf_counter() - t:.0f} s",
              file=sys.stderr)
    return open_searcher(index_dir)


def archive_questions(reports) -> list[dict]:
    """The held-back archive's template questions in the gold format: a named force's
    fact (answerable; its fact sentences are the evidence) or a year or force with no
    report (unanswerable)."""
    import archive_quality as aq

    out = []
    for i, q in enumerate(aq.questions(reports)):
        if q["kind"] == "named":
            out.append({"id": f"ar-{i}", "question": q["question"], "answerable": True,
                        "evidence": q["gold"], "kind": "fact", "style": q["style"],
                        "made": "template", "family": "archive", "group": f"archive:{i}"})
        elif q["kind"] == "missing":
            out.append({"id": f"ar-{i}", "question": q["question"], "answerable": False,
                        "evidence": [], "kind": f"no {q['style']}", "style": q["style"],
                        "made": "template", "family": "archive", "group": f"archive:{i}"})
    return out


def main() -> None:
    """Build what is missing, run the report, print it (and store the JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--filings", type=Path, required=True,
                    help="folder with filings/ and filings-questions.jsonl")
    ap.add_argument("--work", type=Path, default=Path("/tmp/reportqa-families"))
    ap.add_argument("--ranker", default="pairwise", choices=["pairwise", "learned", "hand"])
    ap.add_argument("--json", type=Path, default=ROOT / "benchmarks/results/families.json")
    ap.add_argument("--write", action="store_true",
                    help="store the models fitted on every family in retrieval/data")
    args = ap.parse_args()

    import archive_quality as aq
    from tqdm import tqdm

    from fitting.crossval import capture, score, side_by_side, training_files
    from fitting.families import family_questions, report

    work = args.work
    shipped = _index(ROOT / "corpus", work / "shipped-index")
    # The archive is made from a seed: written again, it is the same reports.
    reports = aq.write_held_back(work / "archive-corpus")
    archive = _index(work / "archive-corpus", work / "archive-index")
    filings = _index(args.filings / "filings", work / "filings-index")

    fams = [
        ("shipped", shipped, family_questions("shipped", training_files(DATA))),
        ("archive", archive, archive_questions(reports)),
        ("filings", filings, family_questions("filings", [
            args.filings / "filings-questions.jsonl",
            *sorted((DATA / "families").glob("filings-*.jsonl"))])),
    ]
    n = sum(len(q) for _, _, q in fams)
    t = time.perf_counter()
    with tqdm(total=n, desc="reading questions", file=sys.stderr) as bar:
        text, res = report(fams, ranker=args.ranker, progress=bar)
    print(text)
    caps = capture(shipped, family_questions("shipped", [DATA / "dev2.jsonl"]))
    test = score(shipped, caps, res["config"])
    print("\nlocked test split dev2 (shipped report; fitted on every family):")
    print(side_by_side({"dev2": test}))
    print(f"\n({time.perf_counter() - t:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({"report": text, "objective": res["objective"]},
                                        indent=1) + "\n")
    if args.write:
        from importlib import resources

        cfg = res["config"]
        out = Path(str(resources.files("retrieval").joinpath("data")))
        fitted = {"fitted_on": ["shipped", "archive", "filings"], "ranker": args.ranker,
                  "model": shipped.store.model}
        (out / "ranker.json").write_text(json.dumps({"weights": cfg.weights, **fitted},
                                                    indent=2) + "\n")
        (out / "abstain.json").write_text(json.dumps({**cfg.abstain, **fitted},
                                                     indent=2) + "\n")
        (out / "relevance.json").write_text(json.dumps({**cfg.relevance, **fitted},
                                                       indent=2) + "\n")
        print(f"wrote ranker.json, abstain.json and relevance.json in {out}")


if __name__ == "__main__":
    main()
