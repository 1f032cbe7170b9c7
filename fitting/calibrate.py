"""Fit the ranker and the abstention model on all the training questions, report every
figure in-sample, out-of-sample (grouped k-fold) and on the locked test split, and
write the fitted models to retrieval/data/ranker.json and abstain.json — or
ranker.<model>.json and abstain.<model>.json for an index built with another model
(JSON weights: nothing is unpickled at query time). Run after changing ranking or signals:

    reportqa-fit calibrate --data tests/data      # or: reportqa-fit eval --cv (report only)
"""

from __future__ import annotations

import json
from pathlib import Path

from fitting.crossval import report, training_files
from retrieval.config import fitted_name


def calibrate(searcher, data: Path, test: Path | None, out: Path, echo=print) -> list[Path]:
    """Cross-validate, fit on every training question in `data`, print the report and
    write the ranker and abstainer files to `out`; the files written."""
    text, res = report(searcher, training_files(data), test)
    echo(text)
    cfg = res["config"]
    fitted = {"fitted_on": [p.name for p in training_files(data)], "ranker": res["winner"],
              "model": searcher.store.model}
    model = searcher.store.model
    written = []
    for name, body in ((fitted_name("ranker.json", model), {"weights": cfg.weights, **fitted}),
                       (fitted_name("abstain.json", model), {**cfg.abstain, **fitted})):
        (out / name).write_text(json.dumps(body, indent=2) + "\n")
        echo(f"wrote {out / name}")
        written.append(out / name)
    return written
