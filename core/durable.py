"""Durable commits: the one place that renames into the index, the embedding cache's
folder and the sessions folder.

A rename is atomic against a crash of the process, not against a power cut: what was
written but not yet stored is lost, and a rename whose directory was never synced can
be undone (the ALICE study, OSDI 2014, found both in LevelDB, SQLite and Git). So a
commit here is, in order: every file's data synced; the rename; the directory holding
the new name synced (and the old one's, when it moved between folders). A small file
swapped into place (CURRENT, a basket) goes through a synced temporary file in the same
folder. Each step's order is what tests/test_durable.py checks."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def sync_file(path: Path) -> None:
    """Flush a file's data (and size) to the disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_dir(path: Path) -> None:
    """Flush a directory's entries (names created, renamed or removed in it) to the
    disk: without it a rename can be undone by a power cut."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_files(folder: Path, names: Iterable[str]) -> None:
    """Sync each named file of a folder (names may lie in subfolders, e.g.
    "keyword/meta.json"), then each subfolder holding them, deepest first, then the
    folder itself (its entries)."""
    folder = Path(folder)
    subdirs = set()
    for n in names:
        sync_file(folder / n)
        subdirs.update(p for p in (folder / n).parents if folder in p.parents)
    for d in sorted(subdirs, key=lambda p: len(p.parts), reverse=True):
        sync_dir(d)
    sync_dir(folder)


def sync_tree(folder: Path) -> None:
    """Sync every file under a folder (hidden ones too: a library's own bookkeeping,
    such as tantivy's .managed.json, is as needed as the data), then its folders,
    deepest first."""
    folder = Path(folder)
    files = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    sync_files(folder, files)


def commit_rename(src: Path, dst: Path, *, replace: bool = False) -> None:
    """Move `src` (a synced file or folder) to `dst` durably: rename (or replace an
    existing `dst`), then sync `dst`'s directory, and `src`'s when it differs."""
    src, dst = Path(src), Path(dst)
    (os.replace if replace else os.rename)(src, dst)
    sync_dir(dst.parent)
    if src.parent.resolve() != dst.parent.resolve():
        sync_dir(src.parent)


def write_atomic(path: Path, data: str | bytes, *, tmp: Path | None = None) -> None:
    """Replace `path` with `data` so that a crash of the process or of the machine
    leaves the old content or the new, whole: a temporary file in the same folder
    (`tmp`, else a fresh name), written and synced, renamed over `path`, then the
    folder synced."""
    path = Path(path)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if tmp is None:
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
        tmp = Path(name)
    else:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
            fh.flush()
            os.fsync(fh.fileno())
        commit_rename(tmp, path, replace=True)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
