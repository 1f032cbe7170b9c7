"""The index build spread over a Ray cluster (`reportqa index build --ray [ADDRESS]`).

Only the costly work leaves the driver. Each file is read, cleaned and split into
passages by one Ray task, retried if its worker dies and given up on after its time
limit (scaled by its pages), as a local build gives up on a stuck file. Embedding goes
to one pool of actors per build, one per CPU (or GPU), each loading the passage and
sentence models once. The driver does what it does in a local build: it hashes the corpus, works out
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

#: Texts handed to the embedding actors at once (shared out over all of them).
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
        self._replicas: list | None = None

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
        self.cpus = int(ray.cluster_resources().get("CPU", 1))
        self.gpus = int(ray.cluster_resources().get("GPU", 0))
        log.info("ray cluster: %d CPU(s), %d GPU(s)%s", self.cpus, self.gpus,
                 f" at {self.address}" if self.address else " (local)")
        return self

    def __exit__(self, *exc) -> None:
        ray = _ray()
        for a in self._replicas or []:
            ray.kill(a)
        self._replicas = None
        if self._started:
            ray.shutdown()

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
        return RayEmbedder(model, self, batch_size)

    def replicas(self) -> list:
        """The build's embedding actors, started on first use and kept until the build
        ends: one per CPU (or GPU) of the cluster, each loading a model the first time
        it is asked for it — the passage model and the sentence model share them.
        They reserve no CPU: the build reads files while it embeds, and actors holding
        every CPU would leave those reads waiting for ever. A killed actor restarts
        and its batch is retried."""
        if self._replicas is None:
            ray = _ray()
            n = max(1, self.gpus if self.gpus_per_actor else self.cpus)
            actor = ray.remote(num_cpus=0, num_gpus=self.gpus_per_actor or None,
                               scheduling_strategy="SPREAD", max_restarts=READ_RETRIES,
                               max_task_retries=READ_RETRIES)(_Replica)
            self._replicas = [actor.remote() for _ in range(n)]
        return self._replicas


class _Replica:
    """A Ray actor encoding texts with any of the build's models, each loaded once in
    its process (ingest.embed.get_embedder keeps them)."""

    def encode(self, model: str, texts: list[str]) -> np.ndarray:
        from ingest.embed import get_embedder

        return get_embedder(model).encode(texts, batch_size=32)

    def dimension(self, model: str) -> int:
        from ingest.embed import get_embedder

        return get_embedder(model).dimension


class RayEmbedder:
    """Texts to vectors on the cluster's actors (RayCluster.replicas), shared out in
    slices. `chunk` tells embed_cached how many texts to hand over at once."""

    chunk = EMBED_CHUNK

    def __init__(self, model: str, cluster: RayCluster, batch_size: int):
        self.name = model
        self.cluster = cluster
        self.batch_size = batch_size
        self._dim: int | None = None

    @property
    def dimension(self) -> int:
        """The model's vector size, asked of an actor (the driver loads no model)."""
        if self._dim is None:
            self._dim = int(_ray().get(self.cluster.replicas()[0].dimension.remote(self.name)))
        return self._dim

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False
               ) -> np.ndarray:
        """Vectors for texts, in order, float32 and unit length, as Embedder.encode."""
        from ray.util import ActorPool

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        actors = self.cluster.replicas()
        # Slices big enough to keep an actor busy, small enough to share the texts out
        # over every actor.
        per = max(batch_size, min(512, -(-len(texts) // len(actors))))
        slices = [texts[i:i + per] for i in range(0, len(texts), per)]
        parts = ActorPool(actors).map(lambda a, v: a.encode.remote(self.name, v), slices)
        return np.concatenate([np.asarray(p, dtype=np.float32) for p in parts])
