"""Deterministic PDFs for tests, reproducing the artefacts of real inspection reports.

Every helper writes one small PDF with reportlab (``invariant=1``, so the bytes are the
same on every run) and returns a dict saying what was put where, for tests to assert
against. The forces named here are fictional.

Artefacts reproduced (all seen in the published HMIC reports): a running header at the
top of every page and a printed page number at the bottom; printed numbers that differ
from the PDF page index (unnumbered cover, roman contents page, body page 1 at PDF
index 2), with or without a ``/PageLabels`` entry; inspection-question headings that
wrap over two lines; paragraphs wrapped over several lines, one word hyphenated across
a line break; a paragraph (and a sentence) running over a page break; a table whose
column header takes two lines; a footnote marker glued to a word ("kits1") with the
footnote text in a smaller font at the page bottom; bullet-point recommendations.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

PAGE_W, PAGE_H = A4
MARGIN = 72.0
TEXT_W = PAGE_W - 2 * MARGIN
BODY_FONT, BODY_SIZE, LEADING = "Helvetica", 11.0, 14.0
BOLD = "Helvetica-Bold"
#: Extra space after a paragraph: a paragraph break is a gap of about 1.7 line spacings.
PARA_GAP = 10.0
HEADER_Y = PAGE_H - 40
FOOTER_Y = 36.0
#: Lowest baseline body text may use (leaves room for a footnote above the footer).
BOTTOM = 110.0

FORCE = "Northshire Constabulary"
TITLE = "Crime inspection 2015"
#: Real running headers use an en dash, which text cleaning has to cope with.
DASH = "\u2013"
HEADER = f"{TITLE} {DASH} {FORCE}"

Q_REDUCING = "How effective is the force at reducing crime and preventing offending?"
Q_INVESTIGATING = "How effective is the force at investigating offending?"

# The one paragraph with a word hyphenated across a line break, given line by line so
# the break falls exactly inside "investigation".
HYPHEN_LINES = [
    "Northshire Constabulary is working well to reduce crime and to prevent offending.",
    "Recorded crime in the county has fallen faster than in England and Wales since",
    "2011. Officers we spoke to understood the importance of a thorough investi-",
    "gation and of keeping victims informed of progress. The force uses what it",
    "knows about local problems to decide where to send its neighbourhood teams.",
]

P_VICTIM = (
    "Victims we spoke to were mostly satisfied with the way the force kept them informed. "
    "Call handlers record how each victim would like to be contacted, and officers are "
    "expected to follow that preference throughout the investigation. Supervisors check a "
    "sample of crimes every month to make sure that this happens."
)

# A paragraph that runs over the page break: part A ends page 1 mid-sentence and part B
# continues at the top of page 2, below the running header.
P_SPLIT_A = (
    "The force has an up-to-date strategy for tackling repeat victimisation. Its analysts "
    "produce a weekly list of people who have reported two or more crimes in the past "
    "year. Each person on the list is offered a visit from a neighbourhood officer, and "
    "the force has also started a programme to"
)
P_SPLIT_B = (
    "train every response officer in problem solving before the end of 2016. Early "
    "results from the pilot areas are encouraging."
)

P_TABLE_INTRO = (
    "The table below shows crime and anti-social behaviour rates in Northshire (per "
    "1,000 population) compared with the rest of England and Wales."
)
TABLE_HEADER = [
    ("12 months to June 2015", ""),
    ("Northshire rate (per", "1,000 population)"),
    ("England and Wales rate", "(per 1,000 population)"),
]
TABLE_ROWS = [
    ("Crime excluding fraud", "55.1", "60.7"),
    ("Victim-based crime", "49.8", "53.9"),
    ("Sexual offences", "1.4", "1.2"),
    ("Burglary in a dwelling", "7.9", "8.9"),
]

P_FOOTNOTED = (
    "The force works closely with the county council and the fire service to prevent "
    "burglary, for example by giving smart water kits1 to victims of burglary to reduce "
    "the likelihood of repeat victimisation, and by providing crime prevention advice to "
    "their neighbours."
)
FOOTNOTE = (
    "1 Smart water is a forensic liquid that marks property so that it can be traced "
    "back to its owner if it is stolen."
)

P_INVESTIGATING = (
    "Investigations are generally carried out to a good standard. Officers showed "
    "appropriate skills and knowledge, and supervisors reviewed most cases within a day "
    "of the crime being recorded."
)
RECOMMENDATIONS = [
    "The force should ensure that every victim receives the level of contact that was "
    "agreed when the crime was recorded.",
    "The force should review how it allocates burglary investigations so that each is "
    "handled by an officer with the right skills.",
]


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!])\s+(?=[A-Z0-9])", text.strip()) if s]


def _roman(n: int) -> str:
    out = ""
    for value, numeral in ((10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")):
        while n >= value:
            out += numeral
            n -= value
    return out


class _Writer:
    """A cursor over one reportlab canvas that lays text out the way report PDFs do."""

    def __init__(self, canvas: Canvas) -> None:
        self.c = canvas
        self.y = PAGE_H - 90

    def lines(self, lines: list[str], font: str = BODY_FONT, size: float = BODY_SIZE,
              leading: float = LEADING, gap: float = PARA_GAP, x: float = MARGIN) -> None:
        self.c.setFont(font, size)
        for line in lines:
            width = stringWidth(line, font, size)
            assert width <= TEXT_W + 0.5, f"line too wide ({width:.0f}pt): {line!r}"
            self.c.drawString(x, self.y, line)
            self.y -= leading
        self.y -= gap

    def para(self, text: str, **kw) -> None:
        font, size = kw.get("font", BODY_FONT), kw.get("size", BODY_SIZE)
        width = kw.pop("width", TEXT_W)
        self.lines(simpleSplit(text, font, size, width), **kw)

    def heading(self, text: str, size: float = 13.0) -> None:
        self.y -= 4
        self.para(text, font=BOLD, size=size, leading=size * 1.25, gap=6)

    def bullet(self, text: str) -> None:
        lines = simpleSplit(text, BODY_FONT, BODY_SIZE, TEXT_W - 18)
        self.c.setFont(BODY_FONT, BODY_SIZE)
        self.c.drawString(MARGIN, self.y, "•")
        self.lines(lines, x=MARGIN + 18, gap=6)

    def table(self, header: list[tuple[str, str]], rows: list[tuple[str, ...]],
              one_text_object: bool = False) -> None:
        # The column header takes two lines. Cells are drawn row by row, numbers
        # right-aligned in their columns: by default one string per cell, as most layout
        # programs do; with ``one_text_object`` the whole table is one text object whose
        # cells are placed by cursor moves along the baseline, as other generators do.
        col_x = [MARGIN, MARGIN + 190, MARGIN + 320]
        col_right = [MARGIN + 180, MARGIN + 300, TEXT_W + MARGIN]
        self.c.setFont(BOLD, 9)
        for line in (0, 1):
            for x, cell in zip(col_x, header, strict=True):
                if cell[line]:
                    self.c.drawString(x, self.y, cell[line])
            self.y -= 11
        self.y -= 6
        if one_text_object:
            t = self.c.beginText(col_x[0], self.y)
            t.setFont(BODY_FONT, 10)
            for row in rows:
                x = col_x[0]
                t.textOut(row[0])
                for right, value in zip(col_right[1:], row[1:], strict=True):
                    start = right - stringWidth(value, BODY_FONT, 10)
                    t.moveCursor(start - x, 0)
                    t.textOut(value)
                    x = start
                t.moveCursor(col_x[0] - x, 16)
                self.y -= 16
            self.c.drawText(t)
        else:
            self.c.setFont(BODY_FONT, 10)
            for row in rows:
                self.c.drawString(col_x[0], self.y, row[0])
                for right, value in zip(col_right[1:], row[1:], strict=True):
                    self.c.drawRightString(right, self.y, value)
                self.y -= 16
        self.y -= PARA_GAP

    def page_furniture(self, header: str, printed: str | None) -> None:
        self.c.setFont(BODY_FONT, 9)
        self.c.drawString(MARGIN, HEADER_Y, header)
        if printed:
            self.c.drawCentredString(PAGE_W / 2, FOOTER_Y, printed)

    def footnote(self, text: str) -> None:
        lines = simpleSplit(text, BODY_FONT, 8, TEXT_W)
        y = 60 + 10 * (len(lines) - 1)
        self.c.setLineWidth(0.5)
        self.c.line(MARGIN, y + 14, MARGIN + 120, y + 14)
        self.c.setFont(BODY_FONT, 8)
        for line in lines:
            self.c.drawString(MARGIN, y, line)
            y -= 10

    def new_page(self) -> None:
        assert self.y >= BOTTOM - LEADING, "page content overflowed"
        self.c.showPage()
        self.y = PAGE_H - 90


def _canvas(path: Path | io.BytesIO) -> Canvas:
    c = Canvas(str(path) if isinstance(path, Path) else path, pagesize=A4, invariant=1)
    c.setTitle(HEADER)
    c.setAuthor("reportqa tests")
    return c


def make_report_pdf(
    path: Path, *, pages: int = 3, page_labels: bool = True, table_one_text_object: bool = False
) -> dict:
    """Write a multi-page inspection report to ``path``.

    ``pages`` is the number of body pages (at least 3; extra ones hold filler findings).
    The PDF starts with an unnumbered cover and a contents page printed "ii"; body page 1
    is at PDF index 2. With ``page_labels`` the catalog gets ``/PageLabels`` (i, ii, 1,
    2, ...); without, only the printed numbers in the footers say so. With
    ``table_one_text_object`` the table is drawn as one text object (see ``_Writer.table``).

    Returns a dict: ``labels`` (what a reader should give as the label of each PDF index:
    the /PageLabels value, or None when the file has none), ``printed`` (the number
    printed on each page, None on the cover), ``header`` (running header text),
    ``sentences`` ({pdf index: body sentences wholly on that page, hyphenated word
    joined}), ``headings`` ({pdf index: headings}), ``split_sentence`` (the sentence
    running over a page break: ``first``/``second`` parts and their ``pages``),
    ``hyphenated`` (the two halves of the word broken at a line end), ``table``
    (``page``, ``header`` cells, ``rows``), ``footnote`` (``page``, ``marker_word``,
    ``text``), ``recommendations``.
    """
    if pages < 3:
        raise ValueError("make_report_pdf needs at least 3 body pages")
    path = Path(path)
    raw = io.BytesIO()
    c = _canvas(raw)
    w = _Writer(c)
    sentences: dict[int, list[str]] = {}
    headings: dict[int, list[str]] = {}

    # Cover (PDF index 0): no header, no number.
    c.setFont(BOLD, 24)
    c.drawString(MARGIN, PAGE_H - 250, TITLE)
    c.setFont(BODY_FONT, 18)
    c.drawString(MARGIN, PAGE_H - 285, FORCE)
    c.setFont(BODY_FONT, 11)
    c.drawString(MARGIN, PAGE_H - 320, "November 2015")
    w.new_page()

    # Contents (index 1), printed "ii". Dotted leaders and page numbers, as in the reports.
    w.page_furniture(HEADER, "ii")
    w.heading("Contents", size=16)
    contents = [("Introduction", "1"), (Q_REDUCING, "1"), (Q_INVESTIGATING, "3")]
    c.setFont(BODY_FONT, 10)
    for title, page in contents:
        c.drawString(MARGIN, w.y, title)
        c.drawRightString(MARGIN + TEXT_W, w.y, page)
        w.y -= 18
    w.new_page()

    # Body page 1 (index 2).
    w.page_furniture(HEADER, "1")
    w.heading(Q_REDUCING, size=16)
    w.heading("Summary")
    w.lines(HYPHEN_LINES)
    w.heading("Quality of victim contact")
    w.para(P_VICTIM)
    w.para(P_SPLIT_A)
    headings[2] = [Q_REDUCING, "Summary", "Quality of victim contact"]
    split_a = _sentences(P_SPLIT_A)
    sentences[2] = _sentences(" ".join(HYPHEN_LINES).replace("investi- gation", "investigation"))
    sentences[2] += _sentences(P_VICTIM) + split_a[:-1]
    w.new_page()

    # Body page 2 (index 3): continuation, table, footnoted paragraph.
    w.page_furniture(HEADER, "2")
    w.para(P_SPLIT_B)
    split_b = _sentences(P_SPLIT_B)
    w.para(P_TABLE_INTRO)
    w.table(TABLE_HEADER, TABLE_ROWS, one_text_object=table_one_text_object)
    w.heading("Partnership working")
    w.para(P_FOOTNOTED)
    w.footnote(FOOTNOTE)
    headings[3] = ["Partnership working"]
    sentences[3] = split_b[1:] + _sentences(P_TABLE_INTRO) + _sentences(P_FOOTNOTED)
    w.new_page()

    # Body page 3 (index 4): second question, recommendations.
    w.page_furniture(HEADER, "3")
    w.heading(Q_INVESTIGATING, size=16)
    w.para(P_INVESTIGATING)
    w.heading("Recommendations")
    for rec in RECOMMENDATIONS:
        w.bullet(rec)
    headings[4] = [Q_INVESTIGATING, "Recommendations"]
    sentences[4] = _sentences(P_INVESTIGATING) + RECOMMENDATIONS

    for n in range(4, pages + 1):
        index = n + 1
        w.new_page()
        w.page_furniture(HEADER, str(n))
        heading = f"Further findings {n - 3}"
        w.heading(heading)
        text = (
            f"During the fieldwork for part {n - 3} we visited {n} police stations. "
            f"Staff at each station described the changes made since the last inspection. "
            f"The force told us that {n * 10} officers had completed the new training."
        )
        w.para(text)
        headings[index] = [heading]
        sentences[index] = _sentences(text)
    c.save()

    total = pages + 2
    printed: list[str | None] = [None, "ii"] + [str(n) for n in range(1, pages + 1)]
    if page_labels:
        writer = PdfWriter(clone_from=PdfReader(io.BytesIO(raw.getvalue())))
        writer.set_page_label(0, 1, style="/r", start=1)
        writer.set_page_label(2, total - 1, style="/D", start=1)
        out = io.BytesIO()
        writer.write(out)
        path.write_bytes(out.getvalue())
        labels: list[str | None] = ["i", "ii"] + [str(n) for n in range(1, pages + 1)]
    else:
        path.write_bytes(raw.getvalue())
        labels = [None] * total
    return {
        "labels": labels,
        "printed": printed,
        "header": HEADER,
        "sentences": sentences,
        "headings": headings,
        "split_sentence": {"first": split_a[-1], "second": split_b[0], "pages": (2, 3)},
        "hyphenated": ("investi-", "gation"),
        "table": {
            "page": 3,
            "header": [" ".join(part for part in cell if part) for cell in TABLE_HEADER],
            "rows": TABLE_ROWS,
        },
        "footnote": {"page": 3, "marker_word": "kits1", "text": FOOTNOTE},
        "recommendations": {"page": 4, "items": RECOMMENDATIONS},
    }


TWO_COL_LEFT = [
    "The force has a clear plan for neighbourhood policing. Each team has a named "
    "sergeant and publishes its local priorities every three months.",
    "Officers in the teams we visited knew their priorities well and could explain how "
    "their patrols were chosen.",
]
TWO_COL_RIGHT = [
    "Some partners told us that they were not always consulted before the priorities "
    "were set. The force accepts this and is changing its approach.",
    "The force should publish how it decides on local priorities and how partners can "
    "take part in setting them.",
]


def make_two_column_pdf(path: Path) -> dict:
    """One page: running header, a full-width heading, then two text columns (the left
    column drawn first, as layout programs do). Returns ``left``/``right`` paragraphs,
    ``heading`` and ``header``."""
    path = Path(path)
    c = _canvas(path)
    w = _Writer(c)
    w.page_furniture(f"Crime inspection 2015 {DASH} Westmoor Police", "7")
    heading = "Neighbourhood policing"
    w.heading(heading, size=16)
    top = w.y
    col_w = (TEXT_W - 30) / 2
    for x, paras in ((MARGIN, TWO_COL_LEFT), (MARGIN + col_w + 30, TWO_COL_RIGHT)):
        w.y = top
        for para in paras:
            w.lines(simpleSplit(para, BODY_FONT, BODY_SIZE, col_w), x=x)
    c.save()
    return {
        "header": f"Crime inspection 2015 {DASH} Westmoor Police",
        "heading": heading,
        "left": TWO_COL_LEFT,
        "right": TWO_COL_RIGHT,
    }


def make_encrypted_pdf(path: Path, user_password: str = "secret",
                       algorithm: str = "RC4-128") -> dict:
    """A two-page report encrypted with ``user_password`` (RC4-128 by default; "AES-128"
    or "AES-256" as many official PDFs are, which pypdf reads with its ``crypto``
    extra); ``user_password=""`` gives a file that opens without a password but is
    still encrypted (owner password set, to restrict editing), as many published PDFs
    are. Returns ``sentences`` ({pdf index: sentences})."""
    path = Path(path)
    raw = io.BytesIO()
    c = _canvas(raw)
    w = _Writer(c)
    sentences = {}
    for index, text in enumerate((P_VICTIM, P_INVESTIGATING)):
        w.page_furniture(HEADER, str(index + 1))
        w.para(text)
        sentences[index] = _sentences(text)
        w.new_page()
    c.save()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(raw.getvalue())))
    writer.encrypt(user_password, owner_password="owner-only", algorithm=algorithm)
    with path.open("wb") as fh:
        writer.write(fh)
    return {"sentences": sentences, "user_password": user_password}


def make_scanned_pdf(path: Path, pages: int = 2) -> dict:
    """Pages that are only an image of text (a scan): no text layer at all."""
    from PIL import Image, ImageDraw

    path = Path(path)
    c = _canvas(path)
    for n in range(pages):
        img = Image.new("L", (420, 594), 255)
        draw = ImageDraw.Draw(img)
        for row in range(40, 560, 14):
            draw.rectangle((40, row, 380 - (row * 7 + n * 13) % 90, row + 6), fill=40)
        c.drawImage(ImageReader(img), 0, 0, PAGE_W, PAGE_H)
        c.showPage()
    c.save()
    return {"pages": pages}


def make_truncated_pdf(path: Path) -> dict:
    """A good report PDF cut off half way (as an interrupted download leaves it)."""
    path = Path(path)
    make_report_pdf(path, page_labels=False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return {"full_size": len(data)}


def make_damaged_page_pdf(path: Path, bad_index: int = 3) -> dict:
    """A report (no /PageLabels) whose page ``bad_index`` has a content stream that is
    not valid ASCII85 data, so pypdf raises when extracting that page's text (it only
    warns about bad Flate data); the other pages are fine."""
    from pypdf.generic import NameObject, StreamObject

    path = Path(path)
    raw = io.BytesIO()
    info = make_report_pdf(path, page_labels=False)
    writer = PdfWriter(clone_from=PdfReader(path))
    bad = StreamObject()
    bad.set_data(b"this is {not} ascii85 data~>")
    bad[NameObject("/Filter")] = NameObject("/ASCII85Decode")
    writer.pages[bad_index][NameObject("/Contents")] = writer._add_object(bad)
    writer.write(raw)
    path.write_bytes(raw.getvalue())
    return {**info, "bad_index": bad_index}


def make_html_as_pdf(path: Path) -> dict:
    """An HTML page saved under a .pdf name (what a login or error page download gives)."""
    path = Path(path)
    path.write_text(
        "<!DOCTYPE html>\n<html><head><title>Page not found</title></head>\n"
        "<body><h1>404</h1><p>The report you asked for has moved.</p></body></html>\n",
        encoding="utf-8",
    )
    return {}
