"""The layout of an index directory and the checks that keep it whole.

    CURRENT                 name of the live build (replaced atomically)
    builds/<build id>/      one build: which segments are live, and what spans them
        manifest.json       schema, model, versions, corpus hashes, the live segments
                            with the reports deleted from each, counts, failures
        keyword/            the tantivy BM25 index of the live passages
        vocab.txt/.npy      the corpus's words and their float16 vectors (query bridging)
        lexicon.json        word document counts, learned short forms and places
        stats.json          the statistics the lexicon is learned from (for the next build)
    segments/<segment id>/  immutable parts holding reports, passages, vectors and
                            sentences (ingest/segments.py), shared by builds
    cache/vectors.sqlite    embeddings keyed by (model, text hash): never embed twice
    build.lock              held (flock) by the one build that may run

A build writes its new segment and a new builds/.tmp-* folder, and only when
everything is written does it rename the folder into place and replace CURRENT, so
readers see the old index or the new one, never a half-built one. A crashed build
leaves only .tmp folders, which the next build removes. Segments no kept build lists
are removed by the build after."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import shutil
import time
from pathlib import Path

from core.errors import BuildLocked, IndexError_
from ingest.readers import file_hash

SCHEMA_VERSION = 4

#: The files of one build, besides its manifest.
BUILD_FILES = ("vocab.npy", "vocab.txt", "lexicon.json", "stats.json")
#: Files up to this size are checksummed in the manifest and verified on load (bigger
#: ones, at archive scale, are checked by size only: hashing them would slow start-up).
VERIFY_LIMIT = 256 << 20
REBUILD = "run `reportqa index build --full`"


def verify_build(build: Path | None, index_dir: Path) -> dict:
    """The build's manifest after checking it and every file it lists (present, right
    size, right checksum); raises IndexError_ with the fix otherwise."""
    if build is None:
        raise IndexError_(f"no index at {index_dir}", path=str(index_dir),
                          fix="run `reportqa index build`")
    mpath = build / "manifest.json"
    try:
        manifest = json.loads(mpath.read_text())
    except FileNotFoundError:
        raise IndexError_(f"index at {index_dir} is incomplete: {mpath} is missing",
                          fix=REBUILD) from None
    except (ValueError, OSError, UnicodeDecodeError) as e:
        raise IndexError_(f"index manifest {mpath} is damaged ({e.__class__.__name__})",
                          fix=REBUILD) from None
    if not isinstance(manifest, dict):
        raise IndexError_(f"index manifest {mpath} is damaged", fix=REBUILD)
    v = manifest.get("schema_version")
    if v != SCHEMA_VERSION:
        raise IndexError_(f"index at {index_dir} has schema version {v}; this reportqa "
                          f"reads version {SCHEMA_VERSION}", fix=REBUILD)
    try:
        model = manifest["model"]
        ok = (isinstance(model["name"], str) and int(model["dimension"]) > 0
              and isinstance(manifest["build_id"], str)
              and int(manifest["counts"]["passages"]) >= 0
              and isinstance(manifest["files"], dict) and isinstance(manifest["faiss"], dict))
    except (KeyError, TypeError, ValueError):
        ok = False
    if not ok:
        raise IndexError_(f"index manifest {mpath} is damaged (entries missing)", fix=REBUILD)
    _check_files(build, manifest["files"], manifest.get("checksums") or {})
    segments = manifest.get("segments")
    if not isinstance(segments, list):
        raise IndexError_(f"index manifest {mpath} is damaged (no segments)", fix=REBUILD)
    for seg in segments:
        try:
            folder = Path(index_dir) / "segments" / seg["id"]
            files, sums = seg["files"], seg.get("checksums") or {}
        except (KeyError, TypeError):
            raise IndexError_(f"index manifest {mpath} is damaged (segments)",
                              fix=REBUILD) from None
        if not folder.is_dir():
            raise IndexError_(f"index segment {folder} is missing", fix=REBUILD)
        _check_files(folder, files, sums)
    return manifest


def _check_files(folder: Path, sizes: dict, sums: dict) -> None:
    for name, size in sizes.items():
        p = folder / name
        if not p.exists():
            raise IndexError_(f"index file {p} is missing", fix=REBUILD)
        if p.stat().st_size != size:
            raise IndexError_(
                f"index file {p} is damaged (size {p.stat().st_size}, expected {size})",
                fix=REBUILD)
        if name in sums and file_hash(p) != sums[name]:
            raise IndexError_(f"index file {p} is damaged (checksum mismatch)", fix=REBUILD)


def commit_build(index_dir: Path, tmp: Path, build_id: str, manifest: dict) -> None:
    """Write the manifest, flush everything, move the build into place and point
    CURRENT at it (the one atomic step readers can observe)."""
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2))
    for n in (*manifest["files"], "manifest.json"):
        with open(tmp / n, "rb") as fh:
            os.fsync(fh.fileno())
    final = tmp.parent / build_id
    os.rename(tmp, final)
    ptr_tmp = Path(index_dir) / f".CURRENT.{build_id}"
    ptr_tmp.write_text(build_id)
    os.replace(ptr_tmp, Path(index_dir) / "CURRENT")


def current_build_dir(index_dir: Path) -> Path | None:
    """The live build directory, or None when there is no index yet."""
    ptr = Path(index_dir) / "CURRENT"
    if not ptr.exists():
        return None
    name = ptr.read_text().strip()
    return Path(index_dir) / "builds" / name if name else None


@contextlib.contextmanager
def build_lock(index_dir: Path, wait_s: float = 0.0):
    """Hold the index's build lock; a second build waits up to wait_s, then refuses.
    flock is released by the kernel if the process dies, so a crash leaves no stale
    lock behind."""
    index_dir.mkdir(parents=True, exist_ok=True)
    fh = open(index_dir / "build.lock", "a+")
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
    """Remove crashed builds' .tmp folders, all but the three newest finished builds
    (keeping `keep`), and the segments no remaining build lists."""
    builds = index_dir / "builds"
    segs = index_dir / "segments"
    for root in (builds, segs):
        if root.exists():
            for d in root.iterdir():
                if d.name.startswith(".tmp-"):
                    shutil.rmtree(d, ignore_errors=True)
    if not builds.exists():
        return
    finished = sorted((d for d in builds.iterdir() if not d.name.startswith(".")),
                      key=lambda d: d.name)
    # Keep the live build and the two before it: readers that opened them keep working.
    for d in finished[:-3]:
        if d.name not in keep:
            shutil.rmtree(d, ignore_errors=True)
    if not segs.exists():
        return
    listed: set[str] = set()
    for d in builds.iterdir():
        if d.name.startswith("."):
            continue
        try:
            m = json.loads((d / "manifest.json").read_text())
            listed.update(s["id"] for s in m["segments"])
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            # A build whose manifest cannot be read cannot be served either; but its
            # segments may be another build's too, so only listed ones are kept.
            continue
    for d in segs.iterdir():
        if not d.name.startswith(".") and d.name not in listed:
            shutil.rmtree(d, ignore_errors=True)
