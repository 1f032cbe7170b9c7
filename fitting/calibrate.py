"""Fit the ranker and the abstention model on all the training questions, report every
figure in-sample, out-of-sample (grouped k-fold) and on the locked test split, and
write the fitted models to retrieval/data/ranker.json and abstain.json — or
ranker.<model>.json and abstain.<model>.json for an index built with another model
(JSON weights: nothing is unpickled at query time). Run after changing ranking or signals:

    python -m retrieval.calibrate            # or: reportqa eval --cv (report only)
"""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path

from core.settings import DEFAULT_MODEL
from retrieval.crossval import DATA, report, training_files


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--test", type=Path, default=DATA / "dev2.jsonl")
    ap.add_argument("--out", type=Path, default=None, help="folder for the model files")
    args = ap.parse_args(argv)

    from core.settings import load_settings
    from retrieval.search import get_searcher

    s = get_searcher(load_settings(index_dir=args.index).index_dir)
    text, res = report(s, training_files(), args.test)
    print(text)
    cfg = res["config"]
    out = args.out or Path(str(resources.files("retrieval").joinpath("data")))
    fitted = {"fitted_on": [p.name for p in training_files()], "ranker": res["winner"],
              "model": s.store.model}
    # The default model's files are the fallback; another model gets its own.
    tag = "" if s.store.model == DEFAULT_MODEL else f".{s.store.model}"
    for name, data in ((f"ranker{tag}.json", {"weights": cfg.weights, **fitted}),
                       (f"abstain{tag}.json", {**cfg.abstain, **fitted})):
        (out / name).write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {out / name}")


if __name__ == "__main__":
    main()
