"""Hostile text end to end: a real report (and its file name) full of HTML and script,
Markdown links and images, Streamlit colour and maths syntax, spreadsheet formulas,
terminal escapes, bidi overrides, zero-width characters and extremely long lines,
indexed for real, then asked hostile questions in the web app (AppTest) and on the
command line. Everything must be shown as inert text — in the page, in the terminal,
in CSV (no formula runs), Markdown (no link, image or HTML forms), Word and JSON — with
the text itself kept; an export file name made from a question never leaves the chosen
folder; and the app listens on localhost unless told otherwise."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path

import hostile_text as H
import pytest
import robust_factory as rf
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from core.settings import load_settings
from ingest.index import build_index
from retrieval.export import FORMATS, export_rows, render, safe_filename
from retrieval.search import get_searcher
from ui.cli import main as cli

APP = str(Path(__file__).resolve().parent.parent.parent / "ui" / "app.py")
ROOT = Path(__file__).resolve().parent.parent.parent
BROKEN_NAME = f"{H.ESC}[2J{H.ESC}]0;owned{H.BEL}broken {H.RLO}fdp.pdf"
#: The tags our own card markup uses; anything else in a card came from a report.
OUR_TAGS = {"div", "h3", "span", "mark"}


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    corpus = base / "corpus"
    corpus.mkdir()
    (corpus / H.HOSTILE_NAME).write_text(H.REPORT, encoding="utf-8")
    rf.write_text_report(corpus / "alphashire.txt", "Alphashire Police", "burglary")
    # An HTML page under a .pdf name whose name carries terminal escapes.
    (corpus / BROKEN_NAME).write_text("<html><script>alert(1)</script></html>")
    res = CliRunner().invoke(cli, ["index", "build", "--corpus", str(corpus), "--index",
                                   str(base / "index")])
    return {"index": base / "index", "corpus": corpus, "build_output": res.output,
            "exit": res.exit_code}


def _invisible(text: str) -> set[str]:
    return {c for c in text if c in H.INVISIBLE or (ord(c) < 32 and c not in "\n\r\t")}


def test_build_names_the_broken_file_without_escapes(hostile):
    assert hostile["exit"] == 3, hostile["build_output"]
    out = hostile["build_output"]
    assert not _invisible(out), _invisible(out)
    # Still named, with its escapes shown: "\x1b[2J..." can be found and removed.
    assert "failed: \\x1b[2J\\x1b]0;owned\\x07broken \\u202efdp.pdf: not a PDF" in out


def test_cli_answers_are_inert(hostile):
    runner = CliRunner()
    for q in H.QUESTIONS:
        for extra in ([], ["--json"]):
            res = runner.invoke(cli, ["ask", q, "--index", str(hostile["index"]), *extra])
            assert res.exit_code == 0, res.output
            body = res.stdout
            if extra:
                data = json.loads(body)
                assert data["passages"], q
                # The caller's own question is echoed as data, exactly; what came from
                # the reports must be clean.
                body = json.dumps(data["passages"], ensure_ascii=False)
            assert not _invisible(body), (q, _invisible(body))
    res = runner.invoke(cli, ["index", "status", "--index", str(hostile["index"])])
    assert res.exit_code == 0 and not _invisible(res.output), res.output


def test_hostile_text_is_kept_as_text(hostile):
    """Inert does not mean lost: the markup is in the passages, as text."""
    searcher = get_searcher(hostile["index"])
    text = "\n".join(p.text for p in searcher.store.iter_passages())
    for piece in ("<script>alert(1)</script>", "[the plan](javascript:alert(2))",
                  "![tracker](http://evil.example/t.png)", '=HYPERLINK("http://evil.example"',
                  ":red[red text]", "x" * 12_000, "burglary2499"):
        assert piece in text, piece
    assert not _invisible(text)


# -- the web app ------------------------------------------------------------------------------

@pytest.fixture
def downloads(monkeypatch) -> dict[str, tuple[str, bytes]]:
    """Bytes and file name behind each download button, by media file id."""
    files: dict[str, tuple[str, bytes]] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        if isinstance(path_or_data, bytes):
            files[file_id] = (filename, path_or_data)
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return files


@pytest.fixture
def app_session(hostile, monkeypatch, downloads, tmp_path):
    monkeypatch.setenv("REPORTQA_INDEX", str(hostile["index"]))
    monkeypatch.setenv("REPORTQA_SESSIONS", str(tmp_path / "sessions"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    for q in H.QUESTIONS:
        at.chat_input[0].set_value(q).run()
        assert not at.exception, at.exception
    return at


def _page_strings(at) -> list[str]:
    out = [h.value for h in at.get("html")]
    for kind in ("markdown", "caption", "text", "code", "error", "info", "warning"):
        out += [str(e.value) for e in getattr(at, kind)]
    for ms in at.multiselect:
        out += [str(o) for o in ms.options]
    out += [str(o) for o in at.selectbox[0].options] if at.selectbox else []
    return out


def test_app_shows_hostile_text_inert(app_session):
    at = app_session
    turns = at.session_state["turns"]
    assert len(turns) == len(H.QUESTIONS) and all(t["answer"].hits for t in turns)
    strings = _page_strings(at)
    for s in strings:
        assert not _invisible(s), (s[:80], _invisible(s))
    cards = [h.value for h in at.get("html") if 'class="rq-card"' in h.value]
    assert cards
    for c in cards:
        tags = {t.lower() for t in re.findall(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9]*)", c)}
        assert tags <= OUR_TAGS, tags - OUR_TAGS
        assert "javascript:" not in re.sub(r"&[a-z]+;|&#\d+;", "", c) or "&lt;" in c
    # The short answers: our paragraph and marker links only, to the cards' anchors.
    shorts = [h.value for h in at.get("html") if 'class="rq-short"' in h.value]
    assert len(shorts) == len(H.QUESTIONS)
    for sa in shorts:
        tags = {t.lower() for t in re.findall(r"<\s*/?\s*([a-zA-Z][a-zA-Z0-9]*)", sa)}
        assert tags <= {"p", "a"}, tags
        assert set(re.findall(r'href="([^"]*)"', sa)) <= {
            f"#{m}" for m in re.findall(r'id="(rq-card-[0-9]+-[0-9]+)"', "".join(cards))}
    shown = "\n".join(cards)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in shown  # kept, as text
    # Markdown-rendering elements get every ASCII punctuation mark escaped.
    for el in list(at.markdown) + list(at.caption):
        v = el.value
        assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", v), v
        assert not re.search(r"(?<!\\)<[a-zA-Z/!]", v), v
        assert not re.search(r"(?<!\\):[a-z]+(?<!\\)\[", v), v  # :red[...]
        assert not re.search(r"(?<![\\*])\$", v), v  # maths
    # The user's question is shown as plain text.
    users = [m.text[0].value for m in at.chat_message if m.name == "user"]
    assert users[0].startswith("What happened to burglary? <script>alert(9)</script>")


def test_app_exports_are_inert_and_complete(app_session, downloads):
    at = app_session
    for toggle in list(at.toggle):  # every cited passage into the basket
        at.toggle(key=toggle.key).set_value(True).run()
    assert len(at.session_state["basket"]) == len({t.key.rsplit(":", 1)[1] for t in at.toggle})
    by_fmt = {}
    for fmt in FORMATS:
        button = at.download_button(key=f"dl_{fmt}")
        file_id = button.proto.url.rsplit("/", 1)[-1].split(".")[0]
        by_fmt[fmt] = downloads[file_id]
    # File names: the date, a topic from the passages, the count; a plain safe name.
    for fmt, (name, _) in by_fmt.items():
        assert re.fullmatch(rf"reportqa-\d{{4}}-\d\d-\d\d-[a-z0-9-]{{1,60}}-passages?"
                            rf"\.{FORMATS[fmt].extension}", name), name

    rows = list(csv.reader(io.StringIO(by_fmt["csv"][1].decode("utf-8-sig"), newline="")))
    assert len(rows) > 1
    for row in rows[1:]:
        for cell in row:
            assert not cell.lstrip(" \n").startswith(("=", "+", "-", "@", "\t", "\r",
                                                      "\uff1d", "\uff0b", "\uff0d", "\uff20"))
            assert not _invisible(cell.replace("\n", "")), cell[:60]

    md = by_fmt["md"][1].decode("utf-8")
    assert not _invisible(md.replace("\n", ""))
    # No bare URL a GFM renderer would turn into a link (the scheme's colon is escaped).
    assert not re.search(r"(?<!\\)https?:(?=//)", md)
    markdown_it = pytest.importorskip("markdown_it")
    renderer = markdown_it.MarkdownIt("commonmark", {"html": True}).enable(
        ["table", "strikethrough"])
    rendered = renderer.render(md)
    for bad in ("<a ", "<img", "<script", "<iframe", "<b>", 'href="javascript'):
        assert bad not in rendered, bad

    from docx import Document

    doc = Document(io.BytesIO(by_fmt["docx"][1]))
    doc_text = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert not _invisible(doc_text.replace("\n", "").replace("\t", ""))
    assert "<script>alert(1)</script>" in doc_text  # shown as the text it is

    data = json.loads(by_fmt["json"][1])
    assert data and not _invisible(json.dumps(data, ensure_ascii=False).replace("\\n", ""))
    # Nothing lost: each exported passage's text is the indexed text, cleaned.
    searcher = get_searcher(Path(os.environ["REPORTQA_INDEX"]))
    indexed = {p.passage_id: p.text for p in searcher.store.iter_passages()}
    for row in data:
        assert row["text"] == indexed[row["passage_id"]]


# -- export file names --------------------------------------------------------------------------

@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(question=st.text(max_size=300), fmt=st.sampled_from(list(FORMATS)))
def test_export_file_name_is_a_plain_name_in_the_folder(question, fmt, tmp_path_factory):
    name = safe_filename(question, fmt)
    assert re.fullmatch(rf"reportqa-[a-z0-9-]{{0,60}}\.{FORMATS[fmt].extension}", name), name
    folder = Path("/srv/exports")
    assert (folder / name).resolve().parent == folder.resolve()


TRAVERSAL = ["../../../../tmp/reportqa-evil", "/etc/passwd", "..", "a/../../b",
             "C:\\Windows\\System32\\evil", "~/.bashrc", "\x00../x", "CON", "NUL.txt",
             f"{H.RLO}fdp.exe", "%2e%2e%2fetc", "burglary/../../../outside"]


def test_cli_export_stays_in_the_chosen_folder(hostile, tmp_path):
    out = tmp_path / "exports"
    out.mkdir()
    before = set(tmp_path.rglob("*"))
    runner = CliRunner()
    for q in TRAVERSAL:
        for fmt in ("csv", "md"):
            res = runner.invoke(cli, ["export", q, "--format", fmt, "-o", str(out),
                                      "--index", str(hostile["index"])])
            assert res.exit_code == 0, res.output
    new = set(tmp_path.rglob("*")) - before
    assert new and all(p.parent == out for p in new), sorted(map(str, new))
    for p in new:
        assert re.fullmatch(r"reportqa-[a-z0-9-]*\.(csv|md)", p.name), p.name


def test_export_rows_render_every_format(hostile):
    """The same answers through retrieval.export directly (what the CLI writes)."""
    searcher = get_searcher(hostile["index"])
    answers = [searcher.ask(q) for q in H.QUESTIONS]
    rows = export_rows(answers, build_id=searcher.store.build_id)
    for fmt in FORMATS:
        data = render(rows, fmt)
        if fmt != "docx":
            assert not _invisible(data.decode("utf-8-sig").replace("\n", "")
                                  .replace("\r", "")), fmt


# -- where the app listens ------------------------------------------------------------------

def test_serve_binds_localhost_by_default(monkeypatch):
    seen = {}

    def fake_execv(path, argv):  # the real one would become the Streamlit server
        seen["argv"] = argv
        raise SystemExit(0)

    monkeypatch.setattr(os, "execv", fake_execv)
    res = CliRunner().invoke(cli, ["serve"])
    assert res.exit_code == 0, res.output
    argv = seen["argv"]
    assert argv[argv.index("--server.address") + 1] == "127.0.0.1"
    assert "http://127.0.0.1:8501" in res.output
    assert "authenticating proxy" in CliRunner().invoke(cli, ["serve", "--help"]).output


def test_readme_explains_sharing_behind_an_authenticating_proxy():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("### Sharing the app with a team", 1)[1].split("\n## ", 1)[0]
    for must in ("localhost", "reverse proxy", "authenticat", "WebSocket", "127.0.0.1",
                 "0.0.0.0"):
        assert must in section, must
    assert re.search(r"[Dd]o not\s+run `reportqa serve --host 0\.0\.0\.0`", section)


def test_file_names_with_escapes_never_reach_the_terminal(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    name = f"{H.ESC}[31mred {H.RLO}txt.txt"
    rf.write_text_report(corpus / name, "Alphashire Police", "burglary")
    (corpus / f"copy {H.ESC}[2J.txt").write_bytes((corpus / name).read_bytes())
    build_index(load_settings(corpus_dir=corpus, index_dir=tmp_path / "index"))
    runner = CliRunner()
    status = runner.invoke(cli, ["index", "status", "--index", str(tmp_path / "index")])
    assert status.exit_code == 0
    assert not _invisible(status.output), status.output
