"""A process-wide thread pool that survives fork().

A forked child inherits a ThreadPoolExecutor without its threads: where the parent's
workers had gone idle, the child's pool believes one is waiting, starts none, and a
task the child submits waits forever. A child forked from a process that had answered
a question (the keyword search's pool) or embedded one (the model's side-by-side
pool) hung on its first question. This pool starts a fresh executor in each child."""

from __future__ import annotations

import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor


class ThreadPool:
    """A ThreadPoolExecutor of `workers` threads named `name`, made on first use and
    made anew in a forked child."""

    def __init__(self, workers: int, name: str):
        self._workers = workers
        self._name = name
        self._pool: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        # Runs in the child straight after fork, while it has one thread: the
        # parent's executor, and this lock should another thread have held it, are
        # dropped, not used.
        os.register_at_fork(after_in_child=self._forget)

    def _forget(self) -> None:
        self._pool = None
        self._lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        """Run fn(*args, **kwargs) on one of the pool's threads."""
        pool = self._pool
        if pool is None:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(
                        max_workers=self._workers, thread_name_prefix=self._name)
                pool = self._pool
        return pool.submit(fn, *args, **kwargs)
