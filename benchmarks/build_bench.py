"""reportqa's full build beside the simplest pipeline, on the same PDFs in the same run.

The simplest pipeline is the one Haystack documents: pypdf's text, 200-word chunks, the
same sentence-transformers model, a FAISS flat index. reportqa's is `build_index` from
an empty index and an empty embedding cache: reading, cleaning, structure, passages,
everything it embeds, the keyword index, the lexicon and the commit. The model is
loaded before either is timed, and each runs twice (simple, reportqa, simple, reportqa)
so that a busy machine slows both alike; the figures are the faster of each pair.

    python benchmarks/build_bench.py --pdfs DIR [--files 4] [--json out.json]
        [--before CHECKOUT]

--before times the build of another checkout of reportqa (e.g. a git worktree of an
earlier commit) on the same PDFs in the same rounds, in a process of its own.

Prints pages, passages or chunks, texts embedded (per passage), seconds, pages per
minute, and reportqa's time ÷ the simple pipeline's (target ≤ 1.5).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

CHUNK_WORDS = 200


def simple_pipeline(pdfs: list[Path], model_path: str, st_model=None) -> dict:
    """pypdf text → 200-word chunks → the model → a FAISS flat index."""
    import faiss
    import numpy as np
    from pypdf import PdfReader

    t = time.perf_counter()
    chunks, pages = [], 0
    for pdf in pdfs:
        reader = PdfReader(str(pdf))
        words: list[str] = []
        for page in reader.pages:
            pages += 1
            words.extend((page.extract_text() or "").split())
        chunks.extend(" ".join(words[i:i + CHUNK_WORDS])
                      for i in range(0, len(words), CHUNK_WORDS))
    vecs = st_model.encode(chunks, batch_size=32, normalize_embeddings=True,
                           convert_to_numpy=True)
    index = faiss.IndexFlatIP(vecs.shape[1])
    index.add(np.ascontiguousarray(vecs, dtype=np.float32))
    s = time.perf_counter() - t
    return {"pages": pages, "chunks": len(chunks), "texts_embedded": len(chunks),
            "seconds": round(s, 1), "pages_per_min": round(pages / s * 60, 1)}


def reportqa_build(pdfs: list[Path], work: Path, embedder) -> dict:
    """`build_index` from nothing: an empty index folder and embedding cache."""
    from core.settings import load_settings
    from ingest.index import build_index

    shutil.rmtree(work, ignore_errors=True)
    corpus = work / "corpus"
    corpus.mkdir(parents=True)
    for p in pdfs:
        (corpus / p.name).symlink_to(p.resolve())
    t = time.perf_counter()
    summ = build_index(load_settings(corpus_dir=corpus, index_dir=work / "index"),
                       full=True, embedder=embedder)
    s = time.perf_counter() - t
    from retrieval.store import Store

    pages = sum(r.pages or 0 for r in Store(work / "index").reports)
    shutil.rmtree(work, ignore_errors=True)
    return {"pages": pages, "passages": summ.passages, "texts_embedded": summ.embedded,
            "texts_per_passage": round(summ.embedded / max(summ.passages, 1), 2),
            "seconds": round(s, 1), "pages_per_min": round(pages / s * 60, 1),
            "failed": [str(f) for f in summ.failed]}


_BEFORE = """
import json, sys, tempfile, time, shutil
from pathlib import Path
from core.settings import DEFAULT_MODEL, load_settings
from ingest.embed import get_embedder
from ingest.index import build_index
emb = get_embedder(DEFAULT_MODEL)
emb.encode(["load the model first, outside the timing"])
work = Path(tempfile.mkdtemp(prefix="reportqa-build-before-"))
corpus = work / "corpus"
corpus.mkdir()
for p in sys.argv[1:]:
    (corpus / Path(p).name).symlink_to(p)
t = time.perf_counter()
s = build_index(load_settings(corpus_dir=corpus, index_dir=work / "index"), full=True,
                embedder=emb)
sec = time.perf_counter() - t
shutil.rmtree(work, ignore_errors=True)
print(json.dumps({"passages": s.passages, "texts_embedded": s.embedded,
                  "seconds": round(sec, 1)}))
"""


def before_build(pdfs: list[Path], checkout: Path, pages: int) -> dict:
    """Another checkout's `build_index` on the same PDFs, in its own process."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(checkout)}
    p = subprocess.run([sys.executable, "-c", _BEFORE, *[str(x.resolve()) for x in pdfs]],
                       cwd=checkout, env=env, capture_output=True, text=True, check=True)
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["texts_per_passage"] = round(out["texts_embedded"] / max(out["passages"], 1), 2)
    out["pages_per_min"] = round(pages / out["seconds"] * 60, 1)
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pdfs", type=Path, required=True, help="a folder of PDFs")
    ap.add_argument("--files", type=int, default=4, help="the first N PDFs by name")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--before", type=Path, help="another checkout of reportqa to time too")
    args = ap.parse_args(argv)
    pdfs = sorted(args.pdfs.glob("*.pdf"))[: args.files]
    from sentence_transformers import SentenceTransformer

    from core.settings import DEFAULT_MODEL
    from ingest.embed import get_embedder, resolve_model

    path = str(resolve_model(DEFAULT_MODEL))
    st = SentenceTransformer(path, device="cpu")
    st.encode(["load the model first, outside the timing"])
    emb = get_embedder(DEFAULT_MODEL)
    emb.encode(["load the model first, outside the timing"])
    simple, ours, before = [], [], []
    with tempfile.TemporaryDirectory(prefix="reportqa-build-bench-") as tmp:
        for r in range(args.rounds):
            simple.append(simple_pipeline(pdfs, path, st))
            print(f"round {r + 1} simple pipeline: {simple[-1]}", flush=True)
            ours.append(reportqa_build(pdfs, Path(tmp) / "build", emb))
            print(f"round {r + 1} reportqa build:  {ours[-1]}", flush=True)
            if args.before:
                before.append(before_build(pdfs, args.before, ours[-1]["pages"]))
                print(f"round {r + 1} before:          {before[-1]}", flush=True)
    best_s = min(simple, key=lambda x: x["seconds"])
    best_o = min(ours, key=lambda x: x["seconds"])
    out = {"files": [p.name for p in pdfs], "simple": best_s, "reportqa": best_o,
           "ratio": round(best_o["seconds"] / best_s["seconds"], 2),
           "rounds": {"simple": simple, "reportqa": ours, "before": before}}
    if before:
        best_b = min(before, key=lambda x: x["seconds"])
        out["before"] = best_b
        out["before_ratio"] = round(best_b["seconds"] / best_s["seconds"], 2)
    print(f"\n{len(pdfs)} PDFs, {best_s['pages']} pages (pypdf) / {best_o['pages']} "
          "(reportqa)")
    print(f"{'':10} {'seconds':>8} {'pages/min':>10} {'texts embedded':>15} "
          f"{'per passage':>12}")
    print(f"{'simple':10} {best_s['seconds']:8} {best_s['pages_per_min']:10} "
          f"{best_s['texts_embedded']:15} {'1 (chunks)':>12}")
    print(f"{'reportqa':10} {best_o['seconds']:8} {best_o['pages_per_min']:10} "
          f"{best_o['texts_embedded']:15} {best_o['texts_per_passage']:12}")
    if before:
        print(f"{'before':10} {best_b['seconds']:8} {best_b['pages_per_min']:10} "
              f"{best_b['texts_embedded']:15} {best_b['texts_per_passage']:12}")
        print(f"before ÷ simple: {out['before_ratio']}")
    print(f"reportqa ÷ simple: {out['ratio']} (target ≤ 1.5)")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
