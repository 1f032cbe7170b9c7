"""Recall of approximate FAISS indexes on *real-model* vectors at up to 1M passages.

Embedding a million passages with all-MiniLM-L6-v2 takes ~12 hours on the 2-core
machine, so this script does it where a CUDA GPU is at hand (it also runs, slowly, on a
CPU with small --sizes). It generates the synthetic corpus (benchmarks/scaler.py, same
seed as the CPU benchmarks), embeds every passage with the same model in float16 on the
GPU (checked against CPU float32 vectors for cosine), computes exact top-10 for 1,000
questions, and sweeps HNSW / float16 / int8 / PQ / IVF indexes with benchmarks/ann.py.
Recall is a property of the vectors and index parameters, not of the machine; the
latency columns it prints are the GPU machine's CPU's and are not used.

    python benchmarks/gpu_real_vectors.py --model MODEL_DIR --out OUT_DIR \\
        [--sizes 100000,1000000] [--budget-s 420] [--ref REF.npz]

Writes OUT_DIR/gpu_recall.json, plus the first 100k real vectors as int8 (3 files) and
the question vectors, so the CPU benchmarks can compare stand-in and real vectors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _gen(args):
    start, n, seed = args
    from benchmarks import scaler

    out = []
    for rep in scaler.iter_reports(n, seed, start):
        _, ps = scaler.report_passages(rep)
        out.extend(p.embed_text for p in ps)
    return out


def _tok(args):
    path, texts, max_len = args
    from tokenizers import Tokenizer

    t = Tokenizer.from_file(str(Path(path) / "tokenizer.json"))
    t.no_padding()
    t.enable_truncation(max_len)
    return [e.ids for e in t.encode_batch(texts)]


def fast_embed(model_dir: str, texts: list[str], dev: str, batch: int = 1024,
               workers: int = 8, max_len: int = 256) -> np.ndarray:
    """What SentenceTransformer.encode computes for this model (mean pooling over the
    attention mask, normalised), with tokenisation spread over processes and batches
    sorted by length: the GPU is otherwise starved by the single-threaded tokeniser
    loop (2.6k passages/s)."""
    from multiprocessing import get_context

    import torch
    from transformers import AutoModel

    step = 20_000
    chunks = [(model_dir, texts[i: i + step], max_len) for i in range(0, len(texts), step)]
    with get_context("spawn").Pool(workers) as pool:
        ids = [x for part in pool.map(_tok, chunks) for x in part]
    m = AutoModel.from_pretrained(model_dir).to(dev).eval()
    if dev == "cuda":
        m = m.half()
    order = np.argsort([-len(x) for x in ids], kind="stable")
    out = np.zeros((len(ids), m.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for s in range(0, len(order), batch):
            idx = order[s: s + batch]
            n = len(ids[idx[0]])
            a = np.zeros((len(idx), n), dtype=np.int64)
            mask = np.zeros((len(idx), n), dtype=np.int64)
            for r, i in enumerate(idx):
                a[r, : len(ids[i])] = ids[i]
                mask[r, : len(ids[i])] = 1
            ta = torch.from_numpy(a).to(dev)
            tm = torch.from_numpy(mask).to(dev)
            h = m(input_ids=ta, attention_mask=tm, token_type_ids=torch.zeros_like(ta)
                  ).last_hidden_state.float()
            mm = tm.unsqueeze(-1).float()
            v = (h * mm).sum(1) / mm.sum(1).clamp(min=1e-9)
            v = torch.nn.functional.normalize(v, dim=1)
            out[idx] = v.cpu().numpy()
    return out


def synthetic_texts(n: int, seed: int = 0, workers: int = 8) -> list[str]:
    """The first n passages' embedding texts of the synthetic corpus, exactly as
    scaler.iter_passages(n, seed) gives them (reports generated in parallel)."""
    from multiprocessing import Pool

    per = 250
    n_reports = int(n / 80) + 2 * per  # reports average ~92 passages
    jobs = [(s, min(per, n_reports - s), seed) for s in range(0, n_reports, per)]
    texts: list[str] = []
    with Pool(workers) as pool:
        for chunk in pool.imap(_gen, jobs):
            texts.extend(chunk)
            if len(texts) >= n:
                break
    return texts[:n]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--sizes", default="100000,1000000")
    ap.add_argument("--budget-s", type=float, default=420)
    ap.add_argument("--ref", type=Path, help="npz with CPU fp32 'texts' and 'vectors'")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--fast", action="store_true",
                    help="parallel tokenisation + direct model calls (same vectors)")
    ap.add_argument("--specs", default="default",
                    help="'default' or 'focus' (fp16/sq8 flat, HNSW M48, IVF) for big runs")
    ap.add_argument("--make-ref", action="store_true",
                    help="write --ref from the first 256 passages on this machine (fp32)")
    a = ap.parse_args(argv)
    if a.make_ref:
        from sentence_transformers import SentenceTransformer

        texts = synthetic_texts(128, workers=1)
        m = SentenceTransformer(a.model, device="cpu")
        v = m.encode(texts, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
        np.savez_compressed(a.ref, texts=np.array(texts), vectors=v.astype(np.float32))
        return 0
    t0 = time.monotonic()
    deadline = t0 + a.budget_s
    a.out.mkdir(parents=True, exist_ok=True)
    res: dict = {"sizes": {}, "notes": []}

    def save():
        (a.out / "gpu_recall.json").write_text(json.dumps(res, indent=2))

    def log(msg):
        print(f"[{time.monotonic() - t0:6.1f}s] {msg}", flush=True)

    sizes = sorted(int(x) for x in a.sizes.split(","))
    nmax = sizes[-1]
    t = time.monotonic()
    # Generated before torch starts (the worker processes are forked).
    texts = synthetic_texts(nmax, workers=min(16, os.cpu_count() or 1))
    res["generate_s"] = round(time.monotonic() - t, 1)
    log(f"generated {len(texts):,} passages")
    import torch
    from sentence_transformers import SentenceTransformer

    dev = "cuda" if torch.cuda.is_available() else "cpu"
    model = SentenceTransformer(a.model, device=dev)
    if dev == "cuda":
        model.half()
    res["device"] = torch.cuda.get_device_name(0) if dev == "cuda" else "cpu"
    res["dtype"] = "float16" if dev == "cuda" else "float32"

    def embed(xs):
        if a.fast and len(xs) > 5000:
            return fast_embed(a.model, xs, dev, workers=min(16, os.cpu_count() or 1))
        return model.encode(xs, batch_size=a.batch, convert_to_numpy=True,
                            normalize_embeddings=True, show_progress_bar=False
                            ).astype(np.float32)

    if a.ref and a.ref.exists():
        ref = np.load(a.ref, allow_pickle=False)
        v = embed([str(x) for x in ref["texts"]])
        c = np.sum(v * ref["vectors"], axis=1)
        res["fidelity_vs_cpu_fp32"] = {"n": len(c), "cos_min": float(c.min()),
                                       "cos_mean": float(c.mean())}
        log(f"fidelity {res['fidelity_vs_cpu_fp32']}")
    # Embed the first 100k, time it, and only go on to nmax if the budget allows.
    t = time.monotonic()
    first = min(nmax, 100_000)
    X = embed(texts[:first])
    rate = first / (time.monotonic() - t)
    res["embed_per_s"] = round(rate, 1)
    log(f"embedded {first:,} at {rate:,.0f}/s")
    left = deadline - time.monotonic()
    if nmax > first:
        can = int(min(nmax - first, rate * max(0.0, left * 0.5)))
        if can < nmax - first:
            res["notes"].append(f"budget: embedded {first + can:,} of {nmax:,}")
            sizes = [s for s in sizes if s <= first + can] + ([first + can] if can > 0
                                                              else [])
            sizes = sorted(set(sizes))
        if can > 0:
            X = np.concatenate([X, embed(texts[first: first + can])])
        log(f"embedded {len(X):,} passages in total")
    from benchmarks.scaler import questions

    Q = embed(questions(a.queries, seed=1))
    # The first 100k real vectors as int8 (scale 1/127; |x| < 1 for unit vectors) and
    # the question vectors, for comparing stand-in and real vectors on the CPU machine.
    q8 = np.clip(np.round(X[:100_000] * 127), -127, 127).astype(np.int8)
    for i, part in enumerate(np.array_split(q8, 3)):
        np.save(a.out / f"real100k_int8_{i}.npy", part, allow_pickle=False)
    np.save(a.out / "queries_fp32.npy", Q, allow_pickle=False)
    save()

    try:
        import faiss
    except ImportError:
        res["notes"].append("faiss not importable: no ANN sweep")
        save()
        return 0
    from benchmarks import ann

    faiss.omp_set_num_threads(min(16, os.cpu_count() or 1))
    for n in sizes:
        if time.monotonic() > deadline:
            res["notes"].append(f"out of time before size {n}")
            break
        Xn = np.ascontiguousarray(X[:n])
        if dev == "cuda":
            xt = torch.from_numpy(Xn).to(dev)
            qt = torch.from_numpy(Q).to(dev)
            truth = torch.topk(qt @ xt.T, 10, dim=1).indices.cpu().numpy()
            del xt, qt
            torch.cuda.empty_cache()
        else:
            truth = ann.exact_topk(Xn, Q, 10)
        big = n >= 500_000
        if a.specs == "focus":
            specs = [
                {"type": "flat-fp16"},
                {"type": "hnsw", "M": 48, "efConstruction": 200,
                 "efSearch": [128, 256, 512, 1024]},
                {"type": "flat-sq8"},
                {"type": "ivf-flat", "nlist": 4096, "nprobe": [64, 128, 256, 512]},
            ]
            rows = ann.sweep(Xn, Q, specs, truth=truth,
                             build_threads=min(16, os.cpu_count() or 1), search_threads=1,
                             deadline=deadline, log=log)
            res["sizes"][str(n)] = rows
            save()
            continue
        specs = [
            {"type": "hnsw", "M": 32, "efConstruction": 80, "efSearch": [16, 32, 64, 128, 256]},
            {"type": "hnsw-fp16", "M": 32, "efConstruction": 80, "efSearch": [64, 128, 256]},
            {"type": "flat-fp16"},
            {"type": "flat-sq8"},
            {"type": "hnsw", "M": 16, "efConstruction": 80, "efSearch": [32, 64, 128, 256]},
            {"type": "hnsw", "M": 32, "efConstruction": 40, "efSearch": [64, 128]},
            {"type": "ivf-flat", "nlist": 4096 if big else 1024, "nprobe": [16, 32, 64, 128]},
        ] + ([] if big else [{"type": "pq", "m": 96}])
        rows = ann.sweep(Xn, Q, specs, truth=truth,
                         build_threads=min(16, os.cpu_count() or 1), search_threads=1,
                         deadline=deadline, log=log)
        res["sizes"][str(n)] = rows
        save()
    res["seconds"] = round(time.monotonic() - t0, 1)
    save()
    log("done")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
