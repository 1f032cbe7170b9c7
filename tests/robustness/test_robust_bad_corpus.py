"""A corpus folder as staff fill it: good reports beside a truncated PDF, broken xrefs,
encrypted PDFs (with and without a user password), a scan, zero-byte files, HTML saved
as .pdf, binary data named .txt, Windows-1252 text, a 500-page PDF, nonsense page
labels, a duplicate under a second name, a file that disappears mid-build and a
dangling link. One real build (`reportqa index build`, real pypdf, worker processes,
the packaged model, FAISS, SQLite): every bad file gets its own line (name, reason,
what to do), every good report is indexed with nothing lost, the duplicate once, and
the exit status says "partial" (3)."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path

import pytest
import robust_factory as rf
from click.testing import CliRunner

import ingest.index as index_mod
from ingest.index import EXIT_PARTIAL
from ingest.pipeline import corpus_files, ingest_file
from retrieval.store import Store
from ui.cli import main as cli


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad-corpus")
    corpus, index_dir = base / "corpus", base / "index"
    spec = rf.make_bad_corpus(corpus)
    listed = corpus_files([corpus])
    real_hash = index_mod.file_hash

    def hash_then_vanish(path):
        # The file is there when the build lists and hashes it, and gone when a worker
        # comes to read it: the race of a colleague moving a file during a build, made
        # deterministic at the seam between the two steps.
        digest = real_hash(path)
        if Path(path).name == spec["vanishing"]:
            Path(path).unlink()
        return digest

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(index_mod, "file_hash", hash_then_vanish)
        res = CliRunner().invoke(cli, ["index", "build", "--corpus", str(corpus), "--index",
                                       str(index_dir), "--json"])
    summary = json.loads(res.stdout)
    return {"spec": spec, "result": res, "summary": summary, "corpus": corpus,
            "index": index_dir, "listed": listed}


def test_exit_status_is_partial(built):
    res = built["result"]
    assert res.exit_code == EXIT_PARTIAL, res.output
    assert built["summary"]["exit_status"] == EXIT_PARTIAL


def test_every_bad_file_named_with_reason_and_fix(built, figures):
    spec, summary = built["spec"], built["summary"]
    failed = {f["file"]: f["reason"] for f in summary["failed"]}
    assert set(failed) == set(spec["bad"]), failed
    unclear = []
    for name, words in spec["bad"].items():
        line = failed[name]
        what, _, fix = line.partition(" — ")
        ok = (line.startswith(f"{name}: ") and "\n" not in line and len(fix.split()) >= 3
              and any(w.lower() in what.lower() for w in words))
        if not ok:
            unclear.append(line)
    assert not unclear, unclear
    # Each reason is its own: no two files share a message.
    reasons = {line.split(": ", 1)[1] for line in failed.values()}
    assert len(reasons) == len(failed)
    figures("bad_corpus", files_tried=len(built["listed"]), failed=len(failed),
            unclear_messages=len(unclear))


def test_good_reports_indexed_once_nothing_lost(built, figures):
    spec = built["spec"]
    store = Store(built["index"])
    kept, copy = spec["duplicate"][1], spec["duplicate"][0]
    # Sorted, the copy is hashed first: it is indexed and the other name is reported.
    assert built["summary"]["duplicates"] == [{"file": copy, "same_as": kept}]
    by_file: dict[str, list[str]] = defaultdict(list)
    for p in store.iter_passages():
        by_file[p.source_file].append(rf.flat(p.text))
    expected_files = (set(spec["good"]) - {copy}) | {kept}
    assert set(by_file) == expected_files
    assert {r.source_file for r in store.reports} == expected_files
    lost = []
    for name, sentences in spec["good"].items():
        texts = by_file[kept if name == copy else name]
        lost += [(name, s) for s in sentences if not any(rf.flat(s) in t for t in texts)]
    figures("bad_corpus", good_reports=len(expected_files),
            duplicates=len(built["summary"]["duplicates"]),
            sentences_checked=sum(len(v) for v in spec["good"].values()),
            data_lost=len(lost), passages=store.status().passages)
    assert not lost, lost[:5]


def test_500_page_pdf_cited_by_printed_page(built):
    name, info = built["spec"]["big"]
    store = Store(built["index"])
    rep = next(r for r in store.reports if r.source_file == name)
    assert rep.pages == 500
    passages = [p for p in store.iter_passages(rep.report_id)]
    for n in (1, 137, 250, 499, 500):
        note = f"Evidence note {n}:"
        owner = next(p for p in passages if note in p.text)
        assert str(n) in owner.page_labels, (n, owner.page_labels)


def test_nonsense_page_labels_fall_back_to_printed_numbers(built):
    name, info = built["spec"]["labels"]
    store = Store(built["index"])
    rep = next(r for r in store.reports if r.source_file == name)
    for p in store.iter_passages(rep.report_id):
        for label in p.page_labels:
            assert label in info["printed"], (label, p.text[:60])
    victim = next(p for p in store.iter_passages(rep.report_id)
                  if "Victims we spoke to were mostly satisfied" in p.text)
    assert victim.page_labels[0] == "1"


@pytest.mark.parametrize("variant", sorted(rf.NONSENSE_LABELS))
def test_each_kind_of_nonsense_label_is_ignored(variant, tmp_path, caplog):
    path = tmp_path / f"labels-{variant}.pdf"
    info = rf.make_nonsense_labels_pdf(path, variant)
    with caplog.at_level(logging.WARNING, logger="ingest"):
        res = ingest_file(path)
    assert res.error is None, res.error
    if variant != "letters":  # well-formed, just contradicted by the printed numbers
        assert any("PageLabels" in r.getMessage() for r in caplog.records)
    for p in res.passages:
        assert set(p.page_labels) <= set(info["printed"]) - {None}, (variant, p.page_labels)
    rec = next(p for p in res.passages if "every victim receives" in p.text)
    assert rec.page == "3"


def test_windows_1252_decoded(built):
    store = Store(built["index"])
    text = "\n".join(rf.flat(p.text) for p in store.iter_passages("kentmere-cp1252"))
    assert "\u00a31.2 million" in text and "caf\u00e9" in text and "\u201cworth" in text
    assert "\ufffd" not in text


def test_status_lists_failures_and_duplicate(built):
    res = CliRunner().invoke(cli, ["index", "status", "--index", str(built["index"])])
    assert res.exit_code == 0, res.output
    for name in built["spec"]["bad"]:
        assert f"last build failed: {name}: " in res.output
    assert "duplicate skipped: northshire-2015.pdf" in res.output


def test_ingest_command_one_line_per_bad_file(built, tmp_path):
    """`reportqa ingest` (no index) gives the same one-line reasons and exits 1."""
    spec = built["spec"]
    folder = tmp_path / "some"
    folder.mkdir()
    for name in ("truncated-download.pdf", "scanned-no-text.pdf", "binary-named.txt",
                 "zero-bytes.pdf", "web-page-saved-as.pdf", "alphashire-2016.txt"):
        (folder / name).write_bytes((built["corpus"] / name).read_bytes())
    res = CliRunner().invoke(cli, ["ingest", str(folder)])
    assert res.exit_code == 1
    errors = [ln for ln in res.stderr.splitlines() if ln.startswith("error: ")]
    assert len(errors) == 5, res.stderr
    for ln in errors:
        name = ln.split()[1].rstrip(":")
        assert name in spec["bad"] and " — " in ln, ln
    assert "Traceback" not in res.output


def test_utf16_text_report_is_read(tmp_path):
    """Notepad's "Unicode" is UTF-16 with a byte-order mark: text, not binary."""
    text, expected = rf.text_report("Kentmere Police", "cafés and £ budgets")
    path = tmp_path / "kentmere-utf16.txt"
    path.write_bytes(text.encode("utf-16"))
    res = ingest_file(path)
    assert res.error is None, res.error
    joined = "\n".join(rf.flat(p.text) for p in res.passages)
    assert all(rf.flat(s) in joined for s in expected)


def test_copies_of_unreadable_files_each_fail(tmp_path):
    import pdf_factory as pf

    from core.settings import load_settings
    from ingest.index import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rf.write_text_report(corpus / "alphashire.txt", "Alphashire Police", "burglary")
    (corpus / "empty-a.txt").write_bytes(b"")
    (corpus / "empty-b.pdf").write_bytes(b"")
    pf.make_encrypted_pdf(corpus / "locked-1.pdf")
    (corpus / "locked-2.pdf").write_bytes((corpus / "locked-1.pdf").read_bytes())
    s = build_index(load_settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    assert {f["file"] for f in s.failed} == {"empty-a.txt", "empty-b.pdf", "locked-1.pdf",
                                             "locked-2.pdf"}
    assert s.duplicates == []
