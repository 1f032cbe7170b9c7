"""Fit the abstention model on gold questions (answerable and not) and write
retrieval/data/abstain.json. Run after changing ranking or signals:

    python -m retrieval.calibrate tests/data/dev.jsonl tests/data/calibration.jsonl

It prints the trade-off curve (abstention on unanswerable vs false abstention on
answerable) over thresholds, in-sample and cross-checked between the files (fit on
one, measure on the other), and picks the threshold that abstains most while
abstaining on at most 5% of answerable questions."""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path

import numpy as np

from retrieval.abstain import FEATURES
from retrieval.evaluate import load_gold


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 50
                 ) -> np.ndarray:
    """L2-regularised logistic regression by Newton's method (bias unpenalised). The
    penalty keeps weights modest: there are few questions for this many signals."""
    w = np.zeros(X.shape[1])
    reg = np.full(X.shape[1], l2)
    reg[0] = 1e-6
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(X @ w, -30, 30)))
        grad = X.T @ (p - y) + reg * w
        H = (X * (p * (1 - p))[:, None]).T @ X + np.diag(reg)
        step = np.linalg.solve(H, grad)
        w -= step
        if np.abs(step).max() < 1e-6:
            break
    return w


def curve(p: np.ndarray, y: np.ndarray) -> list[dict]:
    """Abstention / false-abstention at a range of thresholds."""
    out = []
    for t in np.round(np.arange(0.05, 0.96, 0.05), 2):
        ab = p < t
        out.append({"threshold": float(t),
                    "abstain_unanswerable": float(ab[y == 0].mean()) if (y == 0).any() else 0.0,
                    "false_abstain": float(ab[y == 1].mean()) if (y == 1).any() else 0.0})
    return out


def pick_threshold(p: np.ndarray, y: np.ndarray, max_false: float = 0.05) -> float:
    """Highest threshold whose false abstention stays within max_false."""
    best = 0.05
    for t in np.arange(0.02, 0.98, 0.01):
        if (p[y == 1] < t).mean() <= max_false:
            best = float(t)
    return round(best, 2)


def signals_for(searcher, gold: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """Feature matrix and answerable labels for gold questions."""
    X, y = [], []
    for q in gold:
        a = searcher.ask(q["question"], top_k=10)
        X.append([a.signals.get(f, 0.0) for f in FEATURES])
        y.append(1.0 if q.get("answerable", True) else 0.0)
    return np.asarray(X), np.asarray(y)


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gold", nargs="+", type=Path)
    ap.add_argument("--index", type=Path, default=None)
    ap.add_argument("--max-false", type=float, default=0.05)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    from ingest.settings import load_settings
    from retrieval.search import SearchConfig, Searcher, get_searcher

    s = get_searcher(load_settings(index_dir=args.index).index_dir)
    # Signals do not depend on the abstention model, so one pass serves every fit.
    s = Searcher(s.store, s.embedder, SearchConfig(abstain={}))
    sets = {str(g): signals_for(s, load_gold(g)) for g in args.gold}
    X = np.vstack([v[0] for v in sets.values()])
    y = np.concatenate([v[1] for v in sets.values()])
    w = fit_logistic(X, y)
    p = 1 / (1 + np.exp(-(X @ w)))
    thr = pick_threshold(p, y, args.max_false)
    report = {"in_sample": curve(p, y)}
    if len(sets) == 2:
        (a, (Xa, ya)), (b, (Xb, yb)) = sets.items()
        for (tr, Xt, yt), (te, Xe, ye) in (((a, Xa, ya), (b, Xb, yb)), ((b, Xb, yb), (a, Xa, ya))):
            wt = fit_logistic(Xt, yt)
            pt = 1 / (1 + np.exp(-(Xt @ wt)))
            t = pick_threshold(pt, yt, args.max_false)
            pe = 1 / (1 + np.exp(-(Xe @ wt)))
            ab = pe < t
            report[f"fit {Path(tr).name} -> {Path(te).name}"] = {
                "threshold": t,
                "abstain_unanswerable": float(ab[ye == 0].mean()) if (ye == 0).any() else None,
                "false_abstain": float(ab[ye == 1].mean()),
            }
    model = {"weights": dict(zip(FEATURES, map(float, np.round(w, 4)))), "threshold": thr,
             "fitted_on": [Path(g).name for g in args.gold], "n": int(len(y)),
             "report": report}
    out = args.out or Path(str(resources.files("retrieval").joinpath("data/abstain.json")))
    Path(out).write_text(json.dumps(model, indent=2) + "\n")
    print(json.dumps({k: v for k, v in model.items() if k != "report"}, indent=2))
    for k, v in report.items():
        if k == "in_sample":
            print("in-sample trade-off (threshold: abstain on unanswerable / false abstain):")
            for row in v:
                print(f"  {row['threshold']:.2f}: {row['abstain_unanswerable']:.2f} / "
                      f"{row['false_abstain']:.2f}")
        else:
            print(f"{k}: {v}")


if __name__ == "__main__":
    main()
