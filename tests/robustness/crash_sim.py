"""A power-cut simulator in the spirit of Lucene's MockDirectoryWrapper and the ALICE
study: run a real operation (a build, an optimize, a basket save) with its durability
calls recorded — each fsync of a file or a directory, each rename — and a snapshot of
the folder after each; then, for every point in that sequence, reconstruct the folder
a power cut at that point would leave:

- a directory lists what it listed when it was last synced (what it held before the
  operation, if it existed then and was not synced since; nothing, if it was made
  during the operation and never synced) — so an unsynced rename is undone and an
  unsynced new name is gone;
- a file holds what it held when it was last synced; a file never synced since its
  last change is dropped (empty), truncated to half or zeroed, by turns;
- a renamed file or folder keeps its identity (its synced data and listing follow it).

Each point is also checked the other way round, as ALICE does: the file system may
have written the directories' new entries (renames, new names) on its own while file
data still waits — every listing as it is at that point, with unsynced data lost.

SQLite files under the index's cache/ sync their own commits (synchronous=FULL, see
ingest/index_format/vector_cache.py) at calls this Python-level recorder cannot see,
and the snapshots fall between its transactions, so they are kept as they are."""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

MODES = ("drop", "truncate", "zero")


@dataclass
class _State:
    """The folder after one event: per path, its identity and (files) its bytes."""

    ids: dict[str, int]
    files: dict[str, bytes]
    dirs: set[str]


@dataclass
class Recording:
    """The events of one operation and the folder after each."""

    root: Path
    before: _State
    events: list[tuple] = field(default_factory=list)
    states: list[_State] = field(default_factory=list)
    _ids: dict[str, int] = field(default_factory=dict)
    _next: itertools.count = field(default_factory=lambda: itertools.count(1))

    def snapshot(self) -> _State:
        files, dirs = {}, {""}
        for dirpath, dirnames, filenames in os.walk(self.root):
            rel = os.path.relpath(dirpath, self.root)
            rel = "" if rel == "." else rel
            for d in dirnames:
                dirs.add(os.path.join(rel, d))
            for f in filenames:
                with open(os.path.join(dirpath, f), "rb") as fh:
                    files[os.path.join(rel, f)] = fh.read()
        for gone in set(self._ids) - set(files) - dirs:
            del self._ids[gone]
        for p in [*sorted(dirs), *sorted(files)]:
            if p not in self._ids:
                self._ids[p] = next(self._next)
        return _State(dict(self._ids), files, dirs)

    def rel(self, path: str) -> str | None:
        try:
            r = os.path.relpath(os.path.realpath(path), os.path.realpath(self.root))
        except ValueError:
            return None
        return None if r.startswith("..") else ("" if r == "." else r)

    def renamed(self, src: str, dst: str) -> None:
        """Identity follows a rename: src (and what lies under it) becomes dst, and
        what dst was is gone. A src never seen (made and renamed between two events)
        is a new identity, not the one it replaces."""
        def under(p: str, top: str) -> bool:
            return p == top or p.startswith(top + os.sep)

        moved = {p: i for p, i in self._ids.items() if under(p, src)}
        for p in [p for p in self._ids if under(p, dst) or p in moved]:
            del self._ids[p]
        if not moved:
            self._ids[dst] = next(self._next)
        for p, i in moved.items():
            self._ids[dst + p[len(src):]] = i


def record(root: Path, operation: Callable[[], object], monkeypatch) -> Recording:
    """Run `operation`, recording the durability calls that touch `root`."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    rec = Recording(root, _State({}, {}, set()))
    rec.before = rec.snapshot()
    fsync, rename, replace = os.fsync, os.rename, os.replace

    def on_fsync(fd):
        fsync(fd)
        rel = rec.rel(os.readlink(f"/proc/self/fd/{fd}"))
        if rel is not None:
            rec.events.append(("sync", rel))
            rec.states.append(rec.snapshot())

    def moved(fn):
        def move(a, b):
            fn(a, b)
            ra, rb = rec.rel(str(a)), rec.rel(str(b))
            if ra is not None and rb is not None:
                rec.renamed(ra, rb)
                rec.events.append(("rename", ra, rb))
                rec.states.append(rec.snapshot())
        return move

    monkeypatch.setattr(os, "fsync", on_fsync)
    monkeypatch.setattr(os, "rename", moved(rename))
    monkeypatch.setattr(os, "replace", moved(replace))
    try:
        operation()
    finally:
        monkeypatch.setattr(os, "fsync", fsync)
        monkeypatch.setattr(os, "rename", rename)
        monkeypatch.setattr(os, "replace", replace)
    return rec


def _listing(state: _State, d: str) -> dict[str, int]:
    """A directory's entries in a state: name -> identity."""
    out = {}
    for p in [*state.dirs, *state.files]:
        if p and os.path.dirname(p) == d:
            out[os.path.basename(p)] = state.ids[p]
    return out


def crash_states(rec: Recording) -> list[tuple[int, str, bool]]:
    """The crash states: (number of events that happened, how unsynced data is lost,
    whether the directories' entries were written as they stand)."""
    return [(n, MODES[(n + names) % len(MODES)], bool(names))
            for n in range(len(rec.events) + 1) for names in (0, 1)]


def materialise(rec: Recording, n: int, mode: str, names_written: bool, dest: Path,
                kept: Callable[[str], bool] = lambda p: False) -> None:
    """Write the folder a power cut after `n` events would leave to `dest`; with
    `names_written`, every directory lists what it lists at that point."""
    before = rec.before
    # Per identity: synced bytes (files) and synced listing (directories).
    data = {before.ids[p]: b for p, b in before.files.items()}
    lists = {before.ids[d]: _listing(before, d) for d in before.dirs}
    for (kind, *args), state in zip(rec.events[:n], rec.states[:n]):
        if kind != "sync":
            continue
        p = args[0]
        if p in state.files:
            data[state.ids[p]] = state.files[p]
        elif p in state.dirs:
            lists[state.ids[p]] = _listing(state, p)
    now = rec.states[n - 1] if n else before
    if names_written:
        lists.update({now.ids[d]: _listing(now, d) for d in now.dirs})
    by_id = {i: p for p, i in now.ids.items()}
    dirs_ids = {before.ids[d] for d in before.dirs} | {now.ids[d] for d in now.dirs}
    for st in rec.states[:n]:
        dirs_ids |= {st.ids[d] for d in st.dirs}
    # Last bytes seen of every identity (for a file whose unsynced data is damaged).
    seen = {before.ids[p]: b for p, b in before.files.items()}
    for st in rec.states[:n]:
        seen.update({st.ids[p]: b for p, b in st.files.items()})

    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir(parents=True)

    def build(ident: int, at: Path, rel: str) -> None:
        for name, child in lists.get(ident, {}).items():
            crel = os.path.join(rel, name)
            if child in dirs_ids:
                (at / name).mkdir()
                build(child, at / name, crel)
                continue
            cur = by_id.get(child)
            if kept(crel) and cur is not None and cur in now.files:
                (at / name).write_bytes(now.files[cur])
            elif child in data and (cur is None or now.files.get(cur) == data[child]):
                (at / name).write_bytes(data[child])
            else:
                raw = seen.get(child, b"")
                lost = {"drop": b"", "truncate": raw[: len(raw) // 2],
                        "zero": bytes(len(raw))}[mode]
                # Data synced earlier and changed since: the change is what is lost.
                (at / name).write_bytes(data.get(child, lost) if mode == "drop" else lost)

    build(before.ids[""], dest, "")
