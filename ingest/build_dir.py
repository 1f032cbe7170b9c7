"""Housekeeping of an index folder's builds: the lock that lets one build run at a
time, and removing what crashed or superseded builds left behind. The folder's layout
and files are ingest/index_format's.

A build writes its new segment and a new build folder under temporary names, and only
when everything is written does it move the folder into place and replace the pointer
to the live build (ingest.index_format.commit_build), so readers see the old index or
the new one, never a half-built one. A crashed build leaves only temporary folders,
which the next build removes. Segments no kept build lists are removed by the build
after."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
import time
from pathlib import Path

from core.errors import BuildLocked
from ingest.index_format import IndexPaths, is_tmp, listed_segments

__all__ = ["build_lock", "cleanup_debris"]

#: Finished builds kept: the live one and the two before it (readers that opened them
#: keep working).
KEEP_BUILDS = 3


@contextlib.contextmanager
def build_lock(index_dir: Path, wait_s: float = 0.0):
    """Hold the index's build lock; a second build waits up to wait_s, then refuses.
    flock is released by the kernel if the process dies, so a crash leaves no stale
    lock behind."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fh = open(IndexPaths(index_dir).lock, "a+")
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                fh.seek(0)
                holder = fh.read().strip() or "another process"
                fh.close()
                raise BuildLocked(
                    f"another index build is running on {index_dir} ({holder})",
                    fix="wait for it to finish, or pass --wait SECONDS",
                ) from None
            time.sleep(0.2)
    fh.seek(0)
    fh.truncate()
    fh.write(f"pid {os.getpid()}, started {dt.datetime.now().isoformat(timespec='seconds')}")
    fh.flush()
    try:
        yield
    finally:
        fh.seek(0)
        fh.truncate()
        fcntl.flock(fh, fcntl.LOCK_UN)
        fh.close()


def cleanup_debris(index_dir: Path, keep: set[str]) -> None:
    """Remove crashed builds' temporary folders, all but the KEEP_BUILDS newest
    finished builds (keeping `keep`), and the segments no remaining build lists."""
    paths = IndexPaths(index_dir)
    builds, segs = paths.builds, paths.segments
    for root in (builds, segs):
        if root.exists():
            for d in root.iterdir():
                if is_tmp(d):
                    shutil.rmtree(d, ignore_errors=True)
    if not builds.exists():
        return
    finished = sorted((d for d in builds.iterdir() if not d.name.startswith(".")),
                      key=lambda d: d.name)
    for d in finished[:-KEEP_BUILDS]:
        if d.name not in keep:
            shutil.rmtree(d, ignore_errors=True)
    if not segs.exists():
        return
    listed: set[str] = set()
    for d in builds.iterdir():
        if d.name.startswith("."):
            continue
        # A build whose manifest cannot be read cannot be served either; but its
        # segments may be another build's too, so only listed ones are kept.
        listed |= listed_segments(d) or set()
    for d in segs.iterdir():
        if not d.name.startswith(".") and d.name not in listed:
            shutil.rmtree(d, ignore_errors=True)
