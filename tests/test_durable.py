"""Durable commits (core/durable.py): every file synced before its rename, every rename
followed by a sync of its directory, CURRENT and baskets through a synced temporary
file — checked as the sequence of real system calls a real build and a real basket
save make. And the helper is the only code that renames into the index, the embedding
cache or the sessions folder."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from core.durable import write_atomic
from core.settings import load_settings
from ingest.index import build_index
from ingest.index_format import current_build_dir
from ui.workspace import Workspace, empty, new_session_id

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def calls(monkeypatch):
    """Record fsync (by the path its descriptor names), rename and replace, in order."""
    log: list[tuple[str, str, str]] = []
    fsync, rename, replace = os.fsync, os.rename, os.replace

    def rec_fsync(fd):
        log.append(("fsync", os.readlink(f"/proc/self/fd/{fd}"), ""))
        return fsync(fd)

    def rec_rename(a, b):
        rename(a, b)
        log.append(("rename", str(Path(a).resolve()), str(Path(b).resolve())))

    def rec_replace(a, b):
        replace(a, b)
        log.append(("rename", str(Path(a).resolve()), str(Path(b).resolve())))

    monkeypatch.setattr(os, "fsync", rec_fsync)
    monkeypatch.setattr(os, "rename", rec_rename)
    monkeypatch.setattr(os, "replace", rec_replace)
    return log


def _at(log, kind: str, a: str, b: str = "") -> int:
    """Index of the first call of this kind on these paths (resolved)."""
    a = str(Path(a).resolve())
    b = str(Path(b).resolve()) if b else ""
    for i, (k, x, y) in enumerate(log):
        if k == kind and x == a and (not b or y == b):
            return i
    raise AssertionError(f"no {kind} of {a} {b} in {log}")


def _last_sync(log, path: Path) -> int:
    return max(i for i, (k, x, _) in enumerate(log) if k == "fsync" and x == str(path.resolve()))


def _checks_rename(log, src: Path, dst: Path) -> None:
    """Everything under `src` synced before the rename; `dst`'s folder synced after."""
    r = _at(log, "rename", src, dst)
    files = [p for p in dst.rglob("*") if p.is_file()] if dst.is_dir() else [dst]
    for f in files:
        synced = str(src / f.relative_to(dst)) if dst.is_dir() else str(src)
        if dst.is_dir() and ("keyword" in f.parts):
            continue  # the keyword index commits through tantivy's own synced meta.json
        assert any(k == "fsync" and x == str(Path(synced).resolve()) for k, x, _ in log[:r]), \
            f"{synced} was not synced before it was renamed into place"
    assert any(k == "fsync" and x == str(dst.parent.resolve()) for k, x, _ in log[r + 1:]), \
        f"{dst.parent} was not synced after the rename of {dst.name}"


def test_write_atomic_syncs_the_file_then_renames_then_syncs_the_folder(calls, tmp_path):
    target = tmp_path / "CURRENT"
    target.write_text("old")
    write_atomic(target, "new", tmp=tmp_path / ".CURRENT.new")
    assert target.read_text() == "new" and not (tmp_path / ".CURRENT.new").exists()
    sync_tmp = _at(calls, "fsync", tmp_path / ".CURRENT.new")
    moved = _at(calls, "rename", tmp_path / ".CURRENT.new", target)
    assert sync_tmp < moved < _last_sync(calls, tmp_path)


def test_a_build_commits_every_file_segment_build_and_current_durably(calls, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Reducing crime\n\n" + " ".join(
        f"The force works with partners on burglary, plan {n} of many." for n in range(40)),
        encoding="utf-8")
    index = tmp_path / "index"
    build_index(load_settings(corpus_dir=corpus, index_dir=index))
    build = current_build_dir(index)
    renames = [(Path(a), Path(b)) for k, a, b in calls if k == "rename"]
    segment_moves = [(a, b) for a, b in renames if b.parent == (index / "segments").resolve()]
    build_moves = [(a, b) for a, b in renames if b == build.resolve()]
    current = [(a, b) for a, b in renames if b == (index / "CURRENT").resolve()]
    assert len(segment_moves) == 1 and len(build_moves) == 1 and len(current) == 1
    _checks_rename(calls, *segment_moves[0])
    _checks_rename(calls, *build_moves[0])
    _checks_rename(calls, *current[0])
    # In order: the segment, then the build, then the pointer readers follow.
    order = [_at(calls, "rename", *m[0]) for m in (segment_moves, build_moves, current)]
    assert order == sorted(order)


def test_a_basket_save_is_durable_and_a_damaged_one_is_kept_aside(calls, tmp_path):
    sid = new_session_id()
    ws = Workspace(tmp_path / "sessions", sid)
    data = {**empty(), "basket": [{"passage_id": "p1", "note": "for the briefing"}]}
    assert ws.save(data) is None
    (_k, tmp, dst), = [c for c in calls if c[0] == "rename"]
    _checks_rename(calls, Path(tmp), Path(dst))
    # A damaged file is moved aside, named, and never replaced by an empty basket.
    ws.path.write_text("{not json", encoding="utf-8")
    loaded, problem = Workspace(tmp_path / "sessions", sid).load()
    assert loaded["basket"] == [] and ".json.bad" in problem
    assert ws.path.with_suffix(".json.bad").read_text(encoding="utf-8") == "{not json"


def test_only_the_helper_renames_into_the_index_the_cache_or_the_sessions():
    owners = [*sorted((ROOT / "ingest" / "index_format").glob("*.py")),
              ROOT / "ingest" / "index.py", ROOT / "ingest" / "build_dir.py",
              ROOT / "ingest" / "vector_cache.py", ROOT / "ui" / "workspace.py"]
    # os.rename / os.replace / shutil.move, and Path.rename (str has no .rename).
    rename = re.compile(r"\bos\.(rename|replace|renames)\(|\bshutil\.move\(|\.rename\(")
    found = [f"{p.relative_to(ROOT)}:{n}" for p in owners
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if rename.search(line) and not line.lstrip().startswith("#")]
    assert not found, found
