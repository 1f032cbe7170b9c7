"""A full disk: the index and the sessions folder on a small tmpfs, mounted and
unmounted by the test. A build that runs out of space stops with one line naming the
disk and the fix, and the previous index keeps serving (whole, checksummed, answering);
a basket save that runs out of space says so in one line and the saved basket stays.

Mounting needs root (CI runs as root and sets REPORTQA_REQUIRE_FULL_DISK, so there the
test must run); elsewhere it is skipped."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import robust_factory as rf
from click.testing import CliRunner

from core.settings import load_settings
from ingest.embed import get_embedder
from ingest.index import build_index
from retrieval.search import Searcher
from retrieval.store import Store
from ui.cli import main as cli
from ui.workspace import Workspace, empty, new_session_id


@contextlib.contextmanager
def _small_disk(where: Path, kib: int):
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(where)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("REPORTQA_REQUIRE_FULL_DISK"):
            pytest.fail(f"cannot mount a tmpfs: {done.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def test_a_full_disk_stops_the_build_in_one_line_and_the_old_index_serves(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rf.write_text_report(corpus / "alpha.txt", "Alphashire Police", "burglary")
    first = tmp_path / "first"
    build_index(load_settings(corpus_dir=corpus, index_dir=first))
    before = sorted(p.passage_id for p in Store(first).iter_passages())
    # Room for the index and a little more; not for a report forty times its size.
    with _small_disk(tmp_path / "disk", _size(first) // 1024 + 256) as disk:
        index = disk / "index"
        shutil.copytree(first, index)
        rf.write_text_report(corpus / "beta.txt", "Betashire Constabulary", "road safety",
                             extra=" ".join(f"Paragraph {n} on road safety work and its "
                                            f"partners." for n in range(6000)))
        res = CliRunner().invoke(cli, ["index", "build", "--corpus", str(corpus),
                                       "--index", str(index)])
        lines = res.output.strip().splitlines()
        assert res.exit_code == 2, res.output
        assert len(lines) == 1 and lines[0].startswith("error: "), res.output
        assert str(index) in lines[0] and "disk is full" in lines[0]
        assert "REPORTQA_INDEX" in lines[0] and "Traceback" not in res.output
        store = Store(index)  # the previous build: every file present and checksummed
        assert sorted(p.passage_id for p in store.iter_passages()) == before
        assert Searcher(store, get_embedder(store.model)).ask("plan for burglary").hits


def test_a_full_disk_keeps_the_saved_basket(tmp_path):
    with _small_disk(tmp_path / "disk", 64) as disk:
        sid = new_session_id()
        ws = Workspace(disk / "sessions", sid)
        old = {**empty(), "basket": [{"passage_id": "p1", "note": "for the briefing"}]}
        assert ws.save(old) is None
        huge = {**old, "basket": [*old["basket"], {"passage_id": "p2", "note": "x" * 200_000}]}
        problem = ws.save(huge)
        assert problem and "\n" not in problem and str(disk / "sessions") in problem
        assert "No space left" in problem
        loaded, trouble = Workspace(disk / "sessions", sid).load()
        assert trouble is None and loaded["basket"] == old["basket"]
