"""Exports of cited passages for a briefing: CSV (for Excel), Markdown (a briefing
annex), DOCX (the same as a Word table) and JSON. Every row carries its full citation,
the question it answered, the index build and the time of export.

Report text and questions are untrusted: every string is cleaned of control and
bidirectional-override characters, CSV cells are neutralised against formula
injection, and Markdown is escaped so report text cannot render links, images or HTML.
Pure functions: no Streamlit, no index access."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import unicodedata
from collections.abc import Iterable

from retrieval.answer import Answer, Comparison

#: Export formats, their file extensions and MIME types.
FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("csv", "text/csv"),
    "md": ("md", "text/markdown"),
    "docx": ("docx",
             "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    "json": ("json", "application/json"),
}

#: What an export says of a table passage, whose rows ingest rewrote as lines.
TABLE_NOTE = "table row, reformatted"

#: Row fields, in column order.
COLUMNS = ("question", "rank", "score", "abstained", "citation", "report", "force", "year",
           "section", "page", "kind", "reformatted", "text", "highlight", "judgment",
           "source_file",
           "passage_id", "report_id", "build_id", "exported_at")

# C0/C1 controls (but tab and newline), bidi embeddings/overrides/isolates and marks,
# zero-width characters used to hide text, BOMs, lone surrogates and non-characters:
# none belongs in a citation, several can disguise text ("\u202e" reverses it) and
# some make XML (DOCX) invalid.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064"
    "\u2066-\u2069\ufeff\ufff9-\ufffb\ufdd0-\ufdef\ufffe\uffff\ud800-\udfff]")

# Characters that make a spreadsheet cell a formula (Excel, LibreOffice, Sheets),
# full-width forms included because some importers fold them.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def clean_text(text: object) -> str:
    """Text with line endings unified to \\n and control, bidi-override and
    zero-width characters removed (tabs and newlines kept)."""
    s = "" if text is None else str(text)
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n")
    s = s.replace("\u2029", "\n\n").replace("\x85", "\n")
    return _UNSAFE.sub("", s)


_MD_ALWAYS = re.compile(r"([\\`*_\[\]<>|~$&])")
_MD_STRICT = re.compile(r"([!-/:-@\[-`{-~])")


def escape_markdown(text: object, strict: bool = False) -> str:
    """Text that Markdown (CommonMark + GFM) shows literally: no links, images,
    autolinks, HTML, entities, emphasis, code, tables or block structure can form.

    The default keeps ordinary prose readable (full stops and hyphens mid-line are
    left alone); ``strict`` backslash-escapes every ASCII punctuation character, for
    one-line text rendered by engines with extra syntax (Streamlit: math, colours)."""
    s = clean_text(text)
    if strict:
        return _MD_STRICT.sub(r"\\\1", s).replace("\n", " ")
    s = _MD_ALWAYS.sub(r"\\\1", s)
    # GFM autolink literals: scheme://, www., e-mail addresses.
    s = re.sub(r":(?=/)", r"\\:", s)
    s = re.sub(r"(?i)\b(www)\.", r"\1\\.", s)
    s = s.replace("@", "\\@")
    out = []
    for line in s.split("\n"):
        # Leading spaces would make an indented code block; a leading #, >, -, +, =
        # or "1." would start a heading, quote, list or setext underline.
        line = line.lstrip(" \t")
        line = re.sub(r"^([#>+=-])", r"\\\1", line)
        line = re.sub(r"^(\d{1,9})([.)])", r"\1\\\2", line)
        out.append(line)
    return "\n".join(out)


def neutralise_cell(value: object) -> object:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula: strings
    starting (after spaces) with = + - @ tab or CR get a leading single quote."""
    if not isinstance(value, str):
        return value
    stripped = value.lstrip(" \n")
    if value.startswith(("\t", "\r")) or stripped.startswith(_FORMULA_START):
        return "'" + value
    return value


def export_rows(answers: list[Answer], selected: set[str] | None = None,
                build_id: str = "", exported_at: str | None = None) -> list[dict]:
    """One row per exported passage, in conversation order.

    ``selected`` holds passage ids (None: every passage cited in the conversation). A
    passage cited by several answers is exported once, under the first question that
    cited it. ``build_id`` is used where an answer does not record its own build;
    ``exported_at`` (ISO 8601) defaults to now, in UTC."""
    when = exported_at or dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    rows: list[dict] = []
    seen: set[str] = set()
    for answer in answers:
        for hit in answer.hits:
            p = hit.passage
            if selected is not None and p.passage_id not in selected:
                continue
            if p.passage_id in seen:
                continue
            seen.add(p.passage_id)
            row = {
                "question": answer.question,
                "rank": int(hit.rank),
                "score": round(float(hit.score), 4),
                "abstained": bool(answer.abstained),
                "citation": p.citation,
                "report": p.report_title,
                "force": p.force,
                "year": p.year,
                "section": " › ".join(p.section),
                "page": p.page,
                "kind": p.kind,
                # Table rows are the one text ingest restructures (each row as a line
                # that reads on its own); every other passage is the report's words.
                "reformatted": TABLE_NOTE if p.kind == "table" else "",
                "text": p.text,
                "highlight": hit.highlight,
                "judgment": "",
                "source_file": p.source_file,
                "passage_id": p.passage_id,
                "report_id": p.report_id,
                "build_id": answer.build_id or build_id,
                "exported_at": when,
            }
            rows.append({k: clean_text(v) if isinstance(v, str) else v
                         for k, v in row.items()})
    return rows


def comparison_rows(comparison: Comparison, build_id: str = "",
                    exported_at: str | None = None) -> list[dict]:
    """A comparison's answering rows as export rows (rank = row number), each with its
    report's graded judgment when the question asked about grades."""
    rows = export_rows([comparison.as_answer()], build_id=build_id or comparison.build_id,
                       exported_at=exported_at)
    grades = {r.hit.passage.passage_id: (f"{r.judgment} ({r.judgment_of})" if r.judgment
                                         else "") for r in comparison.answering}
    for row in rows:
        row["judgment"] = clean_text(grades.get(row["passage_id"], ""))
    return rows


def render(rows: list[dict], fmt: str) -> bytes:
    """The rows as a file's bytes: "csv", "md", "docx" or "json"."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    rows = [{k: clean_text(v) if isinstance(v, str) else v for k, v in r.items()}
            for r in rows]
    return {"csv": _csv, "md": _markdown, "docx": _docx, "json": _json}[fmt](rows)


def safe_filename(question: str, fmt: str) -> str:
    """A file name for an export, made from a question: ASCII letters, digits and
    hyphens only (no path separators, dots, control characters), at most 60
    characters before the extension; "reportqa-export" when nothing is left."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    s = unicodedata.normalize("NFKD", clean_text(question))
    s = s.encode("ascii", "ignore").decode("ascii").lower()
    s = re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:60].rstrip("-")
    return f"reportqa-{s or 'export'}.{FORMATS[fmt][0]}"


# -- formats -------------------------------------------------------------------------

def _cell(v: object) -> object:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return ""
    return neutralise_cell(v)


def _csv(rows: list[dict]) -> bytes:
    buf = io.StringIO()
    # Excel reads UTF-8 only with a BOM and expects CRLF rows.
    w = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(COLUMNS)
    for r in rows:
        w.writerow([_cell(r.get(c)) for c in COLUMNS])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _json(rows: list[dict]) -> bytes:
    return (json.dumps([{c: r.get(c) for c in COLUMNS} for r in rows], ensure_ascii=False,
                       indent=2) + "\n").encode("utf-8")


def _header(rows: list[dict]) -> str:
    if not rows:
        return "No passages were selected for export."
    builds = sorted({r.get("build_id") or "" for r in rows} - {""})
    n = len(rows)
    parts = [f"Exported {rows[0].get('exported_at', '')}",
             f"{n} passage{'s' if n != 1 else ''}"]
    if builds:
        parts.append("index build " + ", ".join(builds))
    return " · ".join(parts)


def _by_question(rows: list[dict]) -> Iterable[tuple[str, bool, list[dict]]]:
    group: list[dict] = []
    for r in rows:
        if group and r["question"] != group[0]["question"]:
            yield group[0]["question"], bool(group[0].get("abstained")), group
            group = []
        group.append(r)
    if group:
        yield group[0]["question"], bool(group[0].get("abstained")), group


def _quote(text: str) -> str:
    lines = escape_markdown(text).split("\n")
    out = []
    for i, line in enumerate(lines):
        last = i == len(lines) - 1 or not lines[i + 1]
        # A trailing backslash is a hard line break, which keeps table rows apart.
        out.append("> " + line + ("" if last or not line else "\\"))
    return "\n".join(out)


def _inline(text: str) -> str:
    """Escaped Markdown for one line (heading, bold citation, note)."""
    return escape_markdown(" ".join(clean_text(text).split()))


def _markdown(rows: list[dict]) -> bytes:
    md = ["# Briefing annex: passages from the inspection reports", "",
          escape_markdown(_header(rows)), ""]
    for qn, (question, abstained, group) in enumerate(_by_question(rows), 1):
        md += [f"## {qn}. {_inline(question)}", ""]
        if abstained:
            md += ["*No passage in the indexed reports answers this; the nearest passages "
                   "follow.*", ""]
        for r in group:
            md += [f"**{qn}.{r['rank']} {_inline(r['citation'])}**", "",
                   _quote(r["text"]), ""]
            if r.get("highlight"):
                md += ["Key sentence: " + _inline(r["highlight"]), ""]
            meta = [r.get("kind") or "", r.get("reformatted") or "",
                    f"graded {r['judgment']}" if r.get("judgment") else "",
                    f"source {r.get('source_file') or '?'}",
                    f"passage {r.get('passage_id') or '?'}"]
            md += ["*" + _inline(" · ".join(m for m in meta if m)) + "*", ""]
    return ("\n".join(md).rstrip() + "\n").encode("utf-8")


def _docx(rows: list[dict]) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(1.5))
    doc.styles["Normal"].font.size = Pt(9)
    doc.add_heading("Briefing annex: passages from the inspection reports", level=1)
    doc.add_paragraph(_header(rows))
    if not rows:
        return _save(doc)
    headings = ("#", "Question", "Citation", "Passage", "Details")
    widths = (Cm(1.2), Cm(4.0), Cm(5.0), Cm(11.5), Cm(5.0))
    table = doc.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    for cell, text, width in zip(table.rows[0].cells, headings, widths):
        cell.width = width
        cell.paragraphs[0].add_run(text).bold = True
    # Repeat the header row on every page.
    tr_pr = table.rows[0]._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)
    for qnum, (question, abstained, group) in enumerate(_by_question(rows), 1):
        for r in group:
            cells = table.add_row().cells
            for cell, width in zip(cells, widths):
                cell.width = width
            cells[0].text = f"{qnum}.{r['rank']}"
            cells[1].text = question + (" (no passage answers this; nearest passage)"
                                        if abstained else "")
            cells[2].text = r["citation"]
            para = cells[3].paragraphs[0]
            for seg, marked in mark_segments(r["text"], r.get("highlight") or ""):
                para.add_run(seg).bold = marked
            kind = r.get("kind") or ""
            if r.get("reformatted"):
                kind += f" ({r['reformatted']})"
            details = [("Kind", kind), ("Report", r.get("report")),
                       ("Force", r.get("force")), ("Year", r.get("year")),
                       ("Section", r.get("section")), ("Page", r.get("page")),
                       ("Judgment", r.get("judgment")),
                       ("Highlight", r.get("highlight")), ("Source file", r.get("source_file")),
                       ("Passage id", r.get("passage_id")), ("Index build", r.get("build_id")),
                       ("Exported", r.get("exported_at"))]
            cells[4].text = "\n".join(f"{k}: {v}" for k, v in details if v not in (None, ""))
    return _save(doc)


def _save(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def mark_segments(text: str, highlight: str) -> list[tuple[str, bool]]:
    """The text split into (segment, is_highlight) pieces, so a card or a Word cell
    can mark the highlight. Whitespace differences are tolerated; each sentence of
    the highlight is looked for on its own when the whole is not found."""
    if not highlight or not highlight.strip():
        return [(text, False)]
    spans = _find(text, highlight)
    if not spans:
        for part in re.split(r"(?<=[.!?])\s+", highlight.strip()):
            spans += _find(text, part) if len(part.split()) >= 3 else []
    if not spans:
        return [(text, False)]
    spans.sort()
    out, pos = [], 0
    for a, b in spans:
        if a < pos:
            continue
        if a > pos:
            out.append((text[pos:a], False))
        out.append((text[a:b], True))
        pos = b
    if pos < len(text):
        out.append((text[pos:], False))
    return out


def _find(text: str, needle: str) -> list[tuple[int, int]]:
    words = needle.split()
    if not words:
        return []
    m = re.search(r"\s+".join(re.escape(w) for w in words), text)
    return [(m.start(), m.end())] if m else []
