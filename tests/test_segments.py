"""The segmented index (ingest/segments.py) with the real model, FAISS, SQLite and
tantivy: a build adds one segment and marks deleted reports, readers skip them,
segments merge when there are too many and on `index optimize`, the previous build
keeps serving what it served, and a crash anywhere leaves the old index whole."""

from __future__ import annotations

import json
import sqlite3
import zlib
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import ingest.index as index_mod
from core.settings import load_settings
from ingest.index import build_index, optimize_index
from ingest.index_format import current_build_dir
from retrieval.answer import Filters
from retrieval.store import Store
from tests.test_index import write_report
from ui.cli import main as cli

NAMES = ["Alpha", "Beta", "Gamma", "Delta", "Epsilon", "Zeta", "Eta", "Theta", "Iota",
         "Kappa"]
TOPICS = ["burglary", "road safety", "knife crime", "domestic abuse", "fraud", "drugs",
          "hate crime", "missing people", "cyber crime", "rural crime"]


@pytest.fixture
def env(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i, t in enumerate(TOPICS[:3]):
        write_report(corpus / f"r{i}.txt", f"{NAMES[i]}shire Police", t)
    return load_settings(corpus_dir=corpus, index_dir=tmp_path / "index")


def _manifest(index_dir: Path) -> dict:
    return json.loads((current_build_dir(index_dir) / "manifest.json").read_text())


def _searcher(settings):
    from ingest.embed import get_embedder
    from retrieval.search import Searcher

    return Searcher(Store(settings.index_dir), get_embedder(settings.model))


def _ids(store: Store) -> list[str]:
    return sorted(p.passage_id for p in store.iter_passages())


def _answers(s, questions):
    return [[h.passage.passage_id for h in s.ask(q, top_k=5).hits] for q in questions]


def test_add_delete_and_the_old_build_keeps_serving(env):
    for i in (5, 6):  # five reports: two of them deleted is less than half a segment
        write_report(env.corpus_dir / f"r{i}.txt", f"{NAMES[i]}shire Police",
                     TOPICS[i])
    build_index(env)
    old_store = Store(env.index_dir)
    old_ids = _ids(old_store)
    old_kw = old_store.keywords.search('"burglary"', 10)
    assert old_kw
    # Change one report, remove one, add one.
    write_report(env.corpus_dir / "r0.txt", "Alphashire Police", "burglary",
                 extra="A cold case review team now handles burglary.")
    (env.corpus_dir / "r1.txt").unlink()
    write_report(env.corpus_dir / "r3.txt", "Deltashire Police", "fraud")
    s = build_index(env)
    assert s.changed == ["r0.txt"] and s.removed == ["r1.txt"] and s.added == ["r3.txt"]
    m = _manifest(env.index_dir)
    assert len(m["segments"]) == 2
    first = m["segments"][0]
    assert sorted(first["deleted"]) == ["r0", "r1"] and first["deleted_passages"] > 0
    store = Store(env.index_dir)
    forces = {r.force for r in store.reports}
    assert forces == {"Alphashire Police", "Gammashire Police", "Deltashire Police",
                      "Zetashire Police", "Etashire Police"}
    texts = [p.text for p in store.iter_passages()]
    assert any("cold case review team" in t for t in texts)
    assert not any(p.report_id == "r1" for p in store.iter_passages())
    # Every live passage has one vector, one keyword document, and its sentences.
    assert store.faiss.ntotal == len(texts) == store.keywords.searcher.num_docs
    assert store.vectors([int(r) for r in store.rowids]).shape == (len(store.rowids), store.faiss.d)
    assert {pr for pr, _, _ in store.sentences([int(r) for r in store.rowids])} == \
        {int(r) for r in store.rowids}
    # Filters see live passages only: a deleted report has none, a changed one its new.
    assert store.allowed(Filters(report_ids=("r1",)))[0] == 0
    assert store.report_ids_where(Filters()) == sorted(r.report_id for r in store.reports)
    r0 = {int(r) for r, p in store.passage_rows("r0")}
    assert set(store.allowed_rowids(Filters(report_ids=("r0", "r1")))) == r0
    # Deleted passages are found by neither search.
    s1 = _searcher(env)
    hits = s1.ask("road safety plan", top_k=5).hits
    assert all(h.passage.report_id != "r1" for h in hits)
    assert not store.keywords.search('"road safety"', 10, report_ids=["r1"])
    # The previous build's files were not touched: its reader serves what it served.
    assert _ids(old_store) == old_ids
    assert old_store.keywords.search('"burglary"', 10) == old_kw


def test_merge_when_too_many_segments_and_optimize(env, monkeypatch):
    monkeypatch.setattr(index_mod, "MAX_SEGMENTS", 3)
    build_index(env)
    for i, t in enumerate(TOPICS[3:8], start=3):
        write_report(env.corpus_dir / f"r{i}.txt", f"{NAMES[i]}shire Police", t)
        build_index(env)
        m = _manifest(env.index_dir)
        assert len(m["segments"]) <= 3, m["segments"]
    store = Store(env.index_dir)
    assert len(store.reports) == 8
    incremental = _ids(store)
    # The same corpus built from scratch holds exactly the same passages.
    fresh = load_settings(corpus_dir=env.corpus_dir, index_dir=env.index_dir.parent / "fresh")
    build_index(fresh)
    assert _ids(Store(fresh.index_dir)) == incremental
    # A change leaves a segment more; optimize merges into one, deleted passages gone.
    write_report(env.corpus_dir / "r0.txt", "Alphashire Police", "burglary",
                 extra="Burglary fell by a fifth.")
    build_index(env)
    res = CliRunner().invoke(cli, ["index", "optimize", "--index", str(env.index_dir),
                                   "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["merged"] and out["segments_after"] == 1
    assert out["segments"] > 1 or out["deleted_passages"] > 0
    m = _manifest(env.index_dir)
    assert len(m["segments"]) == 1 and not m["segments"][0].get("deleted")
    # Old segments no kept build lists are gone from disk.
    listed = {s["id"] for b in (env.index_dir / "builds").iterdir()
              for s in json.loads((b / "manifest.json").read_text())["segments"]}
    assert {d.name for d in (env.index_dir / "segments").iterdir()} == listed
    # After optimize, answers equal a fresh full build's (same BM25 statistics too).
    build_index(fresh, full=True)
    qs = ["burglary plan", "what about knife crime?", "victims satisfied", "fraud review"]
    assert _answers(_searcher(env), qs) == _answers(_searcher(fresh), qs)
    assert optimize_index(env)["merged"] is False  # one segment, nothing deleted


def test_crash_while_writing_a_segment_leaves_the_old_index(env, monkeypatch):
    build_index(env)
    before = current_build_dir(env.index_dir)
    segs_before = {d.name for d in (env.index_dir / "segments").iterdir()}
    ids_before = _ids(Store(env.index_dir))
    write_report(env.corpus_dir / "r5.txt", "Zetashire Police", "drugs")
    write_report(env.corpus_dir / "r0.txt", "Alphashire Police", "burglary", extra="New.")

    def crash(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(index_mod.SegmentWriter, "finish", crash)
    with pytest.raises(KeyboardInterrupt):
        build_index(env)
    assert current_build_dir(env.index_dir) == before
    assert _ids(Store(env.index_dir)) == ids_before
    assert {d.name for d in (env.index_dir / "segments").iterdir()} == segs_before
    monkeypatch.undo()
    s = build_index(env)
    assert s.added == ["r5.txt"] and s.changed == ["r0.txt"]
    assert not [d for d in (env.index_dir / "segments").iterdir() if d.name.startswith(".")]


def test_crash_while_merging_leaves_the_old_index(env, monkeypatch):
    build_index(env)
    write_report(env.corpus_dir / "r4.txt", "Epsilonshire Police", "fraud")
    build_index(env)
    before = current_build_dir(env.index_dir)
    ids_before = _ids(Store(env.index_dir))

    def crash(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(index_mod, "commit_build", crash)
    with pytest.raises(OSError):
        optimize_index(env)
    assert current_build_dir(env.index_dir) == before
    assert _ids(Store(env.index_dir)) == ids_before
    monkeypatch.undo()
    assert optimize_index(env)["merged"]
    assert _ids(Store(env.index_dir)) == ids_before


@pytest.mark.parametrize("codes,min_cos", [("sq8", 0.999), ("sq4", 0.97)])
def test_quantised_sentence_vectors(env, codes, min_cos):
    fp16 = load_settings(corpus_dir=env.corpus_dir, index_dir=env.index_dir,
                         sentence_codes="fp16")
    build_index(fp16)
    ref = Store(env.index_dir)
    assert "sentences.npy" in _manifest(env.index_dir)["segments"][0]["files"]
    rows = [int(r) for r in ref.rowids]
    want = {(pr, t): v for pr, t, v in ref.sentences(rows)}
    q = load_settings(corpus_dir=env.corpus_dir, index_dir=env.index_dir.parent / codes,
                      sentence_codes=codes)
    build_index(q)
    m = _manifest(q.index_dir)
    seg = m["segments"][0]
    assert seg["sentence_codes"] == codes
    assert "sentences.codes.npy" in seg["files"] and "sentences.npy" not in seg["files"]
    store = Store(q.index_dir)
    got = {(pr, t): v for pr, t, v in store.sentences([int(r) for r in store.rowids])}
    assert {t for _, t in got} == {t for _, t in want}  # the same sentences, same text
    cos = [float(v @ want[k] / (np.linalg.norm(v) * np.linalg.norm(want[k])))
           for k, v in got.items()]
    assert min(cos) >= min_cos, min(cos)
    # Passage text is stored once, compressed, and comes back byte for byte; the JSON
    # column repeats neither it nor its report's fields; sentences are offsets into it.
    seg_db = sqlite3.connect(q.index_dir / "segments" / seg["id"] / "passages.sqlite")
    rowid, data, blob = seg_db.execute("SELECT rowid, data, text FROM passages "
                                       "LIMIT 1").fetchone()
    d = json.loads(data)
    assert not {"text", "report_title", "source_file", "passage_id"} & set(d)
    assert zlib.decompress(blob).decode() == store.passages([rowid])[rowid].text
    assert "sentences" not in {t for (t,) in seg_db.execute(
        "SELECT name FROM sqlite_master WHERE type='table'")}


def test_sentence_codes_setting_is_checked(monkeypatch):
    from core.settings import SettingsError

    monkeypatch.setenv("REPORTQA_SENTENCE_CODES", "int3")
    with pytest.raises(SettingsError) as e:
        load_settings()
    assert "REPORTQA_SENTENCE_CODES" in e.value.line() and "sq4" in e.value.line()


def test_float16_flat_index_past_the_exact_limit(env):
    """By default (REPORTQA_EXACT_SEARCH_LIMIT 0) the reader scans the stored float16
    codes; up to a limit it scans a float32 copy instead. The answers are the same, and
    so are the scores: the stored vectors are float16 either way."""
    build_index(env)
    assert _manifest(env.index_dir)["faiss"]["type"] == "flat-fp16"
    fp16 = _searcher(env)
    assert type(fp16.store.faiss).__name__ == "IndexScalarQuantizer"
    big = load_settings(corpus_dir=env.corpus_dir, index_dir=env.index_dir.parent / "fp32",
                        exact_search_limit=10**9)
    build_index(big)
    assert _manifest(big.index_dir)["faiss"]["type"] == "flat-ip"
    exact = _searcher(big)
    assert type(exact.store.faiss).__name__ == "IndexFlatIP"
    qs = ["burglary plan", "road safety", "what about knife crime?"]
    assert _answers(fp16, qs) == _answers(exact, qs)
    qv = fp16.embed(["burglary plan"])[0]
    a, b = fp16.dense(qv, 10), exact.dense(qv, 10)
    assert [r for r, _ in a] == [r for r, _ in b]
    assert np.allclose([x for _, x in a], [x for _, x in b], atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float16, np.uint8])
def test_rows_read_with_pread_are_the_file_s_rows(tmp_path, dtype):
    """Sentence vectors and codes are read row by row with pread (no memory map that
    would keep every page a query touched resident): any rows, in any order, repeated,
    in runs or scattered, are the saved array's; a cut file or a row past the end is
    an error, not garbage."""
    from ingest.index_format.segment import NpyRows

    rng = np.random.default_rng(3)
    a = (rng.random((500, 24)) * 200).astype(dtype)
    np.save(tmp_path / "a.npy", a)
    rows = NpyRows(tmp_path / "a.npy")
    assert len(rows) == 500 and rows.shape == (500, 24)
    for ids in ([0], [499], list(range(40, 90)), [7, 3, 3, 250, 251, 252, 0, 499],
                rng.integers(0, 500, 300).tolist(), []):
        assert np.array_equal(rows.get(ids), a[ids]), ids
    with pytest.raises(IndexError):
        rows.get([500])
    (tmp_path / "cut.npy").write_bytes((tmp_path / "a.npy").read_bytes()[:-10])
    with pytest.raises(ValueError):
        NpyRows(tmp_path / "cut.npy")
