"""A PDF page's lines, cells and tables from pdfium's character boxes.

pypdf's text extraction splits and glues words in PDFs laid out by other publishers
("consol idated", "incom e", "andliabilities": measured by benchmarks/reading_bench.py)
and took ~0.1 s a page on long filings. pdfium (pypdfium2, already the page renderer)
places every character with its box and font, and its text page infers word spaces
from glyph widths; reading a page's characters through it takes a few milliseconds.
From the boxes this module rebuilds:

* **lines** with their baseline, size (from glyph boxes, in points) and weight (the
  font's name or weight), so headings can come from layout;
* **cells**: runs of words on a line separated by a gap much wider than a word space;
* **tables**: runs of lines whose trailing cells are figures in the same columns. Each
  table row is written as one line that carries its label and the header of every value
  ("Net income — 2023: $72,361; 2022: $72,738 (In millions)"), marked with
  :data:`ROW_MARK` so the structure stage knows it is a rebuilt row, not prose.
"""

from __future__ import annotations

import ctypes
import re
import statistics
from dataclasses import dataclass, field

#: First character of a rebuilt table-row line (a private-use code point: no report
#: prints it). Cleaning keeps it; ingest/sections.py turns such lines into a table.
ROW_MARK = "\ue0a0"
#: First character of a table's caption line (title, units, column context).
CAPTION_MARK = "\ue0a1"

#: A cell that is a figure: a number with its sign, currency, brackets, percent or a
#: footnote star, or a dash / "n/a" standing for no value.
_VALUE = re.compile(
    r"^(?:[-+–−]?[$€£¥]?\(?[-–−]?[$€£¥]?\s?\d[\d,]*(?:\.\d+)?\s?\)?\s?%?\*?"
    r"|[$€£¥]?\s?[-–—−]+|n/?a|nm|—%)(?:\s?\([a-z]{1,2}\))*$", re.I)
_YEAR = re.compile(r"^(?:FY\s?)?(?:19|20)\d{2}(?:/\d{2,4})?$")
_UNIT = re.compile(
    r"\((?:[^()]*\b(?:in|of)\s+)?(?:millions?|billions?|thousands?|percent|%|£m|\$m|"
    r"[$£€]\s?(?:m|bn|000s?)|per cent)\b[^()]*\)|\bin (?:millions|billions|thousands)\b"
    r"(?: of [a-z. ]+)?", re.I)
_BULLETS = frozenset("•·▪●◦‣■□➢►✓")
_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi", re.I)


@dataclass
class Cell:
    """Words of one line that sit together (no wide gap between them)."""

    text: str
    x0: float
    x1: float
    #: Where its word runs start: (start offset in text, x0) — to cut a header cell
    #: that runs over two columns back into the columns' own headers.
    starts: list[tuple[int, float]] = field(default_factory=list)


@dataclass
class Line:
    """One printed line: its cells left to right, baseline, glyph-box em size, weight."""

    cells: list[Cell]
    y: float
    size: float
    bold: bool
    @property
    def text(self) -> str:
        """The line as text: cells joined by two spaces (a wide gap on the page)."""
        return "  ".join(c.text for c in self.cells)

    @property
    def x0(self) -> float:
        return self.cells[0].x0 if self.cells else 0.0

    @property
    def x1(self) -> float:
        return self.cells[-1].x1 if self.cells else 0.0


def _is_bold(tp, i: int, buf, flags) -> bool:
    import pypdfium2.raw as raw

    weight = raw.FPDFText_GetFontWeight(tp, i)
    if weight >= 600:
        return True
    n = raw.FPDFText_GetFontInfo(tp, i, buf, len(buf), ctypes.byref(flags))
    return bool(n and _BOLD_NAME.search(buf.value.decode("latin-1", "replace")))


def page_lines(textpage) -> list[Line] | None:
    """The lines of one pdfium text page in pdfium's reading order, or None when its
    characters cannot be matched to their boxes (the caller then uses pypdf)."""
    import pypdfium2.raw as raw

    tp = textpage.raw
    n = raw.FPDFText_CountChars(tp)
    if n <= 0:
        return []
    text = textpage.get_text_range()
    if len(text) != n:
        return None
    # Loose boxes span each glyph's advance width and the font's ascent and descent,
    # so the gap between two boxes is the spacing the PDF set (a tight box of a narrow
    # "1" leaves a gap as wide as a word space on each side).
    box = raw.FS_RECTF()
    ref = ctypes.byref(box)
    buf = ctypes.create_string_buffer(128)
    flags = ctypes.c_int()
    # (character, left, right, bottom, top, index in the text page) per line.
    raw_lines: list[list[tuple[str, float, float, float, float, int]]] = [[]]
    for i, ch in enumerate(text):
        if ch in "\r\n":
            if raw_lines[-1]:
                raw_lines.append([])
            continue
        if ch == "\ufffe":
            # pdfium's mark for a hyphen that ends a line ("end-to-" / "end").
            ch = "-"
        if ch.isspace():
            raw_lines[-1].append((" ", 0.0, 0.0, 0.0, 0.0, i))
            continue
        raw.FPDFText_GetLooseCharBox(tp, i, ref)
        raw_lines[-1].append((ch, box.left, box.right, box.bottom, box.top, i))
    out: list[Line] = []
    for chars in (part for run in raw_lines for part in _visual_lines(run)):
        line = _line_from_chars(chars)
        if line is None:
            continue
        # Weight from the line's first and middle letters (two font look-ups a line,
        # not one a character: they are the slow calls).
        idx = [k for k, c in enumerate(chars) if c[0].isalnum()]
        if idx:
            line.bold = all(_is_bold(tp, chars[k][5], buf, flags)
                            for k in {idx[0], idx[len(idx) // 2]})
        out.append(line)
    return out


def _visual_lines(chars):
    """Cut a run of characters where pdfium put no line break but the text goes back to
    the left or down a line (it glued "dynamic." to the next line's "We")."""
    glyphs = [c for c in chars if c[0] != " "]
    if not glyphs:
        return [chars]
    em = max(1.0, statistics.median(c[4] - c[3] for c in glyphs) / 1.15)
    parts = [[]]
    prev = None
    for c in chars:
        if c[0] != " ":
            if prev is not None and (c[1] < prev[2] - 2 * em
                                     or abs(c[3] - prev[3]) > 0.8 * em and c[1] < prev[2]):
                parts.append([])
            prev = c
        parts[-1].append(c)
    return parts


def _line_from_chars(chars) -> Line | None:
    glyphs = [c for c in chars if c[0] != " "]
    if not glyphs:
        return None
    # A loose box is the font's ascent to descent: about 1.15 em in common fonts.
    em = statistics.median(c[4] - c[3] for c in glyphs) / 1.15
    em = em if em > 1 else 10.0
    # Letter-spaced text ("S U M M A R Y" set with wide tracking) has every gap wide:
    # a missing space is a gap clearly wider than this line's usual gap in a word.
    inner = [b[1] - a[2] for a, b in zip(chars, chars[1:]) if a[0] != " " and b[0] != " "]
    usual = statistics.median(inner) if inner else 0.0
    missing = max(0.2 * em, usual + 0.15 * em)
    words: list[list] = []  # [text, x0, x1]
    prev = None
    space = False
    for c in chars:
        if c[0] == " ":
            space = True
            continue
        ch, x0, x1 = c[0], c[1], c[2]
        if prev is not None:
            gap = x0 - prev[2]
            # pdfium's inferred space is kept unless the glyphs touch; a gap as wide
            # as a space with no space character is a word break pdfium missed.
            if ((space and gap > -0.05 * em) or gap > missing
                    or (prev[0] in _BULLETS and ch.isalnum())):
                words.append([ch, x0, x1])
            else:
                words[-1][0] += ch
                words[-1][2] = max(words[-1][2], x1)
        else:
            words.append([ch, x0, x1])
        prev = c
        space = False
    cells: list[Cell] = []
    for w, x0, x1 in words:
        if cells and x0 - cells[-1].x1 <= 0.9 * em:
            if x0 - cells[-1].x1 > 0.45 * em:  # wider than a word space: maybe two heads
                cells[-1].starts.append((len(cells[-1].text) + 1, x0))
            cells[-1].text += " " + w
            cells[-1].x1 = max(cells[-1].x1, x1)
        else:
            cells.append(Cell(w, x0, x1, [(0, x0)]))
    cells = _tidy_cells(cells)
    baseline = statistics.median(c[3] for c in glyphs)
    return Line(cells=cells, y=baseline, size=round(em * 2) / 2, bold=False)


def _tidy_cells(cells: list[Cell]) -> list[Cell]:
    """Join a lone currency sign to the figure after it and a lone closing bracket or
    percent sign to the figure before it ("$  72,361" → "$72,361", "(409  )" →
    "(409)"): financial tables set them in columns of their own."""
    out: list[Cell] = []
    for c in cells:
        t = c.text
        if out and re.fullmatch(r"[)%]+", t):
            out[-1].starts.append((len(out[-1].text.rstrip()), c.x0))
            out[-1].text = out[-1].text.rstrip() + t
            out[-1].x1 = c.x1
            continue
        if out and re.fullmatch(r"[$€£¥]", out[-1].text) and re.match(r"[(\d.\-–—]", t):
            out[-1].text += t
            out[-1].x1 = c.x1
            continue
        sign = re.search(r"\S\s+([$€£¥])$", out[-1].text) if out else None
        if sign and re.match(r"[(\d.\-–—]", t):
            # "$—  $" then "1,000": the second sign is the next figure's.
            out[-1].text = out[-1].text[:-1].rstrip()
            t = sign.group(1) + t
        out.append(Cell(t, c.x0, c.x1, list(c.starts)))
    for c in out:
        # Dot leaders ("Robbery . . . . . .") are layout that leads the eye to a
        # figure, not words.
        c.text = re.sub(r"(?:\s*\.){3,}\s*$", "", c.text) or c.text
        c.text = re.sub(r"(\d) \)", r"\1)", c.text)
        c.text = re.sub(r"([$€£¥]) (?=[(\d])", r"\1", c.text)
        c.text = re.sub(r"\( (?=[$€£¥]?\d)", "(", c.text)
    return out


def merge_baselines(lines: list[Line]) -> list[Line]:
    """Join lines that pdfium split but that share a baseline, the later one to the
    right (a table's header cell or figure drawn after the rest of its row: "Change"
    of a two-line "Percentage / Change" header). Looks back three lines at most."""
    out: list[Line] = []
    for ln in lines:
        host = None
        for prev in reversed(out[-3:]):
            if (abs(prev.y - ln.y) <= 0.25 * max(prev.size, ln.size)
                    and ln.x0 > prev.x1 - 0.5):
                host = prev
                break
        if host is None:
            out.append(ln)
            continue
        if ln.x0 - host.x1 <= 0.9 * max(host.size, ln.size) and host.cells:
            head = host.cells[-1]
            head.starts += [(len(head.text) + 1 + k, x) for k, x in ln.cells[0].starts]
            host.cells[-1].text += " " + ln.cells[0].text
            host.cells[-1].x1 = ln.cells[0].x1
            host.cells.extend(ln.cells[1:])
        else:
            host.cells.extend(ln.cells)
        host.cells = _tidy_cells(host.cells)
    return out


def reading_order(lines: list[Line]) -> list[Line]:
    """Lines in reading order. On a page set in two columns (in each half, a fifth or
    more of its lines a third of the page wide), between lines that span both, the
    left column is read top to bottom and then the right: pdfium follows drawing
    order, which can put a table's header after its rows or a column's table before
    its heading. Other pages keep pdfium's order, which is right for them."""
    if len(lines) < 10:
        return lines
    lo = min(ln.x0 for ln in lines)
    hi = max(ln.x1 for ln in lines)
    mid = (lo + hi) / 2

    def side(ln: Line) -> str:
        # A line over the middle (a full-width heading, a centred page number) is both.
        if ln.x1 < mid:
            return "left"
        if ln.x0 > mid:
            return "right"
        return "both"

    # Columns of text: lines of a third of the page's width or more on each side (a
    # table's labels on the left and figures on the right are not columns).
    wide = [side(ln) for ln in lines if ln.x1 - ln.x0 >= (hi - lo) / 3]
    if min(wide.count("left"), wide.count("right")) < max(5, len(lines) / 5):
        return lines
    out: list[Line] = []
    band: list[Line] = []
    for ln in sorted(lines, key=lambda ln: -ln.y):
        if side(ln) == "both":
            out += _columns_first(band, side)
            band = []
            out.append(ln)
        else:
            band.append(ln)
    return out + _columns_first(band, side)


def _columns_first(band: list[Line], side) -> list[Line]:
    """A band's left-column lines top to bottom, then its right-column lines."""
    return [ln for ln in band if side(ln) == "left"] + [ln for ln in band if side(ln) == "right"]


# --- tables -----------------------------------------------------------------------------


def is_value(text: str) -> bool:
    """Whether a cell is a figure (or a dash standing for none)."""
    return bool(_VALUE.match(text.strip()))


_NOTE_MARK = re.compile(r"^(?:\([a-z]{1,2}\))+$")


def _split_values(line: Line) -> tuple[list[Cell], list[Cell]]:
    """(label cells, trailing value cells) of a line. A note marker set in a column of
    its own after a figure ("(0.19)  (h)") goes with that figure."""
    cells = line.cells
    if len(cells) >= 2 and _NOTE_MARK.match(cells[-1].text.strip()) and is_value(
            cells[-2].text):
        mark = cells[-1]
        cells = cells[:-2] + [Cell(cells[-2].text + mark.text.strip(), cells[-2].x0,
                                   cells[-2].x1, cells[-2].starts)]
        line.cells = cells
    k = len(cells)
    while k > 0 and is_value(cells[k - 1].text):
        k -= 1
    return cells[:k], cells[k:]


def _is_year_header(line: Line) -> bool:
    """A line of column years ("2023  2022  2021"), with or without a caption before."""
    values = _split_values(line)[1]
    return len(values) >= 2 and all(_YEAR.match(v.text.strip()) for v in values)


def _is_row(line: Line) -> bool:
    label, values = _split_values(line)
    if _is_year_header(line) or (not label and len(values) < 2):
        return False
    return bool(values) and (not label or bool(re.search(r"[^\W\d_]", label[0].text)))


def _is_header_line(line: Line, cols: list[tuple[float, float]],
                    label_right: float | None = None, row_size: float = 0.0) -> bool:
    """A line above a table's rows that labels its columns: short cells over the value
    columns; not a row of figures (another table's), not a title or a sentence running
    from the labels across the columns."""
    if not line.cells or len(line.text) > 200 or not cols:
        return False
    if row_size and len(line.cells) == 1 and line.size >= row_size + 1:
        return False  # one line set larger than the rows: the table's title
    if _is_row(line) and not all(_YEAR.match(v.text.strip()) for v in _split_values(line)[1]):
        return False  # a row of figures (a year over a column is a header: "… 2022")
    if any(is_value(c.text) and not _YEAR.match(c.text.strip()) for c in line.cells):
        return False
    edge = _label_edge(cols, label_right)
    over = [c for c in line.cells if not _left_of_figures(c, cols, edge)]
    if not any(c.x0 >= edge - 2 for c in over):
        return False  # nothing starts over the figures: a caption or title at the left
    for c in line.cells:
        if c.x0 < edge - 2 and c.x1 > cols[0][1] + 6:
            return False  # from the labels across the figures: a title or a sentence
    for c in over:
        words = len(c.text.split())
        # (A sentence ends in a full stop after a word in lower case; "Avg." and
        # "Walmart U.S." are headers.)
        if words > 10 or c.text.rstrip().endswith(":") or re.search(
                r"\b[a-z]{2,}\.$", c.text.rstrip()) and words >= 3:
            return False
    if len(line.cells) == 1 and len(over[0].text.split()) >= 3 and over[0].text.isupper():
        return False  # a title in capitals over the table
    return True


def _label_right(rows: list[Line], cols: list[tuple[float, float]]) -> float | None:
    """Where the row labels end: the right edge of the longest label that ends before
    the first column of figures (a label cell reaching into the figures is a stray
    word set there, and would push the labels' edge over the columns)."""
    first = cols[0][0] if cols else float("inf")
    return max((c.x1 for r in rows for c in _split_values(r)[0] if c.x1 < first),
               default=None)


def _left_of_figures(cell: Cell, cols: list[tuple[float, float]], edge: float) -> bool:
    """Whether a header cell is the label column's ("(In millions)"): it starts among
    the labels and ends before the first value column's figures begin. A value
    column's header may start left of where the longest label ends, when it is wider
    than its figures."""
    return cell.x0 < edge - 2 and cell.x1 < cols[0][0] - 1


def _label_edge(cols: list[tuple[float, float]], label_right: float | None) -> float:
    """Where the row labels end and the value columns' zone begins."""
    if label_right is not None and label_right < cols[0][0]:
        return label_right + 1
    return cols[0][0] - 6


def _header_columns(cell: Cell, cols: list[tuple[float, float]], edge: float) -> list[int]:
    """The value columns a header cell names. Column k's zone runs from the right edge
    of column k-1 (or the labels' edge) to its own right edge, as figures are set
    right-aligned under headers set left, centred or right. A cell spanning several
    zones ("Three months ended June 30,") names each column it spans."""
    out = []
    for k, (a, b) in enumerate(cols):
        lo = cols[k - 1][1] + 1 if k else edge
        hi = b + 6
        inside = min(cell.x1, hi) - max(cell.x0, lo)
        if inside > 0 and (inside >= 0.5 * (cell.x1 - cell.x0) or cell.x0 <= a and cell.x1 >= b):
            out.append(k)
    if not out:
        mid = (cell.x0 + cell.x1) / 2
        out = [min(range(len(cols)), key=lambda k: abs((cols[k][0] + cols[k][1]) / 2 - mid))]
    return out


def _columns(rows: list[Line]) -> list[tuple[float, float]]:
    """Value columns of a run of rows. Figures are set right-aligned, so a column is a
    cluster of right edges; one wide figure ("$1,093,106") then cannot bridge two
    columns as overlapping spans did."""
    cells = sorted((c for r in rows for c in _split_values(r)[1]), key=_figure_right)
    groups: list[list[Cell]] = []
    for c in cells:
        if groups and _figure_right(c) - _figure_right(groups[-1][-1]) <= 4:
            groups[-1].append(c)
        else:
            groups.append([c])
    # A lone figure among the labels (a total set under its caption) is no column.
    label_ends = sorted(c.x1 for r in rows for c in _split_values(r)[0])
    among_labels = label_ends[len(label_ends) // 2] if label_ends else float("-inf")
    groups = [g for g in groups if len(g) > 1 or g[0].x1 > among_labels] or groups
    spans = [(min(c.x0 for c in g), max(c.x1 for c in g),
              not any(ch.isdigit() for c in g for ch in c.text)) for g in groups]
    # Dashes ("—", "$—", "n/a", "NM") set within or across a column of figures are of
    # that column; dashes clear of every column of figures are a column of their own.
    figures = [(a, b) for a, b, dashes in spans if not dashes]
    out = [[a, b] for a, b, dashes in spans
           if not dashes or not any(a <= fb + 3 and b >= fa - 3 for fa, fb in figures)]
    merged: list[list[float]] = []
    for a, b in sorted(out):
        if merged and a < merged[-1][1] - 0.5 * (b - a):
            # Mostly over the previous column: one column with ragged right edges.
            merged[-1] = [min(merged[-1][0], a), max(merged[-1][1], b)]
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _figure_right(cell: Cell) -> float:
    """Where a figure's digits end: a percent sign or bracket set apart after them
    ("(12)  %") hangs right of the column's edge."""
    text = cell.text.rstrip()
    if text.endswith(("%", ")")) and len(cell.starts) > 1:
        k, x = cell.starts[-1]
        if text[k:].strip() in ("%", ")", ")%"):
            return x - 1
    if text.endswith(" %"):  # set with a space: about two characters' width past
        return cell.x1 - 2 * (cell.x1 - cell.x0) / max(len(text), 1)
    return cell.x1


def _column_of(cell: Cell, cols: list[tuple[float, float]]) -> int:
    mid = (cell.x0 + cell.x1) / 2
    for k, (a, b) in enumerate(cols):
        if cell.x1 >= a - 2 and cell.x0 <= b + 2:
            return k
    return min(range(len(cols)), key=lambda k: abs((cols[k][0] + cols[k][1]) / 2 - mid))


def find_tables(lines: list[Line]) -> list[tuple[int, int, int, tuple[int, ...]]]:
    """Table regions as (first header line, first body line, end, header lines found
    elsewhere in reading order) indices: a run of row
    lines (a label and figures) with at least two rows of two or more figures, or three
    rows of one figure in one column, label-only lines allowed between rows (captions
    of groups of rows, wrapped labels), and up to six header lines just above. A run
    of page numbers (a contents list) is not a table."""
    regions = []
    i = 0
    n = len(lines)
    while i < n:
        if not _is_row(lines[i]):
            i += 1
            continue
        j = i
        last_row = i
        multi = single = 0
        while j < n:
            ln = lines[j]
            if _is_mark(ln, lines[last_row]):
                j += 1  # a footnote mark set as a line of its own between rows
                continue
            if _is_row(ln):
                last_row = j
                nv = len(_split_values(ln)[1])
                multi += nv >= 2
                single += nv == 1
            elif not _is_label_line(ln, lines[last_row], lines[j - 1]):
                break
            if j > last_row + 4:
                break
            j += 1
        end = last_row + 1
        rows = [ln for ln in lines[i:end] if _is_row(ln)]
        if (multi >= 2 or (single >= 3 and len(_columns(rows)) == 1)) and not _is_contents(rows):
            cols = _columns(rows)
            label_right = _label_right(rows, cols)
            start = i
            stacked = _stacked_header(lines, i, cols)
            # Captions of the first group of rows ("Operations") sit between the
            # header and the first row.
            while start > 0 and i - start < 4 \
                    and _is_label_line(lines[start - 1], lines[i], lines[start]) \
                    and not _is_sentence_line(lines[start - 1]) \
                    and not _is_header_line(lines[start - 1], cols, label_right):
                start -= 1
            h = start
            # Header lines sit close above the rows and each other; a title further up
            # over the columns is not a header.
            # (Measured from the nearest line already taken, as pdfium may give a
            # two-line header's lines in either order.)
            window = []
            while h > 0 and start - h < 6 and _is_header_line(lines[h - 1], cols, label_right,
                                                              lines[i].size):
                h -= 1
                window.append(lines[h])
            taken = [lines[start]]
            grew = True
            while grew:
                grew = False
                for cand in window:
                    if cand in taken or cand.y <= lines[i].y:
                        continue
                    if min(abs(cand.y - t.y) for t in taken) <= 4.2 * max(
                            cand.size, lines[start].size, 1.0):
                        taken.append(cand)
                        grew = True
            far = max((k for k, cand in enumerate(window) if cand in taken), default=-1)
            h = start - (far + 1)
            claimed = {k for r in regions for k in (*range(r[0], r[2]), *r[3])}
            extra = _header_by_position(lines, start, end, cols, label_right, claimed,
                                        set(range(h, start)))
            if h == start and not extra and stacked:
                # No header over the columns: the lines stacked in the label column
                # just above the rows are the columns' headers, not captions.
                start, h = i, i - stacked
            regions.append((h, start, end, extra))
            i = end
        else:
            i = max(i + 1, end)
    return regions


def _header_by_position(lines: list[Line], start: int, end: int,
                        cols: list[tuple[float, float]], label_right: float | None,
                        claimed: set[int], known: set[int] = frozenset()
                        ) -> tuple[int, ...]:
    """Header lines of a table found by where they stand rather than where they come in
    reading order: lines over the table's width, above its first row and close to it
    and to each other, with nothing else of the table's width between (pdfium may give
    the header of a table in one column of a two-column page far from its rows, or a
    tall header column by column). ``known`` are header lines found already: passed
    over, not returned."""
    first = lines[start]
    rows = [ln for ln in lines[start:end] if _is_row(ln)]
    left = min(ln.x0 for ln in rows) - 6
    right = max(b for _, b in cols) + 10
    near = [k for k, ln in enumerate(lines)
            if k not in claimed and not start <= k < end and first.y < ln.y
            and ln.x0 >= left and ln.x1 <= right]
    taken: list[int] = []
    edge_y = first.y
    for k in sorted(near, key=lambda k: lines[k].y):  # nearest first, going up
        ln = lines[k]
        if ln.y - edge_y > 4.2 * max(ln.size, first.size, 1.0):
            break
        if k not in known and not _is_header_line(ln, cols, label_right, first.size):
            if len(ln.cells) == 1 and ln.x1 < cols[0][0] and not taken:
                edge_y = ln.y  # a caption over the first rows ("Assets:"): pass over
                continue
            break  # prose or a title between: what is above heads something else
        if k not in known:
            taken.append(k)
        edge_y = ln.y
        if len(taken) + len(known) >= 16:
            break
    return tuple(taken)


def _stacked_header(lines: list[Line], start: int, cols: list[tuple[float, float]]) -> int:
    """How many lines above a table are its column headers set one under another in
    the label column (a layout some reports use: "Force rate" / "England and Wales
    rate" above the rows, in column order), optionally under a line naming the period:
    the number of columns (or one more), else 0."""
    n = len(cols)
    for k in (n + 1, n):
        above = lines[max(0, start - k):start]
        if len(above) != k or k < 2:
            continue
        if all(len(ln.cells) == 1 and ln.x1 < cols[0][0] and len(ln.text.split()) <= 12
               and not ln.text.rstrip().endswith((".", ":")) for ln in above) and all(
                a.y > b.y for a, b in zip(above, above[1:])) and (
                k == n or re.search(r"\b(?:19|20)\d{2}\b", above[0].text)):
            return k
    return 0


def _is_sentence_line(line: Line) -> bool:
    """A line of prose that ends a sentence ("The following inputs were used …:" or
    "… as follows."): the text before a table, not a caption of its rows."""
    text = line.text.rstrip()
    return len(text.split()) >= 6 and text.endswith((".", ":")) and bool(
        re.search(r"\b[a-z]{2,}\b", text))


def _is_mark(line: Line, row: Line) -> bool:
    """A superscript or note mark that pdfium gave a line of its own: a few characters
    set much smaller than the rows."""
    return len(line.text.strip()) <= 3 and line.size < 0.8 * row.size


def _is_contents(rows: list[Line]) -> bool:
    """Rows whose only figures are page numbers in reading order: a contents list."""
    nums = []
    for r in rows:
        values = _split_values(r)[1]
        if len(values) != 1 or not re.fullmatch(r"\d{1,3}", values[0].text.strip()):
            return False
        nums.append(int(values[0].text))
    return nums == sorted(nums)


def _is_label_line(line: Line, row: Line, prev: Line | None = None) -> bool:
    """A line inside a table with no figures: one short cell, left of the figures of
    the row before, close below the line before (``prev``, else that row)."""
    # Left of the row's first figure (a dash's "$" may stand far left in its column:
    # a row of nothing but dashes bounds nothing but itself).
    figures = [c for c in _split_values(row)[1] if any(ch.isdigit() for ch in c.text)]
    limit = figures[0].x0 if figures else row.x1
    near = prev or row
    return (len(line.cells) == 1 and line.x1 < limit and len(line.text.split()) <= 25
            and abs(line.y - near.y) < 6 * max(line.size, near.size))


def _header_names(header: list[Line], cols: list[tuple[float, float]], edge: float
                  ) -> tuple[list[str], str]:
    """Each column's header (cells above it from every header line, read top to bottom;
    a cell spanning several columns heads each of them) and the label column's
    header."""
    names: list[list[str]] = [[] for _ in cols]
    left: list[str] = []
    mids = [(a + b) / 2 for a, b in cols]
    pitch = statistics.median([y - x for x, y in zip(mids, mids[1:])] or [cols[0][1] - cols[0][0]])
    if len(header) >= len(cols) and all(_left_of_figures(c, cols, edge)
                                        for ln in header for c in ln.cells):
        # Headers stacked in the label column, in column order (see _stacked_header).
        stacked = [ln.text for ln in header]
        cut = len(stacked) - len(cols)
        return stacked[cut:], " ".join(stacked[:cut])
    # Bottom line first: its cells sit over single columns and become each column's
    # anchor; a cell of a line above heads the columns whose anchors it covers (a group
    # header over its columns' own headers: "Parent Company" over "2021  2020").
    anchors = [[a, b] for a, b in cols]
    # Widest header cell each column has had so far (from the lines below).
    head_width = [0.0 for _ in cols]
    below = 0  # how many cells the header line below this one has over the columns
    for ln in sorted(header, key=lambda ln: ln.y):
        over = [part for c in ln.cells if not _left_of_figures(c, cols, edge)
                for part in _cut_at_columns(c, cols)]
        # (A sentence ending on the header's baseline is not the label column's.)
        left[:0] = [c.text for c in ln.cells if _left_of_figures(c, cols, edge)
                    and len(c.text.split()) <= 12]
        # A cell wider than the step from one column to the next spans a group of
        # columns ("Three Months Ended June 30," over "2023  2022"): a column whose
        # nearest cell of the line is such a cell takes it.
        # (A cell over a column whose own header below is about as wide is that
        # column's header going on: "Neighborhood Markets" / "and other small formats".)
        wide = [c for c in over if c.x1 - c.x0 > 1.2 * pitch
                and not any(_aligned(c, k, cols) for k in range(len(cols)))
                and head_width[_column_of(c, cols)] < 0.6 * (c.x1 - c.x0)]
        lone = over[0] if len(over) == 1 else None
        if (lone is not None and len(cols) > 1 and _centred_on_all(lone, cols)
                and below >= len(cols) / 2
                and head_width[_column_of(lone, cols)] < 0.6 * (lone.x1 - lone.x0)):
            # A line's lone header centred over all the columns, above a line that
            # heads them one by one, spans them all ("For the Years Ended December 31,"
            # over five years) — unlike the top of one column's tall header.
            wide = over
        below = len(over)
        if wide:
            for k, (a, b) in enumerate(cols):
                mid = (a + b) / 2
                near = min(over, key=lambda c: abs((c.x0 + c.x1) / 2 - mid))
                if near in wide:  # (a column nearer another cell of the line is its)
                    names[k].insert(0, near.text)
        for c in over:
            if c in wide:
                continue
            ks = _centred_over(c, anchors) or [
                k for k, (a, b) in enumerate(anchors)
                if min(c.x1, b) - max(c.x0, a) >= 0.25 * max(b - a, 1.0)]
            for k in ks or _header_columns(c, cols, edge):
                names[k].insert(0, c.text)
                head_width[k] = max(head_width[k], c.x1 - c.x0)
            if len(ks) <= 1:
                k = ks[0] if ks else _header_columns(c, cols, edge)[0]
                anchors[k] = [min(anchors[k][0], c.x0), max(anchors[k][1], c.x1)]
    return [" ".join(parts).strip() for parts in names], " ".join(left).strip()


def _centred_on_all(cell: Cell, cols: list[tuple[float, float]]) -> bool:
    """Whether a cell is centred over the whole run of value columns."""
    a, b = cols[0][0], cols[-1][1]
    return abs((cell.x0 + cell.x1) / 2 - (a + b) / 2) <= 0.1 * (b - a)


def _centred_over(cell: Cell, anchors: list[list[float]]) -> list[int]:
    """The run of columns a header cell is centred over ("March 31," over "2021  2020";
    "Subsidiaries" over its two columns): the narrowest run of neighbouring columns
    the cell overlaps whose combined span has the cell's centre at its centre. Empty
    when there is none (a header set right-aligned over right-aligned figures)."""
    mid = (cell.x0 + cell.x1) / 2
    touched = [k for k, (a, b) in enumerate(anchors) if cell.x1 >= a - 2 and cell.x0 <= b + 2]
    best: list[int] = []
    for lo in touched:
        for hi in touched:
            if hi < lo:
                continue
            a, b = anchors[lo][0], anchors[hi][1]
            if abs((a + b) / 2 - mid) <= max(3.0, 0.15 * (b - a)):
                if not best or hi - lo < best[-1] - best[0]:
                    best = list(range(lo, hi + 1))
    return best


def _cut_at_columns(cell: Cell, cols: list[tuple[float, float]]) -> list[Cell]:
    """A header cell cut where a gap wider than a word space lies between two value
    columns: narrow columns set their headers so close ("Under 18  18 years") that they
    read as one cell. A spanning header ("Three months ended June 30,") has only word
    spaces, and stays whole."""
    bounds = [(b + c2) / 2 for (_, b), (c2, _) in zip(cols, cols[1:])]
    cuts = [(k, x) for k, x in cell.starts[1:]
            if any(cell.x0 < m <= x for m in bounds)]
    if not cuts:
        return [cell]
    out, last, last_x = [], 0, cell.x0
    for k, x in cuts:
        piece = cell.text[last:k].strip()
        if piece:
            out.append(Cell(piece, last_x, x - 1))
        last, last_x = k, x
    out.append(Cell(cell.text[last:].strip(), last_x, cell.x1))
    return out


def _aligned(cell: Cell, k: int, cols: list[tuple[float, float]]) -> bool:
    """Whether a header cell heads value column k alone: set right-aligned or centred
    on it, and reaching into neither neighbour's figures."""
    a, b = cols[k]
    if k and cell.x0 < cols[k - 1][1]:
        return False
    if k + 1 < len(cols) and cell.x1 > cols[k + 1][0]:
        return False
    if abs(cell.x1 - b) <= 2.5:
        return True
    # Centred on it, and no wider than its figures (a wider centred cell spans more).
    return (abs((cell.x0 + cell.x1) / 2 - (a + b) / 2) <= 2.5
            and cell.x1 - cell.x0 <= 1.1 * (b - a) + 4)


@dataclass
class TableHead:
    """What a table's rows take from above them: column headers, the label column's
    header, the units, and where the value columns stand (to recognise the same table
    carried on at the top of the next page, where a statement prints no header)."""

    names: list[str]
    left: str
    unit: str
    cols: list[tuple[float, float]]

    def continues(self, cols: list[tuple[float, float]]) -> bool:
        """Whether value columns at these places carry on this table."""
        return len(cols) == len(self.cols) and all(
            abs(b - d) <= 5 or (a <= d and c <= b)
            for (a, b), (c, d) in zip(cols, self.cols))


def rebuild_table(lines: list[Line], region: tuple[int, int, int, tuple[int, ...]],
                  context: list[Line], carried: TableHead | None = None
                  ) -> tuple[list[str], TableHead]:
    """The table's caption line (units and the label column's header, marked with
    :data:`CAPTION_MARK`) and one marked line per row: "label — header: value; …", and
    its head. A table with no header of its own whose columns stand where those of
    ``carried`` stood (the previous page's last table) takes that table's head."""
    h, i, end, extra = region
    body = lines[i:end]
    rows = [ln for ln in body if _is_row(ln)]
    cols = _columns(rows)
    label_right = _label_right(rows, cols)
    edge = _label_edge(cols, label_right)
    header = lines[h:i] + [lines[k] for k in extra]
    names, left = _header_names(header, cols, edge)
    unit = next((m.group(0) for ln in [*context, *header]
                 for m in [_UNIT.search(ln.text)] if m), "")
    if not header and not any(names) and carried is not None and carried.continues(cols):
        names, left, unit = carried.names, carried.left, unit or carried.unit
    head_of_table = TableHead(names, left, unit, cols)
    out: list[str] = []
    caption = " ".join(x for x in (left, unit if unit not in left else "") if x)
    if caption:
        out.append(CAPTION_MARK + caption)
    # Captions of groups of rows, outermost first, with where each is set: a caption
    # set further left closes the groups inside it; captions in a row nest ("2017" /
    # "Net operating revenues:").
    groups: list[tuple[float, str]] = []
    after_caption = False
    pending_label = ""
    for k, ln in enumerate(body):
        label_cells, values = _split_values(ln)
        label = " ".join(c.text for c in label_cells).strip()
        if len(ln.cells) == 1 and _YEAR.match(ln.text.strip()):
            # A year captioning the rows below opens a new outermost group.
            label, values, groups, after_caption = ln.text.strip(), [], [], True
        elif values and not _is_row(ln):
            continue  # a mark or stray figure between rows (see _is_mark)
        if not values and _UNIT.fullmatch(label):
            unit = unit or label  # "(In millions except per share data)" over the rows
            continue
        if not values:
            nxt = body[k + 1] if k + 1 < len(body) else None
            nxt_label = " ".join(c.text for c in _split_values(nxt)[0]) if nxt else ""
            # (A line in capitals is a caption, whatever the indent of the row below.)
            wraps = nxt is not None and _is_row(nxt) and (
                nxt_label[:1].islower() or (nxt.x0 > ln.x0 + 1 and not label.endswith(":")
                                            and not label.isupper()))
            if wraps and not label.endswith(":"):
                pending_label = (pending_label + " " + label).strip()
            else:
                if not after_caption:
                    # (A year caption stays: it heads every group until the next.)
                    groups = [g for g in groups if g[0] < ln.x0 - 1
                              or _YEAR.match(g[1])]
                groups.append((ln.x0, label.rstrip(":").strip()))
                after_caption, pending_label = True, ""
            continue
        after_caption = False
        group = " › ".join(text for _, text in groups)
        label = (pending_label + " " + label).strip()
        pending_label = ""
        parts = []
        for v in values:
            col = _column_of(v, cols)
            name = names[col] if col < len(names) else ""
            parts.append(f"{name}: {v.text}" if name else v.text)
        head = f"{group} › {label}" if group and label else (label or group)
        row = f"{head} — {'; '.join(parts)}" if head else "; ".join(parts)
        if unit:
            row += f" ({unit.strip('()')})"
        out.append(ROW_MARK + row)
    return out, head_of_table
