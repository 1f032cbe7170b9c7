"""The index build spread over a Ray cluster (`reportqa index build --ray [ADDRESS]`).

Only the costly work leaves the driver. Each file is read, cleaned and split into
passages by one Ray task, retried if its worker dies and given up on after its time
limit (scaled by its pages), as a local build gives up on a stuck file. Embedding goes
through Ray Data: `map_batches` over an actor pool, one model replica per actor, on CPU
or GPU. The driver does what it does in a local build: it hashes the corpus, works out
what is unchanged, moved or new, reuses cached vectors, and writes the same segments,
manifest and checksums, then swaps the build in atomically. A laptop opens the result
like any local index, and a failed distributed build leaves the previous one serving.

Ray is optional (`pip install -e '.[cluster]'`): nothing else imports this module."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from core.errors import ReportQAError
from ingest.pipeline import (
    IngestResult,
    _crashed,
    _work,
    file_time_limit,
    printable,
    timeout_message,
)

log = logging.getLogger(__name__)

#: Texts sent to the embedding actors at once: large, so that starting the actor pool
#: (each actor loads the model) is paid once per chunk, not once per small batch.
EMBED_CHUNK = 4096
#: Times Ray reruns a file's task whose worker died, before the file is named failed.
READ_RETRIES = 2


def _ray():
    try:
        import ray
    except ImportError:
        raise ReportQAError("Ray is not installed", fix="pip install -e '.[cluster]' (on "
                            "the driver and every node of the cluster)") from None
    return ray


class RayCluster:
    """A connection to a Ray cluster for one build: `address` names a running cluster
    ("auto", "ray://head:10001", "head:6379"); None or "local" starts one on this
    machine with `workers` CPUs, shut down when the build ends."""

    def __init__(self, address: str | None = None, workers: int | None = None,
                 gpus_per_actor: float = 0.0):
        self.address = None if address in (None, "", "local") else address
        self.workers = workers
        self.gpus_per_actor = gpus_per_actor
        self._started = False

    def __enter__(self) -> RayCluster:
        ray = _ray()
        if not ray.is_initialized():
            kwargs = {"include_dashboard": False, "log_to_driver": False,
                      "configure_logging": False}
            if self.address:
                ray.init(address=self.address, **kwargs)
            else:
                # A local cluster's workers run this Python, so they import reportqa
                # as the driver does; a real cluster's nodes need it installed.
                ray.init(num_cpus=self.workers, **kwargs)
            self._started = True
        import ray.data

        # The build's own bars and summary report progress; Ray Data's would repeat
        # them, once per embedding chunk.
        ray.data.DataContext.get_current().enable_progress_bars = False
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        self.cpus = int(ray.cluster_resources().get("CPU", 1))
        self.gpus = int(ray.cluster_resources().get("GPU", 0))
        log.info("ray cluster: %d CPU(s), %d GPU(s)%s", self.cpus, self.gpus,
                 f" at {self.address}" if self.address else " (local)")
        return self

    def __exit__(self, *exc) -> None:
        if self._started:
            _ray().shutdown()

    # -- reading ------------------------------------------------------------------------

    def ingest_many(self, paths: list[Path], digests: dict[str, str], settings,
                    progress=None, rel_paths: dict[Path, str] | None = None
                    ) -> Iterator[IngestResult]:
        """What ingest.pipeline.ingest_many yields, read by Ray tasks across the
        cluster, in the order of `paths` (as a local build writes them, so both give
        the same index): a file whose task outlives its time limit (file_time_limit) is
        cancelled and named; a task whose worker dies is rerun up to READ_RETRIES
        times, then named."""
        ray = _ray()
        rel_paths = rel_paths or {p: p.name for p in paths}
        read = ray.remote(max_retries=READ_RETRIES, num_cpus=1)(_work)
        order, running = [], {}
        for p in paths:
            job = (str(p), digests.get(rel_paths[p], ""), settings.min_words,
                   settings.max_words, rel_paths[p])
            ref = read.remote(job)
            order.append(ref)
            running[ref] = (job, time.monotonic(), file_time_limit(p, settings))
        finished: dict = {}
        for ref in order:
            while ref not in finished:
                done, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
                now = time.monotonic()
                for d in done:
                    job, _started, _limit = running.pop(d)
                    try:
                        finished[d] = ray.get(d)
                    except Exception as e:  # noqa: BLE001 — a worker died past retries
                        finished[d] = _crashed(job[0], e, job[4])
                    if progress is not None:
                        progress.update(1)
                # Time runs from submission: a file queued behind a busy cluster gets
                # the limit once for each round of the queue ahead of it.
                depth = max(1, -(-len(running) // max(1, self.cpus)))
                for r, (job, started, limit) in list(running.items()):
                    if now - started > limit * (depth + 1):
                        ray.cancel(r, force=True)
                        running.pop(r)
                        finished[r] = IngestResult(
                            path=job[0], error=timeout_message(printable(job[4]), limit))
                        if progress is not None:
                            progress.update(1)
            yield finished.pop(ref)

    # -- embedding ----------------------------------------------------------------------

    def embedder(self, model: str, batch_size: int) -> RayEmbedder:
        """An embedder (the interface ingest.vector_cache.embed_cached uses) whose
        encode runs on the cluster's actors."""
        actors = max(1, self.gpus if self.gpus_per_actor else self.cpus)
        return RayEmbedder(model, actors, batch_size, self.gpus_per_actor)


class _Replica:
    """A Ray Data actor: one model replica, encoding batches of texts."""

    def __init__(self, model: str):
        from ingest.embed import get_embedder

        self.embedder = get_embedder(model)

    def __call__(self, batch: dict) -> dict:
        texts = [str(t) for t in batch["text"]]
        return {"i": batch["i"], "vector": self.embedder.encode(texts, batch_size=32)}


def _dimension(model: str) -> int:
    from ingest.embed import get_embedder

    return get_embedder(model).dimension


class RayEmbedder:
    """Texts to vectors on the cluster: Ray Data `map_batches` over an actor pool of
    `actors` model replicas (each on `gpus` GPUs, or one CPU). `chunk` tells
    embed_cached how many texts to hand over at once."""

    chunk = EMBED_CHUNK

    def __init__(self, model: str, actors: int, batch_size: int, gpus: float = 0.0):
        self.name = model
        self.actors = actors
        self.batch_size = batch_size
        self.gpus = gpus
        self._dim: int | None = None

    @property
    def dimension(self) -> int:
        """The model's vector size, asked of a worker (the driver loads no model)."""
        if self._dim is None:
            ray = _ray()
            self._dim = int(ray.get(ray.remote(num_cpus=1)(_dimension).remote(self.name)))
        return self._dim

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False
               ) -> np.ndarray:
        """Vectors for texts, in order, float32 and unit length, as Embedder.encode."""
        import ray.data

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        ds = ray.data.from_items([{"i": i, "text": t} for i, t in enumerate(texts)])
        # Batches big enough to keep a replica busy, small enough to share the texts
        # out over every actor.
        per = max(batch_size, min(512, -(-len(texts) // self.actors)))
        pool = ray.data.ActorPoolStrategy(size=min(self.actors, -(-len(texts) // per)))
        out = ds.map_batches(_Replica, fn_constructor_args=(self.name,), batch_size=per,
                             batch_format="numpy", compute=pool,
                             num_cpus=0 if self.gpus else 1, num_gpus=self.gpus or None)
        vecs = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for b in out.iter_batches(batch_size=None, batch_format="numpy"):
            vecs[np.asarray(b["i"], dtype=np.int64)] = np.stack(b["vector"])
        return vecs
