"""Approximate vs exact vector search: recall@10 against exact inner-product search,
single-query latency, build time and memory for the FAISS indexes reportqa could use.

Used by benchmarks/run.py (stand-in vectors at 100k/1M, real-model vectors at the
largest size embedded here) and by benchmarks/gpu_real_vectors.py (real-model vectors
up to 1M made on a GPU machine). Recall depends on the vectors, so it is reported with
where they came from; latency and memory do not.
"""

from __future__ import annotations

import time

import numpy as np


def exact_topk(X: np.ndarray, Q: np.ndarray, k: int = 10) -> np.ndarray:
    """Exact top-k ids by inner product (FAISS flat, batched)."""
    import faiss

    ix = faiss.IndexFlatIP(X.shape[1])
    ix.add(X)
    _, ids = ix.search(Q, k)
    return ids


def recall_at(ids: np.ndarray, truth: np.ndarray, k: int = 10) -> float:
    """Mean share of the exact top-k found in the approximate results (all of ids'
    columns: pass 10 columns for recall@10, 60 for "found among the 60 candidates")."""
    hits = [len(set(a) & set(b[:k])) / k for a, b in zip(ids, truth)]
    return float(np.mean(hits))


def recall_ties(scores: np.ndarray, truth_scores: np.ndarray, k: int = 10) -> float:
    """Recall that forgives ties: the share of the approximate top-k whose similarity
    reaches the exact k-th similarity (near-duplicate passages make the exact top-k
    ambiguous, which id-based recall counts as misses)."""
    kth = truth_scores[:, k - 1: k] - 1e-5
    return float(np.mean(np.sum(scores[:, :k] >= kth, axis=1) / k))


def _latency(index, Q: np.ndarray, k: int, reps: int = 200) -> dict:
    n = min(reps, len(Q))
    lat = []
    for i in range(n):
        t = time.perf_counter()
        index.search(Q[i: i + 1], k)
        lat.append((time.perf_counter() - t) * 1000)
    a = np.asarray(lat)
    return {"p50_ms": float(np.percentile(a, 50)), "p95_ms": float(np.percentile(a, 95))}


def make_index(spec: dict, X: np.ndarray):
    """Build one index from a spec: {"type": "flat"|"flat-fp16"|"flat-sq8"|"hnsw"|
    "hnsw-fp16"|"hnsw-sq8"|"pq"|"ivf-flat", ...params}."""
    import faiss

    d = X.shape[1]
    ip = faiss.METRIC_INNER_PRODUCT
    t = spec["type"]
    if t == "flat":
        ix = faiss.IndexFlatIP(d)
    elif t == "flat-fp16":
        ix = faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_fp16, ip)
    elif t == "flat-sq8":
        ix = faiss.IndexScalarQuantizer(d, faiss.ScalarQuantizer.QT_8bit, ip)
    elif t == "hnsw":
        ix = faiss.IndexHNSWFlat(d, spec["M"], ip)
    elif t == "hnsw-fp16":
        ix = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_fp16, spec["M"], ip)
    elif t == "hnsw-sq8":
        ix = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_8bit, spec["M"], ip)
    elif t == "pq":
        ix = faiss.IndexPQ(d, spec["m"], 8, ip)
    elif t == "ivf-flat":
        q = faiss.IndexFlatIP(d)
        ix = faiss.IndexIVFFlat(q, d, spec["nlist"], ip)
        ix.cp.max_points_per_centroid = 64  # train on a sample: k-means on 2 cores
    else:
        raise ValueError(t)
    if t.startswith("hnsw"):
        ix.hnsw.efConstruction = spec.get("efConstruction", 80)
    if not ix.is_trained:
        rng = np.random.default_rng(0)
        sample = X[rng.choice(len(X), size=min(len(X), 100_000), replace=False)]
        ix.train(sample)
    ix.add(X)
    return ix


def index_bytes(index) -> int:
    """Serialized size (what vectors.faiss takes on disk and, loaded, in memory)."""
    import faiss

    return int(faiss.serialize_index(index).size)


def sweep(X: np.ndarray, Q: np.ndarray, specs: list[dict], *, k: int = 10,
          truth: np.ndarray | None = None, search_threads: int = 1,
          build_threads: int | None = None, deadline: float | None = None,
          log=print) -> list[dict]:
    """Recall@k, latency, build time and size of each spec. Specs with "efSearch" (a
    list) or "nprobe" (a list) are measured at each value from one build. Stops
    (returning what it has) once time.monotonic() passes deadline."""
    import faiss

    X = np.ascontiguousarray(X, dtype=np.float32)
    Q = np.ascontiguousarray(Q, dtype=np.float32)
    if truth is None:
        truth = exact_topk(X, Q, k)
    # Exact similarities of the true top-k (for tie-forgiving recall).
    truth_scores = np.sort(np.einsum("qd,qkd->qk", Q, X[truth]), axis=1)[:, ::-1]
    rows = []
    for spec in specs:
        if deadline and time.monotonic() > deadline:
            log(f"  ann: out of time, skipped {spec}")
            continue
        if build_threads:
            faiss.omp_set_num_threads(build_threads)
        t = time.perf_counter()
        ix = make_index(spec, X)
        build_s = time.perf_counter() - t
        size = index_bytes(ix)
        faiss.omp_set_num_threads(search_threads)
        params = [("efSearch", v) for v in spec.get("efSearch", [])] or \
                 [("nprobe", v) for v in spec.get("nprobe", [])] or [(None, None)]
        for name, v in params:
            if name == "efSearch":
                ix.hnsw.efSearch = v
            elif name == "nprobe":
                ix.nprobe = v
            # Searched for 60 like retrieval.search.Searcher.dense, whose top 10 (and
            # whose 60 candidates, fused and reranked) are what the answer path sees.
            _, ids60 = ix.search(Q, max(k, 60))
            ids = ids60[:, :k]
            # Re-score with the exact vectors: quantised indexes return approximate scores.
            sc = np.einsum("qd,qkd->qk", Q, X[np.maximum(ids, 0)])
            sc = np.where(ids >= 0, sc, -1.0)
            sc = -np.sort(-sc, axis=1)
            row = {"type": spec["type"], **{p: spec[p] for p in ("M", "m", "nlist",
                                                                  "efConstruction")
                                            if p in spec},
                   "n": len(X), "recall@10": round(recall_at(ids, truth, k), 4),
                   "recall@10_ties": round(recall_ties(sc, truth_scores, k), 4),
                   "cand_recall@10in60": round(recall_at(ids60, truth, k), 4),
                   "build_s": round(build_s, 1), "bytes": size,
                   **_latency(ix, Q, max(k, 60), reps=200 if len(X) < 500_000 or
                              spec["type"].startswith("hnsw") else 30)}
            if name:
                row[name] = v
            rows.append(row)
            log(f"  ann {row}")
        del ix
    return rows
