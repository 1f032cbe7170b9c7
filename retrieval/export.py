"""Exports of cited passages for a briefing: CSV (for Excel), Markdown (a briefing
annex), DOCX (the same annex for Word: a table per question on portrait A4) and JSON.
Every row carries its full citation, the question it answered, the analyst's note, the
index build and the time of export. Each format is registered once, in FORMATS (after
its writer): the command line's --format choices and the app's buttons read it.

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
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.models import short_heading
from retrieval.answer import Answer, Comparison


@dataclass(frozen=True)
class ExportFormat:
    """One export format, as every caller names it: the CLI's --format value, the file
    extension, the MIME type, the label of the app's download buttons, and the writer
    that turns export rows into the file's bytes."""

    name: str
    extension: str
    mime: str
    label: str
    writer: Callable[[list[dict]], bytes]


#: What an export says of a table passage, whose rows ingest rewrote as lines.
TABLE_NOTE = "table row, reformatted"

#: Row fields, in column order.
COLUMNS = ("question", "rank", "score", "abstained", "citation", "report", "force", "year",
           "section", "page", "kind", "reformatted", "text", "highlight", "note", "judgment",
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
                # The analyst's note on the passage: the caller fills it from the basket.
                "note": "",
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


def export_format(fmt: str) -> ExportFormat:
    """The registered format named `fmt` (FORMATS); ValueError naming the known ones
    when there is none."""
    try:
        return FORMATS[fmt]
    except KeyError:
        raise ValueError(f"unknown export format {fmt!r}; use one of "
                         f"{', '.join(FORMATS)}") from None


def render(rows: list[dict], fmt: str) -> bytes:
    """The rows as a file's bytes in the format named `fmt` (one of FORMATS)."""
    writer = export_format(fmt).writer
    rows = [{k: clean_text(v) if isinstance(v, str) else v for k, v in r.items()}
            for r in rows]
    return writer(rows)


def safe_filename(question: str, fmt: str) -> str:
    """A file name for an export, made from a question: ASCII letters, digits and
    hyphens only (no path separators, dots, control characters), at most 60
    characters before the extension; "reportqa-export" when nothing is left."""
    return f"reportqa-{_slug(question, 60) or 'export'}.{export_format(fmt).extension}"


def export_filename(rows: list[dict], fmt: str, topic: str | None = None,
                    when: dt.date | None = None) -> str:
    """A file name that says what the export holds: date, topic and passage count, as
    in "reportqa-2026-12-02-anti-social-behaviour-3-passages.docx".

    The topic is ``topic`` when given, else the section heading most of the rows come
    from (the last heading of each row's section, in its citation form; the earliest
    wins a tie), else the first row's question; the first of these that leaves any
    characters is used, slugged as by safe_filename (ASCII letters, digits and
    hyphens, at most 40 characters), and left out when none does. The date is
    ``when``, else the day of the rows' export time (what the file's header says),
    else today."""
    extension = export_format(fmt).extension
    headings = Counter(short_heading(r["section"].split(" › ")[-1]) for r in rows
                       if r.get("section"))
    candidates = [topic or "", *(h for h, _ in headings.most_common(1)),
                  *(r.get("question") or "" for r in rows[:1])]
    slug = next((s for s in (_slug(c, 40) for c in candidates) if s), "")
    n = len(rows)
    parts = ["reportqa", (when or _export_day(rows)).isoformat(), slug,
             f"{n}-passage{'s' if n != 1 else ''}"]
    return "-".join(p for p in parts if p) + "." + extension


def _export_day(rows: list[dict]) -> dt.date:
    try:
        return dt.datetime.fromisoformat(str(rows[0]["exported_at"])).date()
    except (IndexError, KeyError, ValueError):
        return dt.date.today()


def _slug(text: str, limit: int) -> str:
    """Lower-case ASCII letters and digits joined by single hyphens, at most ``limit``
    characters: safe as any part of a file name on any system."""
    s = unicodedata.normalize("NFKD", clean_text(text))
    s = s.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")[:limit].rstrip("-")


def formatted_citation(row: dict) -> str:
    """An export row's passage as a one-line citation to paste into a briefing:
    report title in double quotes, the inspected body (force), year, section path
    and printed page, joined by commas, e.g.

        "Crime inspection 2014", West Midlands Police, 2014,
        section "Tackling anti-social behaviour › Partnership working", p. 19

    (on one line). The section is the whole path, each heading in its citation form
    (short_heading), since a last heading alone ("Overall summary") is often
    ambiguous. A page range ("12–13") is cited "pp.". Missing pieces are left out,
    and so is the force of a national (thematic) report, which inspects no single
    body; nothing is added that the row does not hold (no publisher prefix)."""
    def one_line(v: object) -> str:
        return " ".join(clean_text(v).split())

    title, force = one_line(row.get("report")), one_line(row.get("force"))
    year, page = one_line(row.get("year") or ""), one_line(row.get("page"))
    section = " › ".join(short_heading(s) for s in one_line(row.get("section")).split(" › ")
                         if s.strip())
    parts = [f'"{title}"' if title else "",
             force if force.lower() != "national" else "",
             year,
             f'section "{section}"' if section else "",
             f"{'pp.' if '–' in page else 'p.'} {page}" if page else ""]
    return ", ".join(p for p in parts if p)


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
            if r.get("note"):
                md += ["Note: " + _inline(r["note"]), ""]
            meta = [r.get("kind") or "", r.get("reformatted") or "",
                    f"graded {r['judgment']}" if r.get("judgment") else "",
                    f"source {r.get('source_file') or '?'}",
                    f"passage {r.get('passage_id') or '?'}"]
            md += ["*" + _inline(" · ".join(m for m in meta if m)) + "*", ""]
    return ("\n".join(md).rstrip() + "\n").encode("utf-8")


# The Word annex's page: A4 portrait with 2 cm margins, in twips (1/20 pt), the unit of
# w:gridCol. 11906 × 16838 is Word's own A4, so the grid sums to the text width exactly.
_PAGE_TW = (11906, 16838)
_MARGIN_TW = 1134
_TEXT_TW = _PAGE_TW[0] - 2 * _MARGIN_TW  # 9638 (17.0 cm)
# Its table's columns: "#" (1.2 cm), the passage (the rest, 12.4 cm: what a reader
# reads) and the identifiers (3.4 cm, in small type: for whoever traces a quote back).
_GRID_TW = (680, _TEXT_TW - 680 - 1928, 1928)
# Word's default left and right cell padding, set explicitly so the table indent below
# can rely on it.
_CELL_PAD_TW = 108


def _docx(rows: list[dict]) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn
    from docx.shared import Pt, Twips

    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Twips(_PAGE_TW[0]), Twips(_PAGE_TW[1])
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Twips(_MARGIN_TW))
    # Arial: in every Word, and LibreOffice draws it with the metric-compatible
    # Liberation Sans, so the annex breaks into the same pages in both.
    for name in ("Normal", "Heading 1", "Heading 2"):
        style = doc.styles[name]
        style.font.name = "Arial"
        # The headings name theme fonts too, and a theme font wins over a named one.
        for attr in ("w:asciiTheme", "w:hAnsiTheme"):
            style.element.rPr.rFonts.attrib.pop(qn(attr), None)
    doc.styles["Normal"].font.size = Pt(9)
    doc.add_heading("Briefing annex: passages from the inspection reports", level=1)
    doc.add_paragraph(_header(rows))
    # One table per question, under its heading: the question is read once, not
    # repeated on every row.
    for qnum, (question, abstained, group) in enumerate(_by_question(rows), 1):
        doc.add_heading(f"{qnum}. {' '.join(question.split())}", level=2)
        if abstained:
            doc.add_paragraph().add_run(
                "No passage in the indexed reports answers this; the nearest passages "
                "follow.").italic = True
        table = _docx_table(doc, ("#", "Passage", "Identifiers"))
        for r in group:
            num, main, ids = table.add_row().cells
            num.paragraphs[0].text = f"{qnum}.{r['rank']}"
            _docx_passage(main, r)
            _docx_ids(ids, r)
            for cell, width in zip((num, main, ids), _GRID_TW):
                cell.width = Twips(width)
    return _save(doc)


def _docx_ids(cell, r: dict) -> None:
    """The identifiers cell, in 7 pt: each id under its label."""
    from docx.shared import Pt

    ids = [(label, r.get(key)) for label, key in (
        ("Passage id", "passage_id"), ("Report id", "report_id"),
        ("Index build", "build_id"), ("Source file", "source_file")) if r.get(key)]
    for i, (label, value) in enumerate(ids):
        para = cell.paragraphs[0] if i == 0 else cell.add_paragraph()
        para.paragraph_format.space_after = Pt(2)
        para.add_run(label + "\n").bold = True
        para.add_run(str(value))
        for run in para.runs:
            run.font.size = Pt(7)


def _docx_table(doc, headings: tuple[str, ...]):
    """A table laid out on _GRID_TW: python-docx writes equal w:gridCol widths, and
    LibreOffice (and Word when it autofits) lays out by the grid, not the cell widths,
    so the grid, a fixed layout and the cell widths are all set."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Twips

    table = doc.add_table(rows=1, cols=len(headings))
    table.style = "Table Grid"
    table.autofit = False  # w:tblLayout w:type="fixed"
    for col, width in zip(table._tbl.tblGrid.gridCol_lst, _GRID_TW):
        col.w = Twips(width)
    tbl_pr = table._tbl.tblPr
    # Word rejects a w:tblPr whose children are out of schema order: each element
    # goes before the first of its successors.
    tbl_w = tbl_pr.find(qn("w:tblW"))  # python-docx writes one ("auto")
    tbl_w.set(qn("w:w"), str(_TEXT_TW))
    tbl_w.set(qn("w:type"), "dxa")
    # The document is in Word 2010 compatibility mode, where a table starts one cell
    # padding left of the margin; this indent puts its border on the margin, so the
    # table spans exactly the text width.
    tbl_pr.insert_element_before(
        _twips_el("w:tblInd", _CELL_PAD_TW), "w:tblBorders", "w:shd", "w:tblLayout",
        "w:tblCellMar", "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")
    margins = OxmlElement("w:tblCellMar")
    margins.append(_twips_el("w:left", _CELL_PAD_TW))
    margins.append(_twips_el("w:right", _CELL_PAD_TW))
    tbl_pr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription",
                                 "w:tblPrChange")
    header = table.rows[0]
    for cell, text, width in zip(header.cells, headings, _GRID_TW):
        cell.width = Twips(width)
        cell.paragraphs[0].add_run(text).bold = True
    # The header row repeats on every page the table runs onto.
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    header._tr.get_or_add_trPr().append(el)
    return table


def _twips_el(tag: str, twips: int):
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    el = OxmlElement(tag)
    el.set(qn("w:w"), str(twips))
    el.set(qn("w:type"), "dxa")
    return el


def _docx_passage(cell, r: dict) -> None:
    """The passage cell: the citation (bold), the passage verbatim with its highlight
    in bold (or after it, when not found in it), the analyst's note (italic), then what
    kind of text it is and its graded judgment."""
    from docx.shared import Pt

    cite = cell.paragraphs[0]
    cite.add_run(formatted_citation(r)).bold = True
    para = cell.add_paragraph()
    segments = mark_segments(r["text"], r.get("highlight") or "")
    for seg, marked in segments:
        para.add_run(seg).bold = marked
    if r.get("highlight") and not any(marked for _, marked in segments):
        # A highlight not found in the text cannot be marked; it is not dropped.
        cell.add_paragraph("Key sentence: " + " ".join(r["highlight"].split()))
    if r.get("note"):
        note = cell.add_paragraph()
        note.add_run("Analyst's note: ").italic = True
        note.add_run(r["note"]).italic = True
    kind = r.get("kind") or ""
    if r.get("reformatted"):
        kind += f" ({r['reformatted']})"
    meta = [f"Kind: {kind}" if kind else "",
            f"Judgment: {r['judgment']}" if r.get("judgment") else ""]
    if any(meta):
        run = cell.add_paragraph().add_run(" · ".join(m for m in meta if m))
        run.font.size = Pt(8)
    for p in cell.paragraphs:
        p.paragraph_format.space_after = Pt(3)


def _save(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


#: Every export format, registered once: the CLI's --format choices and the app's
#: download buttons are read from here, in this order.
FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("csv", "csv", "text/csv", "CSV (Excel)", _csv),
    ExportFormat("md", "md", "text/markdown", "Markdown", _markdown),
    ExportFormat("docx", "docx",
                 "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                 "Word", _docx),
    ExportFormat("json", "json", "application/json", "JSON", _json),
)}


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
