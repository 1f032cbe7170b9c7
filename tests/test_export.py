"""Exports (CSV, Markdown, DOCX, JSON): every row carries its citation, and hostile
report or question text cannot inject formulas, links, images, HTML or bidi tricks."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile

import pytest

from core.models import Passage
from retrieval.answer import Answer, Hit
from retrieval.export import (
    COLUMNS,
    FORMATS,
    clean_text,
    escape_markdown,
    export_filename,
    export_rows,
    formatted_citation,
    mark_segments,
    neutralise_cell,
    render,
    safe_filename,
)

HOSTILE = ('=HYPERLINK("http://x","click") <script>alert(1)</script> [x](http://evil) '
           "![i](http://evil/i.png) \u202eevil\u202c <img src=x onerror=alert(2)> "
           "visit www.evil.com or mail a@evil.com &amp; `code` *bold* | a | b |")
EXPORTED_AT = "2026-01-02T03:04:05+00:00"


def passage(pid: str, text: str, *, kind: str = "paragraph", page: str = "19",
            section=("How effective is the force at tackling anti-social behaviour?",
                     "Partnership working")) -> Passage:
    return Passage(
        passage_id=pid, report_id="wm-2014", report_title="Crime inspection 2014",
        force="West Midlands Police", year=2014, inspection_type="crime",
        section=tuple(section), page_labels=(page,), pdf_pages=(int(page),), kind=kind,
        text=text, source_file="hmic-crime-inspection-2014-west-midlands.txt")


def answer(question: str, hits: list[tuple[Passage, str]], abstained: bool = False,
           build: str = "b1") -> Answer:
    return Answer(question, tuple(Hit(p, 0.9 - i / 10, hl, i + 1)
                                  for i, (p, hl) in enumerate(hits)),
                  abstained, 0.8, build_id=build)


@pytest.fixture
def conversation() -> list[Answer]:
    p1 = passage("p1", "The force works well with partners.\nASB fell by 12% in 2013/14.")
    p2 = passage("p2", "- 25.5 incidents per 1,000 people", kind="table", page="10",
                 section=("How effective is the force at reducing crime?", "Crime"))
    p3 = passage("p3", HOSTILE, kind="recommendation", page="22")
    return [
        answer("How does the force tackle ASB?",
               [(p1, "ASB fell by 12% in 2013/14."), (p2, "")]),
        answer("+cmd and what about <b>crime</b> [x](http://evil)?",
               [(p2, "25.5 incidents"), (p3, "<script>alert(1)</script>")]),
    ]


def test_rows_carry_full_citation_and_provenance(conversation):
    rows = export_rows(conversation, None, build_id="fallback", exported_at=EXPORTED_AT)
    # p2 is cited twice; exported once, under the first question that cited it.
    assert [r["passage_id"] for r in rows] == ["p1", "p2", "p3"]
    r = rows[0]
    assert set(COLUMNS) <= set(r)
    assert r["question"] == "How does the force tackle ASB?"
    assert r["rank"] == 1
    assert r["citation"] == ("West Midlands Police — Crime inspection 2014 › Tackling "
                             "anti-social behaviour › Partnership working, p. 19")
    assert r["report"] == "Crime inspection 2014" and r["force"] == "West Midlands Police"
    assert r["section"].endswith("› Partnership working")
    assert r["page"] == "19" and r["highlight"] == "ASB fell by 12% in 2013/14."
    assert r["source_file"] == "hmic-crime-inspection-2014-west-midlands.txt"
    assert r["build_id"] == "b1" and r["exported_at"] == EXPORTED_AT
    assert rows[2]["question"].startswith("+cmd")


def test_selection_by_passage_id(conversation):
    rows = export_rows(conversation, {"p3", "p1"})
    assert [r["passage_id"] for r in rows] == ["p1", "p3"]
    assert export_rows(conversation, set()) == []
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$", rows[0]["exported_at"])


def test_build_id_falls_back_when_answer_has_none():
    a = answer("q", [(passage("p1", "text"), "")], build="")
    assert export_rows([a], build_id="b9")[0]["build_id"] == "b9"


def test_csv_opens_in_excel_and_neutralises_formulas(conversation):
    rows = export_rows(conversation, None, exported_at=EXPORTED_AT)
    data = render(rows, "csv")
    assert data.startswith(b"\xef\xbb\xbf")
    assert b"\r\n" in data
    table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert tuple(table[0]) == COLUMNS
    assert len(table) == 1 + len(rows)
    col = {c: i for i, c in enumerate(COLUMNS)}
    hostile = table[3]
    assert hostile[col["text"]].startswith("'=HYPERLINK(")
    assert hostile[col["question"]].startswith("'+cmd")
    assert table[2][col["text"]].startswith("'- 25.5")
    assert "\u202e" not in data.decode("utf-8-sig")
    for line in table[1:]:
        for cell in line:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1", " =1",
                                   "\n=1", "\uff1d1"])
def test_formula_cells(value):
    assert neutralise_cell(value).startswith("'")


def test_plain_cells_untouched():
    assert neutralise_cell("ASB fell by 12%") == "ASB fell by 12%"
    assert neutralise_cell(3) == 3


def test_markdown_annex_is_inert(conversation):
    rows = export_rows(conversation, None, exported_at=EXPORTED_AT)
    md = render(rows, "md").decode("utf-8")
    assert md.startswith("# Briefing annex")
    assert "## 1. How does the force tackle ASB" in md
    # Each passage comes with its full citation and its text, quoted.
    assert "West Midlands Police — Crime inspection 2014 › Tackling anti" in md
    assert "> The force works well with partners." in md
    assert "\u202e" not in md
    # GFM autolink literals (scheme://, www., e-mail) are broken by escapes.
    assert "http\\://" in md and "www\\.evil" in md and "a\\@evil" in md
    # Rendered by a CommonMark + GFM-table engine: no links, images or HTML.
    markdown_it = pytest.importorskip("markdown_it")  # comes with streamlit (via rich)
    engine = markdown_it.MarkdownIt("commonmark", {"html": True}).enable(
        ["table", "strikethrough"])
    out = engine.render(md)
    for bad in ("<a ", "<img", "<script", "<b>", "<code>", "<table", "<em>bold",
                "<strong>bold", "<h1>- 25.5", "<ul>", "<li>"):
        assert bad not in out, bad
    assert "&lt;script&gt;" in out
    assert "[x](http://evil)" in out
    assert "![i](http://evil/i.png)" in out
    # The highlight and the quoted passage survive as text.
    assert "ASB fell by 12% in 2013/14." in out


def test_escape_markdown_keeps_prose_readable():
    assert escape_markdown("The force's rate fell 3.5% in 2013-14.") == (
        "The force's rate fell 3.5% in 2013-14.")
    assert escape_markdown("# heading\n  1. item\n- bullet") == (
        "\\# heading\n1\\. item\n\\- bullet")


def test_docx_is_a_word_table(conversation):
    from docx import Document

    rows = export_rows(conversation, None, exported_at=EXPORTED_AT)
    rows[0]["note"] = "Quote this in section 2."
    data = render(rows, "docx")
    assert zipfile.is_zipfile(io.BytesIO(data))
    doc = Document(io.BytesIO(data))
    # One table per question, under a heading that asks it.
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    assert headings == ["1. How does the force tackle ASB?",
                        "2. +cmd and what about <b>crime</b> [x](http://evil)?"]
    assert len(doc.tables) == 2
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["#", "Passage", "Identifiers"]
    assert len(table.rows) == 1 + 2
    num, main, ids = table.rows[1].cells
    assert num.text == "1.1"
    cite, text, note, meta = main.paragraphs
    assert cite.text == formatted_citation(rows[0]) and all(r.bold for r in cite.runs)
    assert "ASB fell by 12%" in text.text
    # The highlight is bold in the passage.
    assert [r.text for r in text.runs if r.bold] == ["ASB fell by 12% in 2013/14."]
    assert note.text == "Analyst's note: Quote this in section 2."
    assert all(r.italic for r in note.runs)
    assert meta.text == "Kind: paragraph"
    for field in ("Passage id\np1", "Report id\nwm-2014", "Index build\nb1",
                  "Source file\nhmic-crime-inspection-2014-west-midlands.txt"):
        assert field in ids.text
    assert all(r.font.size.pt == 7 for p in ids.paragraphs for r in p.runs)
    # Hostile text is stored as literal text (Word does not interpret it), minus bidi.
    hostile = doc.tables[1].rows[1].cells[1].text
    assert "<script>alert(1)</script>" in hostile and "\u202e" not in hostile


def test_docx_survives_control_characters():
    from docx import Document

    p = passage("p1", "bell\x07 nul\x00 vt\x0b ok \ufffe")
    data = render(export_rows([answer("q\x00?", [(p, "")])]), "docx")
    assert "bell nul vt ok" in Document(io.BytesIO(data)).tables[0].rows[1].cells[1].text


def test_json_rows(conversation):
    rows = export_rows(conversation, {"p3"}, exported_at=EXPORTED_AT)
    data = json.loads(render(rows, "json"))
    assert data == [{c: rows[0][c] for c in COLUMNS}]
    assert data[0]["text"].startswith('=HYPERLINK("http://x"')  # JSON keeps text as data
    assert "\u202e" not in data[0]["text"]


def test_empty_exports():
    for fmt in FORMATS:
        assert render([], fmt)
    assert json.loads(render([], "json")) == []


def test_unknown_format():
    with pytest.raises(ValueError):
        render([], "xlsx")


@pytest.mark.parametrize("question", [
    "../../etc/passwd", "..\\..\\windows\\system32", "/abs/path", "a\x00b\nc",
    "\u202egnp.exe", "CON", "", "   ", "?" * 50, "é" * 300,
    "What were the stop and search figures for 2015?"])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_safe_filename(question, fmt):
    name = safe_filename(question, fmt)
    assert name.endswith("." + FORMATS[fmt].extension)
    stem = name[: -len(FORMATS[fmt].extension) - 1]
    assert re.fullmatch(r"[a-z0-9-]+", stem), name
    assert ".." not in name and "/" not in name and "\\" not in name
    assert len(name) <= 80


def test_safe_filename_readable():
    assert safe_filename("What about ASB in 2014?", "csv") == "reportqa-what-about-asb-in-2014.csv"


def test_clean_text_removes_controls_and_bidi():
    assert clean_text("a\u202eb\u2066c\u200bd\x00e\r\nf\tg") == "abcde\nf\tg"


def test_mark_segments():
    segs = mark_segments("One. Two  three\nfour. Five.", "Two three four.")
    assert segs == [("One. ", False), ("Two  three\nfour.", True), (" Five.", False)]
    assert mark_segments("text", "") == [("text", False)]
    assert mark_segments("text", "absent words here") == [("text", False)]


def test_table_rows_say_they_were_reformatted():
    from docx import Document

    t = passage("t1", "Robbery — Northshire Police 1.2, England and Wales 1.4", kind="table")
    p = passage("p1", "Officers patrol the town centre at night.")
    rows = export_rows([answer("robbery rate", [(t, ""), (p, "")])], exported_at=EXPORTED_AT)
    assert [r["reformatted"] for r in rows] == ["table row, reformatted", ""]
    assert "table row, reformatted" in render(rows, "md").decode()
    assert b"table row, reformatted" in render(rows, "csv")
    doc = Document(io.BytesIO(render(rows, "docx")))
    cells = [c.text for row in doc.tables[0].rows for c in row.cells]
    assert any("Kind: table (table row, reformatted)" in c for c in cells)
    assert not any("Kind: paragraph (" in c for c in cells)


def test_notes_in_every_format(conversation):
    from docx import Document

    rows = export_rows(conversation, {"p1", "p3"}, exported_at=EXPORTED_AT)
    assert [r["note"] for r in rows] == ["", ""]
    assert COLUMNS[COLUMNS.index("highlight") + 1] == "note"
    rows[0]["note"] = "=HYPERLINK(\"http://x\") see [x](http://evil) \u202eok"
    rows[1]["note"] = "Cite in the briefing."
    table = list(csv.reader(io.StringIO(render(rows, "csv").decode("utf-8-sig"),
                                        newline="")))
    assert table[1][COLUMNS.index("note")].startswith("'=HYPERLINK(")
    assert table[2][COLUMNS.index("note")] == "Cite in the briefing."
    data = json.loads(render(rows, "json"))
    assert data[0]["note"] == '=HYPERLINK("http://x") see [x](http://evil) ok'
    md = render(rows, "md").decode()
    assert "Note: \\=HYPERLINK(\"http\\://x\") see \\[x\\](http\\://evil) ok" in md
    assert "Note: Cite in the briefing." in md
    assert md.index("> The force works well") < md.index("Note: \\=HYPERLINK")
    doc = Document(io.BytesIO(render(rows, "docx")))
    cells = [t.rows[1].cells[1].text for t in doc.tables]
    assert "Analyst's note: =HYPERLINK(\"http://x\") see [x](http://evil) ok" in cells[0]
    assert "Analyst's note: Cite in the briefing." in cells[1]
    # No note, no note line.
    rows[1]["note"] = ""
    assert "Note:" not in render(rows[1:], "md").decode()
    assert "Analyst's note" not in Document(io.BytesIO(render(rows[1:], "docx"))).tables[
        0].rows[1].cells[1].text


def test_formatted_citation(conversation):
    rows = export_rows(conversation, None, exported_at=EXPORTED_AT)
    assert formatted_citation(rows[0]) == (
        '"Crime inspection 2014", West Midlands Police, 2014, section "Tackling '
        'anti-social behaviour › Partnership working", p. 19')
    assert formatted_citation(rows[1]).endswith(
        'section "Reducing crime › Crime", p. 10')
    national = {"report": "State of policing  2016", "force": "National", "year": 2017,
                "section": "Summary", "page": "12–13"}
    assert formatted_citation(national) == (
        '"State of policing 2016", 2017, section "Summary", pp. 12–13')
    assert formatted_citation({"report": "R", "force": "", "year": None, "section": "",
                               "page": ""}) == '"R"'
    assert formatted_citation({}) == ""
    assert "\u202e" not in formatted_citation({"report": "a\u202eb\nc"})


def test_export_filename(conversation):
    rows = export_rows(conversation, None, exported_at=EXPORTED_AT)
    # Two of three passages come from "Partnership working" (the last heading).
    assert export_filename(rows, "docx") == (
        "reportqa-2026-01-02-partnership-working-3-passages.docx")
    assert export_filename(rows[:1], "csv", topic="Anti-social behaviour",
                           when=dt.date(2026, 12, 2)) == (
        "reportqa-2026-12-02-anti-social-behaviour-1-passage.csv")
    # No section: the first question; a topic with no usable characters falls through.
    bare = [dict(rows[0], section="")]
    assert export_filename(bare, "md", topic="???") == (
        "reportqa-2026-01-02-how-does-the-force-tackle-asb-1-passage.md")
    # An inspection question as heading is cited (and named) in its short form.
    asb = [dict(r, section="How effective is the force at tackling anti-social behaviour?")
           for r in rows]
    assert export_filename(asb, "json") == (
        "reportqa-2026-01-02-tackling-anti-social-behaviour-3-passages.json")
    assert export_filename([], "json", when=dt.date(2026, 1, 1)) == (
        "reportqa-2026-01-01-0-passages.json")
    with pytest.raises(ValueError):
        export_filename(rows, "xlsx")


@pytest.mark.parametrize("topic", [
    "../../etc/passwd", "..\\..\\windows\\system32", "a\x00b\nc", "\u202egnp.exe",
    "é" * 300, "x" * 300])
@pytest.mark.parametrize("fmt", list(FORMATS))
def test_export_filename_is_safe(topic, fmt):
    rows = [{"question": topic, "section": topic, "exported_at": EXPORTED_AT}] * 120
    for name in (export_filename(rows, fmt, topic=topic), export_filename(rows, fmt)):
        stem = name[: -len(FORMATS[fmt].extension) - 1]
        assert re.fullmatch(r"[a-z0-9-]+", stem), name
        assert len(name) <= 80


def test_docx_passage_cell_keeps_unmarkable_highlight_and_judgment():
    from docx import Document

    p = passage("p1", "Officers patrol the town centre at night.")
    rows = export_rows([answer("patrols", [(p, "A sentence the passage does not hold.")])],
                       exported_at=EXPORTED_AT)
    rows[0]["judgment"] = "Good (overall)"
    cell = Document(io.BytesIO(render(rows, "docx"))).tables[0].rows[1].cells[1]
    assert [para.text for para in cell.paragraphs] == [
        formatted_citation(rows[0]), "Officers patrol the town centre at night.",
        "Key sentence: A sentence the passage does not hold.",
        "Kind: paragraph · Judgment: Good (overall)"]
