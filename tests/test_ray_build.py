"""The distributed build (`index build --ray`) on a local Ray cluster of two worker
CPUs: it must write the same index as a local build, stay incremental, and survive (or
fail cleanly on) a worker killed mid-build with the previous index serving.

Ray is an optional extra: without it these tests are skipped, unless
REPORTQA_REQUIRE_RAY is set (CI sets it and installs `.[cluster]`)."""

from __future__ import annotations

import os
import shutil
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from core.errors import ReportQAError
from core.settings import load_settings
from ingest.index import build_index
from retrieval.store import Store

if not os.environ.get("REPORTQA_REQUIRE_RAY"):
    pytest.importorskip("ray", reason="Ray is not installed (pip install -e '.[cluster]')")

# Ray's workers load the packaged model (a test cannot reach into them), so the local
# builds compared with theirs use it too.
pytestmark = pytest.mark.real_model

ROOT = Path(__file__).resolve().parent.parent
REPORT = ROOT / "corpus" / "hmic-crime-inspection-2014-west-midlands.txt"


def _report(path: Path, force: str, topic: str) -> None:
    """A small generated report laid out like extracted inspection reports."""
    paras = [f"{force} has a clear plan for {topic}. Officers told us that {topic} is a "
             f"priority, that partners are involved in decisions about {topic}, and that "
             f"progress on {topic} is reviewed every month by the chief officer team. "
             f"Paragraph {n} describes how {force} measures what works." for n in range(6)]
    path.write_text(f"How effective is the force at reducing crime?\n\n{topic.capitalize()}"
                    "\n\n" + "\n\n".join(paras) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def cluster():
    from ingest.ray_build import RayCluster

    with RayCluster(None, workers=2) as c:
        yield c


@pytest.fixture
def corpus(tmp_path) -> Path:
    c = tmp_path / "corpus"
    c.mkdir()
    shutil.copy(REPORT, c / REPORT.name)
    _report(c / "alpha.txt", "Alphashire Police", "burglary")
    _report(c / "beta.txt", "Betashire Constabulary", "road safety")
    return c


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    """Two short generated reports: a previous build to keep serving, made quickly."""
    c = tmp_path / "small-corpus"
    c.mkdir()
    _report(c / "alpha.txt", "Alphashire Police", "burglary")
    _report(c / "beta.txt", "Betashire Constabulary", "road safety")
    return c


def _same_index(a: Path, b: Path) -> None:
    sa, sb = Store(a), Store(b)
    pa = [p.passage_id for p in sa.iter_passages()]
    pb = [p.passage_id for p in sb.iter_passages()]
    assert pa == pb and pa
    for x, y in zip(sa.rowids_of(pa), sb.rowids_of(pb)):
        assert np.allclose(sa.vectors([x])[0], sb.vectors([y])[0], atol=2e-3)
    assert sa.manifest.counts == sb.manifest.counts
    # The same files, hashes, report ids and counts (segment ids are new in each build).
    def files(m):
        return [{k: v for k, v in f.to_dict().items() if k != "segment"}
                for f in m.corpus_files]

    assert files(sa.manifest) == files(sb.manifest)
    assert [s.passages for s in sa.manifest.segments] == [
        s.passages for s in sb.manifest.segments]


def test_ray_build_writes_the_local_build_and_stays_incremental(cluster, corpus, tmp_path):
    local = load_settings(corpus_dir=corpus, index_dir=tmp_path / "local")
    ray_s = load_settings(corpus_dir=corpus, index_dir=tmp_path / "ray")
    build_index(local)
    summary = build_index(ray_s, cluster=cluster)
    assert not summary.failed and len(summary.added) == 3
    _same_index(local.index_dir, ray_s.index_dir)

    # One report changes: only it is read again; the others stay, cached vectors reused.
    _report(corpus / "beta.txt", "Betashire Constabulary", "road safety and speeding")
    again = build_index(ray_s, cluster=cluster)
    assert again.changed == ["beta.txt"] and not again.added
    assert again.reused_vectors > 0
    build_index(local)
    _same_index(local.index_dir, ray_s.index_dir)


def _ray_workers() -> list[int]:
    """Pids of the cluster's worker processes reading a file (task) or embedding (the
    actors holding the models); Ray titles each process by what it runs."""
    import psutil

    out = []
    for p in psutil.process_iter(["pid", "cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if cmd.startswith(("ray::_work", "ray::_Replica")):
            out.append(p.info["pid"])
    return out


def test_a_worker_killed_mid_build_costs_only_its_own_tasks(cluster, small_corpus, tmp_path):
    corpus = small_corpus
    s = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(s, cluster=cluster)
    before = (s.index_dir / "CURRENT").read_text()
    for n in range(4):  # more to read and embed, so the kill lands mid-build
        _report(corpus / f"extra-{n}.txt", f"Gammashire {n} Police", f"topic {n} work")
    result: dict = {}

    def run() -> None:
        try:
            result["summary"] = build_index(s, cluster=cluster)
        except ReportQAError as e:
            result["error"] = e

    t = threading.Thread(target=run)
    t.start()
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and t.is_alive() and time.monotonic() < deadline:
        pids = _ray_workers()
        if pids:
            killed = pids[0]
            os.kill(killed, signal.SIGKILL)
        time.sleep(0.05)
    t.join(timeout=600)
    assert not t.is_alive()
    assert killed is not None, "no busy Ray worker was seen to kill"
    if "summary" in result:
        # Retried: the build completed with every report.
        summary = result["summary"]
        store = Store(s.index_dir)
        assert {r.source_file for r in store.reports} >= {f"extra-{n}.txt" for n in range(4)}
        assert not summary.failed or all("reading failed" in f["reason"]
                                         for f in summary.failed)
    else:
        # Failed cleanly: the previous build still serves.
        assert (s.index_dir / "CURRENT").read_text() == before
        assert Store(s.index_dir).reports


def test_cli_builds_with_ray_and_says_so_without_it(corpus, tmp_path, monkeypatch):
    from click.testing import CliRunner

    import ingest.ray_build as rb
    from ui.cli import main as cli

    def missing():
        raise ReportQAError("Ray is not installed", fix="pip install -e '.[cluster]'")

    monkeypatch.setattr(rb, "_ray", missing)
    res = CliRunner().invoke(cli, ["index", "build", "--corpus", str(corpus), "--index",
                                   str(tmp_path / "i"), "--ray"])
    assert res.exit_code == 2 and "Ray is not installed" in res.output
    assert "pip install -e '.[cluster]'" in res.output


def test_a_file_that_hangs_is_named_and_the_others_read(cluster, tmp_path):
    """A file slower than the time limit costs only itself, as in a local build."""
    from reportlab.pdfgen.canvas import Canvas

    from ingest.pipeline import corpus_files

    slow = tmp_path / "slow-drawing.pdf"
    c = Canvas(str(slow), invariant=1)  # a page of 400,000 tiny text runs: seconds to read
    c.setFont("Helvetica", 10)
    t = c.beginText(72, 700)
    for i in range(400_000):
        t.setTextOrigin(72 + (i % 50) * 9, 700 - (i // 50) % 60 * 11)
        t.textOut("ab ")
    c.drawText(t)
    c.showPage()
    c.save()
    shutil.copy(REPORT, tmp_path / REPORT.name)
    files = corpus_files([tmp_path])
    settings = load_settings(file_timeout_s=1.0, file_timeout_per_page_s=0)
    results = {Path(r.path).name: r for r in cluster.ingest_many(files, {}, settings)}
    assert "took longer than 1 s" in (results[slow.name].error or ""), results[slow.name]
    good = results[REPORT.name]
    assert good.error is None and good.passages
