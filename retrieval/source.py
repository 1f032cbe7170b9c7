"""The source, one click away: what a cited passage card opens — the PDF page the
passage is printed on, rendered with the passage marked, or, for a text report (or a PDF
that is no longer the file that was indexed), the passage among its neighbours in its
section.

Pages are rendered with pypdfium2 (PDFium, the renderer Chrome uses): pypdf, which
ingest reads with, cannot draw a page. The passage is found on the page by its words,
not its characters: ingest cleans the text (hyphenated words joined, footnote markers
and page furniture removed, table rows rewritten), so the page's text and the passage's
text agree on runs of words, not on exact strings: runs of MIN_RUN or more words the two
share in order place the passage on the page, and within that region the word pairs
they share are marked too (see :func:`_marked_words`). A passage over a page break is
shown one page at a time: the first by default, ``continues_on`` naming the others.

Passage.pdf_pages counts PDF pages from 1 (ingest/passages.py stores the reader's
0-based index + 1); PDFium counts from 0.
"""

from __future__ import annotations

import ctypes
import io
import re
import threading
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

from core.models import Passage, Report
from ingest.readers import file_hash

#: Rendered pages are at most this wide (pixels): sharp on a laptop screen, small
#: enough to send to a browser (~150-300 kB as PNG).
MAX_WIDTH = 1200
#: Nor is a small page blown up past this many pixels a point (3 = 216 dpi).
MAX_SCALE = 3.0
#: Fewest words in a row the passage and the page must share to be marked: shorter
#: runs ("of the force") occur all over a page.
MIN_RUN = 3
#: Neighbouring passages shown on each side in the text view.
NEIGHBOURS = 2
#: Rendered pages kept (least recently used out): a PNG is ~0.2-0.5 MB.
RENDER_CACHE = 32

#: Highlighter yellow, applied by multiplying: white paper turns yellow, ink stays black.
HIGHLIGHT = (255, 232, 64)
#: The bar in the margin beside the marked lines, so the eye finds them at a glance:
#: its colour, width and gap from the text, in points (PDF units).
BAR = (235, 160, 0)
BAR_WIDTH = 2.5
BAR_GAP = 6.0

NOT_MARKED = "could not mark the passage on the page"

# PDFium is not thread-safe, and Streamlit serves each browser session from its own
# thread: every call into it goes through this lock.
_PDFIUM = threading.Lock()

_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class SourceView:
    """What to show for a passage's source.

    ``kind`` is "pdf_page" (``image`` holds the rendered page) or "text" (``before``,
    ``passage``, ``after``: the passage among its section's neighbours). ``note`` says
    why a PDF is shown as text, or that the passage could not be marked on its page;
    None when all went as expected."""

    kind: str
    passage: Passage
    #: The printed label of the page shown ("9", "iv"), never the PDF's page number;
    #: None for the text view or when the report prints none.
    page_label: str | None = None
    #: The PDF page shown, 1-based, as Passage.pdf_pages counts (None for text).
    pdf_page: int | None = None
    #: Printed labels of the further pages the passage runs onto (not rendered).
    continues_on: tuple[str, ...] = ()
    #: PNG of the page with the passage marked.
    image: bytes | None = None
    #: The image's (width, height) in pixels.
    size: tuple[int, int] | None = None
    #: Marked rectangles (left, top, right, bottom) in image pixels, one a line.
    boxes: tuple[tuple[int, int, int, int], ...] = ()
    #: Up to `neighbours` passages of the same section before and after, reading order.
    before: tuple[Passage, ...] = ()
    after: tuple[Passage, ...] = ()
    #: The file the view was made from (the PDF rendered), if any was found.
    path: Path | None = None
    note: str | None = None


@dataclass(frozen=True)
class RenderedPage:
    """One rendered page: the PNG, its size, the marked rectangles (image pixels)."""

    png: bytes
    size: tuple[int, int]
    boxes: tuple[tuple[int, int, int, int], ...] = ()


def source_view(store, passage: Passage, corpus_dir: Path | None = None,
                neighbours: int = NEIGHBOURS, pdf_page: int | None = None) -> SourceView:
    """The source of ``passage`` from ``store`` (a :class:`retrieval.store.Store`).

    A PDF report's page is rendered with the passage marked: the first page the passage
    is on, or ``pdf_page`` (1-based, one of ``passage.pdf_pages``) to show a page it
    runs onto. The file is looked for at ``corpus_dir / passage.source_file`` (pass the
    settings' corpus folder), then under the corpus folder the index was built from
    (its manifest). A PDF that is missing, unreadable or not byte for byte the file
    that was indexed (sha256, as the report's content hash) gives the text view with a
    note saying so; a text or Markdown report always gives the text view. Never raises
    for a missing, changed or broken file."""
    report = _report(store, passage.report_id)
    suffix = Path(passage.source_file).suffix.lower()
    if suffix != ".pdf":
        return _text_view(store, passage, neighbours)
    path, problem = _locate(store, passage, report, corpus_dir)
    if path is None:
        return _text_view(store, passage, neighbours, note=problem)
    pages = [p for p in passage.pdf_pages if p >= 1]
    if not pages:
        return _text_view(store, passage, neighbours, note=(
            f"{passage.source_file}: the index records no page for this passage; "
            "showing the indexed text."))
    shown = pdf_page if pdf_page in pages else pages[0]
    try:
        page = _render_cached(str(path), report.content_hash if report else "", shown - 1,
                              passage.text)
    except Exception as e:  # noqa: BLE001 — PDFium raises its own errors for bad files
        return _text_view(store, passage, neighbours, note=(
            f"{passage.source_file} could not be rendered ({_one_line(e)}); "
            "showing the indexed text."))
    label = _label_of(passage, shown)
    later = tuple(x for x in (_label_of(passage, p) for p in pages if p > shown) if x)
    return SourceView(
        kind="pdf_page", passage=passage, page_label=label, pdf_page=shown,
        continues_on=tuple(dict.fromkeys(x for x in later if x != label)),
        image=page.png, size=page.size, boxes=page.boxes, path=path,
        note=None if page.boxes else NOT_MARKED)


def render_page(path: Path, page_index: int, text: str | None = None) -> RenderedPage:
    """Render page ``page_index`` (0-based, PDFium's count) of the PDF at ``path``,
    at most MAX_WIDTH pixels wide, with the words of ``text`` marked in highlighter
    yellow and a bar in the margin beside them (nothing marked when ``text`` is None
    or none of it is found). Raises for a file PDFium cannot open or a page it lacks."""
    import pypdfium2 as pdfium
    from PIL import Image, ImageChops, ImageDraw

    with _PDFIUM:
        doc = pdfium.PdfDocument(str(path))
        try:
            if not 0 <= page_index < len(doc):
                raise ValueError(f"the PDF has no page {page_index + 1}")
            page = doc[page_index]
            width_pt, _ = page.get_size()
            scale = min(MAX_WIDTH / width_pt, MAX_SCALE) if width_pt > 0 else 1.0
            image = page.render(scale=scale).to_pil().convert("RGB")
            boxes, bar = _find_boxes(page, text, image.size) if text else ([], None)
            page.close()
        finally:
            doc.close()
    if boxes:
        mask = Image.new("RGB", image.size, (255, 255, 255))
        draw = ImageDraw.Draw(mask)
        for box in boxes:
            draw.rectangle(box, fill=HIGHLIGHT)
        image = ImageChops.multiply(image, mask)
        ImageDraw.Draw(image).rectangle(bar, fill=BAR)
    buf = io.BytesIO()
    # compress_level 3: on rendered pages faster than the default 6 and no bigger
    # (measured on an A4 text page: 25 ms and 142 kB against 36 ms and 151 kB).
    image.save(buf, format="PNG", compress_level=3)
    return RenderedPage(png=buf.getvalue(), size=image.size, boxes=tuple(boxes))


@lru_cache(maxsize=RENDER_CACHE)
def _render_cached(path: str, digest: str, page_index: int, text: str) -> RenderedPage:
    # Keyed by the file's hash too: the same path may hold a newer file later (it then
    # fails the hash check before it gets here, but the key must not outlive it).
    del digest
    return render_page(Path(path), page_index, text)


def _report(store, report_id: str) -> Report | None:
    return next((r for r in store.reports if r.report_id == report_id), None)


def _locate(store, passage: Passage, report: Report | None,
            corpus_dir: Path | None) -> tuple[Path | None, str | None]:
    """The indexed PDF of a passage, or None and the note saying why not."""
    rel = passage.source_file
    dirs = [Path(corpus_dir)] if corpus_dir else []
    built = store.manifest.corpus_dir
    if built and Path(built) not in dirs:
        dirs.append(Path(built))
    if not dirs:
        return None, (f"The PDF {rel} cannot be found (no corpus folder is known); "
                      "showing the section's text instead.")
    changed = None
    for d in dirs:
        path = d / rel
        try:
            if not path.is_file():
                continue
            digest = _digest(str(path), *_stamp(path))
        except OSError:
            continue
        if report is None or digest == report.content_hash:
            return path, None
        changed = path
    if changed is not None:
        return None, (f"{rel} has changed since it was indexed (at {changed}); "
                      "showing the indexed text.")
    return None, (f"The PDF is not at {dirs[0] / rel} (moved or deleted, or the index was "
                  "copied without its corpus); showing the section's text instead.")


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


@lru_cache(maxsize=256)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    # A report PDF can be tens of MB: hash it again only when it is touched.
    del mtime_ns, size
    return file_hash(Path(path))


def _label_of(passage: Passage, pdf_page: int) -> str | None:
    """The printed label of one of a passage's PDF pages. Passage.page_labels drops
    unlabelled pages and repeats, so it lines up with pdf_pages only when as long."""
    labels, pages = passage.page_labels, passage.pdf_pages
    if len(labels) == len(pages):
        return labels[pages.index(pdf_page)] or None
    if labels and pdf_page == pages[0]:
        return labels[0]
    if labels and pdf_page == pages[-1]:
        return labels[-1]
    return None


def _text_view(store, passage: Passage, neighbours: int, note: str | None = None
               ) -> SourceView:
    """The passage with up to ``neighbours`` passages on each side from its chapter
    (the top-level section): a subsection often holds one passage only, and the
    reader's context is the text around it."""
    same = sorted((p for p in store.iter_passages(passage.report_id)
                   if p.section[:1] == passage.section[:1]), key=lambda p: p.order)
    at = next((i for i, p in enumerate(same) if p.passage_id == passage.passage_id), None)
    n = max(0, neighbours)
    before = tuple(same[max(0, at - n):at]) if at is not None else ()
    after = tuple(same[at + 1:at + 1 + n]) if at is not None else ()
    return SourceView(kind="text", passage=passage, before=before, after=after, note=note)


# --- finding the passage on the page ------------------------------------------------


def _words(text: str) -> list[str]:
    """Comparable words: NFKC (ligatures apart), case-folded, letters and digits only."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).casefold())


def _page_words(textpage) -> list[tuple[str, list[int], int]]:
    """The page's words, each with the indexes of its characters and its line number
    (PDFium puts a line break between lines it reads apart). PDFium marks a word
    hyphenated at a line end with \\x02 where the hyphen was: the halves are one word,
    as ingest joins them. A plain hyphen before a line break joins the halves too."""
    import pypdfium2.raw as raw

    n = textpage.count_chars()
    chars = [chr(raw.FPDFText_GetUnicode(textpage.raw, i)) for i in range(n)]
    out: list[tuple[str, list[int], int]] = []
    word, idx = [], []
    line = 0
    i = 0
    while i < n:
        ch = unicodedata.normalize("NFKC", chars[i]).casefold()
        if ch and all(c.isalnum() or c == "_" for c in ch):
            word.append(ch)
            idx.append(i)
            i += 1
            continue
        if word and chars[i] == "\x02":
            i += 1
            continue
        if word and chars[i] == "-":
            j = i + 1
            while j < n and chars[j] in "\r\n":
                j += 1
            if j > i + 1 and j < n and chars[j].islower():
                i = j
                continue
        if word:
            out.append(("".join(word), idx, line))
            word, idx = [], []
        line += chars[i] == "\n"
        i += 1
    if word:
        out.append(("".join(word), idx, line))
    return out


def _find_boxes(page, text: str, size: tuple[int, int]
                ) -> tuple[list[tuple[int, int, int, int]], tuple[int, int, int, int] | None]:
    """Pixel rectangles, one a line, over the page's words that hold the passage (see
    :func:`_marked_words`), and the margin bar beside them (None when none)."""
    textpage = page.get_textpage()
    try:
        page_words = _page_words(textpage)
        want = _words(text)
        if not want or not page_words:
            return [], None
        if page.get_rotation() in (90, 270):
            # PDFium reads the lines of a page turned on its side in another order
            # (bottom to top, seen at 90°): put them back top to bottom as printed.
            first: dict[int, tuple[float, float]] = {}
            for _, idx, line in page_words:
                if line not in first:
                    left, _, _, top = textpage.get_charbox(idx[0], loose=True)
                    first[line] = (-top, left)
            page_words.sort(key=lambda w: first[w[2]])
        have = [w for w, _, _ in page_words]
        lines = [n for _, _, n in page_words]
        chars = [i for k in _marked_words(have, want, lines) for i in page_words[k][1]]
        # Loose boxes (the font's height, not the glyph's): a full stop's tight box
        # is a dot at the baseline, which would not look like part of its line.
        boxes = [textpage.get_charbox(i, loose=True) for i in chars]
    finally:
        textpage.close()
    lines = _line_boxes(boxes)
    if not lines:
        return [], None
    # The bar is placed in the page's own space too, so it stays in the margin, beside
    # the lines, on a page turned on its side.
    left = min(b[0] for b in lines) - BAR_GAP - BAR_WIDTH
    bar = (left, min(b[1] for b in lines), left + BAR_WIDTH, max(b[3] for b in lines))
    return [_to_pixels(page, b, size) for b in lines], _to_pixels(page, bar, size)


def _marked_words(have: list[str], want: list[str], lines: list[int] | None = None
                  ) -> list[int]:
    """Which of the page's words (``have``) to mark for a passage's words (``want``).

    Runs of MIN_RUN or more words the two share in the same order (difflib) are the
    anchors. Anchors far from the others are dropped: a phrase such as "the force has
    a" recurs all over a page, and the passage is one region of it. Between the first
    and the last anchor kept, every pair of words the passage also holds is marked
    too, in any order: ingest rewrites a table row by row with its column headings
    repeated ("Burglary — Northshire 7.9, England and Wales 8.9"), so a table agrees
    with its page on short runs, out of order. With ``lines`` (each page word's line
    number), such pairs are also marked on the rest of the first and the last anchor's
    lines: the figures of a table's last row follow its label."""
    need = min(MIN_RUN, len(want))
    matcher = SequenceMatcher(None, have, want, autojunk=False)
    blocks = [(a, k) for a, _, k in matcher.get_matching_blocks() if k >= need]
    if not blocks:
        return []
    gap = max(40, len(want) // 2)
    clusters: list[list[tuple[int, int]]] = []
    for a, k in sorted(blocks):
        if clusters and a - (clusters[-1][-1][0] + clusters[-1][-1][1]) <= gap:
            clusters[-1].append((a, k))
        else:
            clusters.append([(a, k)])
    best = max(clusters, key=lambda c: sum(k for _, k in c))
    marked = {i for a, k in best for i in range(a, a + k)}
    pairs = set(zip(want, want[1:], strict=False))
    lo, hi = best[0][0], best[-1][0] + best[-1][1]
    if lines is not None:
        while lo > 0 and lines[lo - 1] == lines[lo]:
            lo -= 1
        while hi < len(have) and lines[hi] == lines[hi - 1]:
            hi += 1
    for i in range(lo, hi - 1):
        if (have[i], have[i + 1]) in pairs:
            marked.update((i, i + 1))
    return sorted(marked)


def _to_pixels(page, box, size: tuple[int, int]) -> tuple[int, int, int, int]:
    """A box in PDF units to image pixels, through PDFium's own page-to-device transform:
    it applies the crop box and the page's rotation exactly as the render did."""
    import pypdfium2.raw as raw

    left, bottom, right, top = box
    xs, ys = [], []
    for px, py in ((left, bottom), (right, top)):
        dx, dy = ctypes.c_int(), ctypes.c_int()
        raw.FPDF_PageToDevice(page.raw, 0, 0, size[0], size[1], 0, px, py,
                              ctypes.byref(dx), ctypes.byref(dy))
        xs.append(dx.value)
        ys.append(dy.value)
    return (max(0, min(xs)), max(0, min(ys)), min(size[0] - 1, max(xs)),
            min(size[1] - 1, max(ys)))


def _line_boxes(boxes: list[tuple[float, float, float, float]]
                ) -> list[tuple[float, float, float, float]]:
    """Character boxes (left, bottom, right, top in PDF units, reading order) merged
    into one box a line, padded a little as a highlighter stroke is. Merged in the
    page's own space, before rotation: there a line of text runs left to right."""
    lines: list[list[float]] = []
    for left, bottom, right, top in boxes:
        if right <= left or top <= bottom:
            continue  # a space or other empty glyph
        if lines:
            cur = lines[-1]
            height = max(cur[3] - cur[1], top - bottom)
            overlap = min(cur[3], top) - max(cur[1], bottom)
            # Same line: level with it and to the right of where it has got to (a jump
            # back left is the next line, or the next column).
            if overlap > 0.4 * height and left >= cur[2] - height:
                cur[0], cur[1] = min(cur[0], left), min(cur[1], bottom)
                cur[2], cur[3] = max(cur[2], right), max(cur[3], top)
                continue
        lines.append([left, bottom, right, top])
    out = []
    for left, bottom, right, top in lines:
        pad = 0.15 * (top - bottom)
        out.append((left - pad, bottom - pad, right + pad, top + pad))
    return out


def _one_line(exc: BaseException, limit: int = 100) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"
