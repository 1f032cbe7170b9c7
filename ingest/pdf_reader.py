"""Read a PDF report into :class:`~core.models.RawPage` records with pypdf.

Extraction mode, measured with pypdf 7.1.1 on the generated pages in
``tests/pdf_factory.py`` (reportlab output, one ``drawString`` per line or cell):

* ``plain`` (default) follows drawing order. Single-column prose comes out right, a
  two-column page comes out column by column (right), and the running header and page
  number come first (they are drawn first). But it gives no blank line between
  paragraphs, and a table drawn cell by cell comes out one cell per line
  ("Crime excluding fraud" / "55.1" / "60.7"); a table drawn in one text object comes
  out "Crime excluding fraud 55.1 60.7", single-spaced, so cells cannot be told apart.
* ``layout`` places text by position: blank lines between paragraphs, every table row on
  one line with wide gaps between cells, header at the top and page number at the
  bottom (after ~50 padding lines). But a two-column page is interleaved line by line
  ("The force has a clear plan for      Some partners told us that they were not"),
  which destroys both paragraphs. Speed decides nothing: both take about 1 ms a page
  here and 18-23 ms a page on two real typeset PDFs (read_pdf as a whole: 23-27 ms).

Choice: plain mode for the text and its order, with positions from its ``visitor_text``
callback to (1) put fragments that pypdf split onto separate lines but that share a
baseline back on one line, cells joined by two spaces, and (2) insert a blank line where
the gap to the next line is clearly more than that font size's usual line spacing, the
font size changes, or the text jumps up (a new column or region). Layout mode is run
only on pages whose plain text looks tabular, and only its table rows are used: a line
of a text label then two or more numeric cells, which replaces the plain lines holding
the same words. So reading order is plain's (safe for columns) and table rows are
layout's (safe for numbers).

Returned text: lines as the PDF breaks them (hyphenated words stay split, "investi-" /
"gation"), a blank line between paragraphs, running headers, page numbers and footnotes
left in as their own paragraphs, table rows as ``label  value  value``. No other
cleaning (no NFKC): that is the next stage's job.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from core.errors import UnreadableReport
from core.models import RawPage

log = logging.getLogger(__name__)

#: A document whose every page has fewer non-blank characters than this has no text layer.
MIN_TEXT_CHARS = 20

_NUM = r"[-+(]?[£$€]?\d[\d,]*(?:\.\d+)?%?\)?\*?"
_NUM_RE = re.compile(rf"{_NUM}$")
#: A layout-mode table row: a label with a letter, then >= 2 numeric cells, wide gaps.
#: The label ends on a non-space and the gaps are possessive, so a layout line padded
#: with thousands of spaces is matched in linear time (it took seconds).
_ROW_RE = re.compile(
    rf"^\s*+(?P<label>\S(?:.*?\S)?)(?P<cells>(?:\s{{2,}}+{_NUM})+)\s*$")
#: Longer lines are not table rows; the regexes need not look at them.
_MAX_ROW_CHARS = 2000
_TWO_NUMS_RE = re.compile(rf"(?:^|\s){_NUM}\s+{_NUM}$")

FIX_REEXPORT = "download the report again or re-export it as PDF from the original"


def _fail(path: Path, reason: str, fix: str) -> UnreadableReport:
    # The message is the whole line (file, reason, fix), as ingest/pipeline.py shows it.
    return UnreadableReport(f"{path.name}: {reason} — {fix}", path=str(path), fix=fix)


def _one_line(exc: BaseException, limit: int = 120) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def read_pdf(path: Path) -> list[RawPage]:
    """Read every page of the PDF at ``path``: its 0-based index, its printed label when
    the file has ``/PageLabels`` (else None) and its text (see the module docstring for
    the format). Raises :class:`UnreadableReport`, with the file, the reason and the fix
    in the message, for anything that cannot give text: not a PDF, empty, truncated or
    damaged, encrypted with a password, or without a text layer (a scan). A single page
    whose extraction fails gets empty text and a logged warning; the others are kept."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _fail(
            path, f"cannot read the file ({exc.strerror or exc})", "check the path and permissions"
        ) from exc
    if not data:
        raise _fail(path, "empty file (0 bytes)", "download or copy the report again")
    if b"%PDF-" not in data[:1024]:
        raise _fail(path, *_not_pdf_reason(data))
    # An interrupted download loses the end of the file, and with it the end-of-file
    # marker; pypdf may still open what is left, so remember it for the errors below.
    truncated = b"%%EOF" not in data[-2048:]

    encrypted = False
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
        if encrypted:
            from pypdf import PasswordType

            if reader.decrypt("") == PasswordType.NOT_DECRYPTED:
                raise _fail(
                    path,
                    "encrypted PDF (needs a password)",
                    "remove the password or export an unprotected copy",
                )
        pages = list(reader.pages)
    except UnreadableReport:
        raise
    except DependencyError as exc:
        raise _fail(
            path,
            f"encrypted PDF that pypdf cannot decrypt without an extra package ({_one_line(exc)})",
            "pip install cryptography, or export an unprotected copy",
        ) from exc
    except FileNotDecryptedError as exc:
        raise _fail(
            path,
            "encrypted PDF (needs a password)",
            "remove the password or export an unprotected copy",
        ) from exc
    except Exception as exc:  # pypdf raises many types for broken files
        if encrypted:
            raise _fail(
                path,
                f"encrypted PDF that pypdf cannot decrypt ({_one_line(exc)})",
                "export an unprotected copy",
            ) from exc
        if truncated:
            raise _fail(
                path, "truncated PDF (the file ends early)", "download or copy the report again"
            ) from exc
        raise _fail(path, f"damaged PDF ({_one_line(exc)})", FIX_REEXPORT) from exc
    if not pages:
        raise _fail(path, "PDF has no pages", FIX_REEXPORT)

    labels = _page_labels(reader, len(pages), path)
    pdoc = _open_pdfium(data, path)
    outline = _outline(pdoc, path) if pdoc is not None else {}
    out: list[RawPage] = []
    failed: list[int] = []
    carried = None  # the head of a table that runs to the foot of the previous page
    for index, page in enumerate(pages):
        styles: tuple = ()
        try:
            read = (_pdfium_page_text(pdoc, index, path, carried) if pdoc is not None
                    else None)
            carried = None
            if read is None:
                text = _page_text(page)
            else:
                text, styles, carried = read
        except Exception as exc:  # one bad page must not lose the rest
            log.warning("%s: PDF page %d: text extraction failed (%s); using empty text",
                        path, index + 1, _one_line(exc))
            failed.append(index)
            text = ""
        out.append(RawPage(index=index, text=text, label=labels[index], styles=styles,
                           outline=tuple(outline.get(index, ()))))
    if pdoc is not None:
        pdoc.close()

    if failed and (truncated or len(failed) == len(pages)):
        reason = "truncated PDF (the file ends early)" if truncated else "damaged PDF"
        raise _fail(
            path,
            f"{reason}: text extraction failed on {len(failed)} of {len(pages)} pages",
            FIX_REEXPORT,
        )
    counts = [len("".join(p.text.split())) for p in out]
    if all(n < MIN_TEXT_CHARS for n in counts):
        raise _fail(
            path,
            "no text layer (scanned image?)",
            "run OCR (e.g. ocrmypdf) and add the OCR'd copy",
        )
    empty = sum(n < MIN_TEXT_CHARS for n in counts)
    if empty > len(out) // 2:
        log.warning("%s: %d of %d pages have almost no text (scanned pages?)",
                    path, empty, len(out))
    return out


def _not_pdf_reason(data: bytes) -> tuple[str, str]:
    head = data[:512].lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")) or b"<html" in head:
        return (
            "not a PDF but an HTML page saved under a .pdf name",
            "download the PDF itself (not the web page that links to it)",
        )
    if head.startswith(b"pk\x03\x04"):
        return (
            "not a PDF but a ZIP or Office document",
            "export it as PDF, or save it as .txt or .md",
        )
    return (
        "not a PDF (no %PDF- header)",
        "check that this is the report PDF; download or export it again",
    )


def _page_labels(reader, n: int, path: Path) -> list[str | None]:
    """Printed labels from the catalog's /PageLabels. pypdf makes up "1", "2", ... when
    the entry is missing, and those would be wrong for every report with front matter,
    so without the entry every label is None (a later stage reads the printed numbers)."""
    try:
        root = reader.trailer["/Root"]
        if "/PageLabels" not in root:
            return [None] * n
        problem = _page_labels_problem(root["/PageLabels"].get_object())
        labels = [] if problem else list(reader.page_labels)
    except Exception as exc:
        problem = f"unreadable ({_one_line(exc)})"
    if not problem and len(labels) != n:
        problem = f"{len(labels)} labels for {n} pages"
    if not problem:
        labels = [label or None for label in labels]
        odd = next((x for x in labels if x and (len(x) > 16 or not x.isprintable())), None)
        if odd is not None:
            problem = f"label {odd[:20]!r} is not a page number"
        elif n > 2 and len(set(labels)) * 2 < n:
            problem = "the same labels repeat on many pages"
    if problem:
        # pypdf quietly falls back to "1", "2", ... for entries it cannot use, which
        # would cite the wrong page: the printed page numbers are read instead.
        log.warning("%s: nonsense /PageLabels ignored (%s); using printed page numbers",
                    path, problem)
        return [None] * n
    return labels


_LABEL_STYLES = ("/D", "/R", "/r", "/A", "/a")


def _page_labels_problem(tree) -> str | None:
    """Why a /PageLabels number tree cannot be trusted, or None. Checks what pypdf
    would silently skip or misread: entries that are not (page index, label dict)
    pairs in page order from page 0, unknown styles, absurd start numbers, long or
    non-text prefixes. Trees split into /Kids are left to pypdf."""
    if not isinstance(tree, dict):
        return "not a dictionary"
    nums = tree.get("/Nums")
    if nums is None:
        return None if "/Kids" in tree else "no /Nums"
    nums = nums.get_object()
    if not isinstance(nums, list) or len(nums) % 2 or not nums:
        return "/Nums is not a list of (page, label) pairs"
    keys = []
    for key, spec in zip(nums[::2], nums[1::2]):
        key = key.get_object() if hasattr(key, "get_object") else key
        spec = spec.get_object() if hasattr(spec, "get_object") else spec
        if not isinstance(key, int) or isinstance(key, bool) or key < 0:
            return f"page index {key!r}"
        if not isinstance(spec, dict):
            return f"entry for page {key} is not a dictionary"
        style = spec.get("/S")
        if style is not None and style not in _LABEL_STYLES:
            return f"unknown numbering style {style!r}"
        start = spec.get("/St", 1)
        start = start.get_object() if hasattr(start, "get_object") else start
        if not isinstance(start, int) or not 1 <= start < 100_000:
            return f"start number {start!r}"
        prefix = spec.get("/P", "")
        prefix = prefix.get_object() if hasattr(prefix, "get_object") else prefix
        if not isinstance(prefix, str) or len(prefix) > 16:
            return "prefix is not a short text"
        keys.append(key)
    if keys[0] != 0 or keys != sorted(set(keys)):
        return "entries are not in page order from the first page"
    return None


# --- page text through pdfium ----------------------------------------------------------


def _open_pdfium(data: bytes, path: Path):
    """The document opened by pdfium, or None (pypdf then reads every page): pdfium
    refuses some files pypdf repairs, and those still read."""
    try:
        import pypdfium2 as pdfium

        return pdfium.PdfDocument(data)
    except Exception as exc:  # noqa: BLE001 — any refusal falls back to pypdf
        log.info("%s: pdfium cannot open the file (%s); reading with pypdf", path,
                 _one_line(exc))
        return None


def _outline(pdoc, path: Path) -> dict[int, list[tuple[int, str]]]:
    """The PDF's outline (bookmarks) by the page each entry points at: {page index:
    [(depth, title), ...]}. Empty when the file has none or it cannot be read."""
    out: dict[int, list[tuple[int, str]]] = {}
    try:
        for item in pdoc.get_toc(max_depth=16):
            title = " ".join((item.get_title() or "").split())
            page = item.get_dest().get_index() if item.get_dest() is not None else None
            if title and page is not None:
                out.setdefault(page, []).append((item.level, title))
    except Exception as exc:  # noqa: BLE001 — an outline only helps; text still reads
        log.info("%s: PDF outline unreadable (%s); headings from layout only", path,
                 _one_line(exc))
    return out


def _pdfium_page_text(pdoc, index: int, path: Path, carried=None
                      ) -> tuple[str, tuple, object] | None:
    """A page's text from pdfium's character boxes (ingest/pdf_layout.py): lines with
    words as printed, paragraphs split at wide gaps and style changes, and tables as
    marked row lines; its line styles; and the head of a table that reaches the foot
    of the page (for a continuation on the next page), else None. `carried` is that
    head from the previous page: the first table here, near the top and with no header
    of its own, takes it. None when pdfium cannot place the page's characters."""
    from .pdf_layout import (
        find_tables,
        merge_baselines,
        page_lines,
        reading_order,
        rebuild_table,
    )

    try:
        page = pdoc[index]
        textpage = page.get_textpage()
        frags = page_lines(textpage)
    except Exception as exc:  # noqa: BLE001 — the page is read by pypdf instead
        log.info("%s: PDF page %d: pdfium failed (%s); reading it with pypdf", path,
                 index + 1, _one_line(exc))
        return None
    if not frags:
        # No characters placed (or none at all): pypdf gets its chance at the page,
        # and names it if it cannot read it either.
        return None
    lines = reading_order(merge_baselines(frags))
    out: list[str] = []
    styles: list[tuple[str, float, bool]] = []
    done = 0
    head = None
    regions = find_tables(lines)
    # Header lines found away from their table in reading order are the table's only.
    elsewhere = {k for region in regions for k in region[3]}

    def prose(lo: int, hi: int) -> list[str]:
        return _assemble([_as_line(lines[k]) for k in range(lo, hi) if k not in elsewhere])

    for k, region in enumerate(regions):
        out += prose(done, region[0])
        # Only the page's first table, within its first few lines (running header and
        # the like), can carry on the previous page's.
        # A table broken into runs on one page (a line between its rows that is no row)
        # carries on the previous run's head when its columns stand in the same place.
        if k:
            inherit = head if region[0] - regions[k - 1][2] <= 3 else None
        else:
            inherit = carried if region[0] <= 4 else None
        rows, head = rebuild_table(lines, region, lines[max(0, region[0] - 3):region[0]],
                                   inherit)
        out += ["", *rows, ""]
        done = region[2]
    out += prose(done, len(lines))
    # Styles of the text lines only: a table's lines are not the body text's size.
    in_tables = {k for r in regions for k in (*range(r[0], r[2]), *r[3])}
    styles = [(ln.text.strip(), ln.size, ln.bold) for k, ln in enumerate(lines)
              if k not in in_tables]
    # A table whose rows run to within a few lines of the page's foot may carry on.
    reaches_foot = head is not None and len(lines) - done <= 4
    return _join(out), tuple(styles), head if reaches_foot else None


def _as_line(ln) -> _Line:
    return _Line(text=ln.text, x=ln.x0, y=ln.y, size=ln.size, last_x=ln.cells[-1].x0,
                 end=ln.x1, bold=ln.bold)


# --- page text through pypdf ------------------------------------------------------------


@dataclass
class _Line:
    text: str = ""
    x: float | None = None
    y: float | None = None
    size: float = 0.0
    #: Where the last fragment starts, and an estimate of where the text ends (the
    #: visitor gives no glyph widths: about 0.5 em a character).
    last_x: float = 0.0
    end: float = 0.0
    #: False for rotated text, whose positions the line logic below does not understand.
    upright: bool = True
    #: Set by the pdfium reader; a change of weight starts a new paragraph (a heading).
    bold: bool = False
    _longest: int = 0

    def add(self, text: str, x: float, y: float, size: float, upright: bool) -> None:
        if text.strip():
            if self.x is None:
                self.x = x
            # The line's baseline and size are those of its longest fragment, not of a
            # smaller bullet glyph or a superscript that starts it.
            if len(text.strip()) > self._longest:
                self._longest = len(text.strip())
                self.y, self.size, self.upright = y, size, upright
            self.last_x = x
            self.end = x + 0.5 * size * len(text.rstrip())
        self.text += text


def _mult(m: list[float], n: list[float]) -> list[float]:
    return [
        m[0] * n[0] + m[1] * n[2],
        m[0] * n[1] + m[1] * n[3],
        m[2] * n[0] + m[3] * n[2],
        m[2] * n[1] + m[3] * n[3],
        m[4] * n[0] + m[5] * n[2] + n[4],
        m[4] * n[1] + m[5] * n[3] + n[5],
    ]


def _page_text(page) -> str:
    frags: list[tuple[str, list[float], list[float], float]] = []

    def visit(text, cm, tm, _font, size):
        if text:
            frags.append((text, list(cm), list(tm), float(size or 0)))

    plain = page.extract_text(visitor_text=visit)
    plain = plain.replace("\r\n", "\n").replace("\r", "\n")
    if "".join(f[0] for f in frags).replace("\r\n", "\n").replace("\r", "\n") != plain:
        # The positions do not describe this text; keep pypdf's text as it is.
        lines = [line.strip() for line in plain.split("\n")]
    else:
        lines = _assemble(_positioned_lines(frags))
    if _looks_tabular(lines):
        try:
            layout = page.extract_text(extraction_mode="layout")
        except Exception as exc:
            log.debug("layout extraction failed (%s); tables stay as plain text", exc)
        else:
            lines = _use_layout_rows(lines, layout)
    return _join(lines)


def _positioned_lines(frags) -> list[_Line]:
    lines = [_Line()]
    for text, cm, tm, size in frags:
        m = _mult(tm, cm)
        x, y = m[4], m[5]
        # pypdf reports the Tf size; the matrices scale it (many PDFs use "1 Tf").
        eff = size * math.hypot(m[2], m[3])
        if not eff > 0:
            eff = 10.0
        upright = m[0] > 0 and abs(m[1]) <= 0.01 * m[0]
        parts = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        for i, part in enumerate(parts):
            if i:
                lines.append(_Line())
            lines[-1].add(part, x, y, eff, upright)
    return lines


def _assemble(lines: list[_Line]) -> list[str]:
    """Rejoin same-baseline lines and insert blank lines at paragraph gaps."""
    merged: list[_Line] = []
    for line in lines:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and line.x is not None
            and prev.x is not None
            and line.upright
            and prev.upright
            and abs(prev.y - line.y) <= 0.25 * max(prev.size, line.size)
            and line.x > prev.last_x
        ):
            wide = line.x - prev.end > max(prev.size, line.size)
            # A lone symbol before text is a bullet, not a table cell.
            bullet = len(prev.text.strip()) == 1 and not prev.text.strip().isalnum()
            sep = "  " if wide and not bullet else " "
            prev.text = prev.text.rstrip() + sep + line.text.strip()
            prev.last_x, prev.end = line.last_x, line.end
            continue
        merged.append(line)

    # Usual line spacing for each font size: the commonest downward step between two
    # consecutive lines of that size.
    steps: dict[int, Counter] = {}
    for a, b in pairwise(merged):
        same_size = round(a.size) == round(b.size)
        if a.y is None or b.y is None or not (a.upright and b.upright and same_size):
            continue
        dy = a.y - b.y
        if 0 < dy < 3 * b.size:
            steps.setdefault(round(b.size), Counter())[round(dy * 2) / 2] += 1

    def leading(line: _Line) -> float:
        counts = steps.get(round(line.size))
        if not counts:
            return 1.25 * line.size
        best = max(counts.values())
        return min(dy for dy, c in counts.items() if c == best)

    out: list[str] = []
    prev: _Line | None = None
    for line in merged:
        text = line.text.strip()
        if not text:
            out.append("")
            continue
        if prev is not None and line.upright and prev.upright:
            dy = prev.y - line.y
            if (
                dy <= 0.25 * line.size  # back up the page: a new column or region
                or dy > 1.3 * max(leading(prev), leading(line)) + 0.5
                or abs(prev.size - line.size) >= 1.5
                or prev.bold != line.bold
            ):
                out.append("")
        out.append(text)
        prev = line
    return out


def _looks_tabular(lines: list[str]) -> bool:
    hits = sum(1 for line in lines if len(line) <= _MAX_ROW_CHARS
               and (_NUM_RE.match(line) or _TWO_NUMS_RE.search(line)))
    return hits >= 2


def _row_cells(line: str) -> list[str] | None:
    m = _ROW_RE.match(line) if len(line) <= _MAX_ROW_CHARS else None
    if not m or not re.search(r"[^\W\d_]", m.group("label")):
        return None
    label = " ".join(m.group("label").split())
    return [label, *m.group("cells").split()]


def _use_layout_rows(lines: list[str], layout: str) -> list[str]:
    """Replace the plain lines that hold a layout-mode table row (same words, in order)
    by that row, cells joined by two spaces."""
    lines = list(lines)
    start = 0
    for layout_line in layout.split("\n"):
        cells = _row_cells(layout_line)
        if not cells:
            continue
        want = " ".join(cells).split()
        for lo in (start, 0):
            hit = _find_window(lines, want, lo)
            if hit:
                i, j = hit
                lines[i : j + 1] = ["  ".join(cells)]
                start = i + 1
                break
    return lines


def _find_window(lines: list[str], want: list[str], lo: int) -> tuple[int, int] | None:
    for i in range(lo, len(lines)):
        got: list[str] = []
        for j in range(i, min(i + 2 * len(want), len(lines))):
            if not lines[j].strip():
                break
            got += lines[j].split()
            if got == want:
                return i, j
            if got != want[: len(got)]:
                break
    return None


def _join(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        line = line.strip()
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)
