"""An archive saved in nested folders: reports are keyed by their path relative to the
corpus root, so the same file name in two folders is two reports; every file under
the root is indexed, reported as a duplicate, or refused with its reason; a moved or
renamed report reuses its passages and vectors."""

from __future__ import annotations

import json
import shutil

from click.testing import CliRunner
from test_index import write_report

from core.settings import load_settings
from ingest.index import build_index
from retrieval.store import Store
from ui.cli import main as cli


def _archive(root):
    (root / "2014").mkdir(parents=True)
    (root / "2015" / "north").mkdir(parents=True)
    (root / "2015" / "south").mkdir(parents=True)
    write_report(root / "2014" / "report.txt", "Alphashire Police", "burglary")
    write_report(root / "2015" / "north" / "report.txt", "Betashire Constabulary",
                 "road safety")
    write_report(root / "2015" / "south" / "report.txt", "Gammashire Police", "knife crime")
    # The same content saved twice, and a file that cannot be read, both named report.txt.
    (root / "copies").mkdir()
    shutil.copy(root / "2014" / "report.txt", root / "copies" / "report.txt")
    (root / "broken").mkdir()
    (root / "broken" / "report.txt").write_bytes(b"")


def test_every_file_of_a_nested_archive_is_accounted_for(tmp_path):
    corpus = tmp_path / "corpus"
    _archive(corpus)
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    s = build_index(settings)
    indexed = set(s.added)
    dup = {d["file"] for d in s.duplicates}
    failed = {f["file"] for f in s.failed}
    every = {p.relative_to(corpus).as_posix() for p in corpus.rglob("*.txt")}
    assert indexed | dup | failed == every
    assert not (indexed & dup) and not (indexed & failed) and not (dup & failed)
    assert indexed == {"2014/report.txt", "2015/north/report.txt", "2015/south/report.txt"}
    assert s.duplicates == [{"file": "copies/report.txt", "same_as": "2014/report.txt"}]
    # The refusal names the file by its folder, not only "report.txt".
    assert s.failed[0]["reason"].startswith("broken/report.txt:")

    store = Store(settings.index_dir)
    reps = {r.source_file: r for r in store.reports}
    assert set(reps) == indexed
    assert len({r.report_id for r in reps.values()}) == 3
    assert reps["2015/north/report.txt"].force == "Betashire Constabulary"
    assert {p.source_file for p in store.iter_passages()} == indexed

    # The CLI's status shows each report's path.
    out = CliRunner().invoke(cli, ["index", "status", "--json", "--index",
                                   str(settings.index_dir)])
    assert out.exit_code == 0, out.output
    shown = {r["source_file"] for r in json.loads(out.output)["reports"]}
    assert shown == indexed


def test_moved_and_renamed_reports_reuse_their_passages(tmp_path):
    corpus = tmp_path / "corpus"
    _archive(corpus)
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    build_index(settings)
    before = {p.passage_id: p for p in Store(settings.index_dir).iter_passages()}

    (corpus / "2016").mkdir()
    (corpus / "2015" / "north" / "report.txt").rename(corpus / "2016" / "betashire.txt")
    s = build_index(settings)
    assert s.embedded == 0  # nothing embedded again
    assert "2016/betashire.txt" in s.added and "2015/north/report.txt" in s.removed
    after = {p.passage_id: p for p in Store(settings.index_dir).iter_passages()}
    assert set(after) == set(before)  # the same passages, the same ids
    moved = [p for p in after.values() if p.force == "Betashire Constabulary"]
    assert moved and {p.source_file for p in moved} == {"2016/betashire.txt"}
    assert {p.report_id for p in moved} == {"2016-betashire"}
