"""Nothing lost: a report that read before and fails now keeps its last good version
serving (marked stale), and `index status` says when the live index no longer matches
the corpus (an emptied corpus never empties the index)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from test_index import write_report

from core.settings import load_settings
from ingest.index import EXIT_PARTIAL, build_index
from retrieval.store import Store
from ui.cli import main as cli


def _env(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "2016").mkdir(parents=True)
    write_report(corpus / "2016" / "alpha.txt", "Alphashire Police", "burglary")
    write_report(corpus / "beta.txt", "Betashire Constabulary", "road safety")
    return load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")


def test_a_report_that_now_fails_keeps_its_previous_version(tmp_path, monkeypatch):
    s = _env(tmp_path)
    build_index(s)
    before = {p.passage_id for p in Store(s.index_dir).iter_passages()
              if p.source_file == "2016/alpha.txt"}
    assert before
    # The file is replaced by something unreadable (binary content in a .txt).
    (s.corpus_dir / "2016" / "alpha.txt").write_bytes(b"%PDF-1.7 \x00\x01 not text")
    summary = build_index(s)
    assert summary.exit_status == EXIT_PARTIAL
    assert [x["file"] for x in summary.stale] == ["2016/alpha.txt"]
    assert "binary content" in summary.stale[0]["reason"] and not summary.failed
    after = {p.passage_id for p in Store(s.index_dir).iter_passages()
             if p.source_file == "2016/alpha.txt"}
    assert after == before  # still served, same ids
    # A second build keeps it too (the manifest remembers the version it serves).
    assert [x["file"] for x in build_index(s).stale] == ["2016/alpha.txt"]
    assert {p.passage_id for p in Store(s.index_dir).iter_passages()
            if p.source_file == "2016/alpha.txt"} == before

    monkeypatch.setenv("REPORTQA_INDEX", str(s.index_dir))
    monkeypatch.setenv("REPORTQA_CORPUS", str(s.corpus_dir))
    out = CliRunner().invoke(cli, ["index", "status"]).output
    assert "stale: 2016/alpha.txt serves its previous version" in out
    assert "remove the file from the corpus" in out
    st = json.loads(CliRunner().invoke(cli, ["index", "status", "--json"]).output)
    rep = next(r for r in st["reports"] if r["source_file"] == "2016/alpha.txt")
    assert "binary content" in rep["stale"]
    r = CliRunner().invoke(cli, ["index", "build"])
    assert r.exit_code == 3 and "kept the previous version: 2016/alpha.txt" in r.output

    # Removing the file drops it deliberately.
    (s.corpus_dir / "2016" / "alpha.txt").unlink()
    summary = build_index(s)
    assert summary.removed == ["2016/alpha.txt"] and not summary.stale
    assert all(p.source_file != "2016/alpha.txt" for p in Store(s.index_dir).iter_passages())


def test_status_says_when_the_index_no_longer_matches_the_corpus(tmp_path, monkeypatch):
    s = _env(tmp_path)
    build_index(s)
    monkeypatch.setenv("REPORTQA_INDEX", str(s.index_dir))
    monkeypatch.setenv("REPORTQA_CORPUS", str(s.corpus_dir))
    st = json.loads(CliRunner().invoke(cli, ["index", "status", "--json"]).output)
    assert st["drift"]["differs"] is False
    # Emptied corpus: the build refuses (exit 4) and the old index keeps answering...
    for f in s.corpus_dir.rglob("*.txt"):
        f.unlink()
    assert build_index(s).exit_status == 4
    assert Store(s.index_dir).status().passages > 0
    # ...and status says so.
    out = CliRunner().invoke(cli, ["index", "status"]).output
    assert "the live index no longer matches the corpus" in out and "2 removed" in out
    write_report(s.corpus_dir / "gamma.txt", "Gammashire Police", "knife crime")
    st = json.loads(CliRunner().invoke(cli, ["index", "status", "--json"]).output)
    assert st["drift"] == {**st["drift"], "added": 1, "removed": 2, "differs": True}
