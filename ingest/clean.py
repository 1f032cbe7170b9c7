"""Cleaning that real extracted reports need, page by page: character normalisation,
pages the extractor repeated, running headers/footers and printed page numbers,
printed page labels, and footnotes. Pure functions over lists of lines."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

from core.models import RawPage
from ingest.pdf_layout import CAPTION_MARK, ROW_MARK

# Hyphen look-alikes become "-"; en/em dashes are kept (titles use them) but NFKC
# would leave the non-breaking hyphen (U+2011) as U+2010, which search would miss.
_CHAR_MAP = {
    "\u2010": "-", "\u2011": "-", "\u00ad": "", "\u00a0": " ", "\u202f": " ",
    "\u2009": " ", "\u200b": "", "\ufeff": "",
}
# Bidi controls (e.g. right-to-left override) can reorder what a reader sees; they
# carry no meaning in these reports, so they are dropped.
_BIDI = dict.fromkeys(
    map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"))


def normalise_chars(text: str) -> str:
    """NFKC (ligatures, full-width forms), hyphen look-alikes, odd spaces, bidi and
    other control characters. Curly quotes are kept for display; search folds them."""
    text = unicodedata.normalize("NFKC", text)
    text = text.translate(_BIDI)
    for a, b in _CHAR_MAP.items():
        text = text.replace(a, b)
    return "".join(ch for ch in text
                   if ch in _KEEP or unicodedata.category(ch)[0] != "C")


#: Newlines, tabs and the reader's table marks (private-use characters that say a line
#: is a rebuilt table row or caption) survive cleaning.
_KEEP = frozenset("\n\t" + ROW_MARK + CAPTION_MARK)
_MARKS = (ROW_MARK, CAPTION_MARK)


@dataclass
class Page:
    """A cleaned page: its lines (page furniture removed), PDF index, printed label,
    the running header text it carried, and footnotes found at its foot."""

    index: int
    lines: list[str]
    label: str | None = None
    header: str | None = None
    footnotes: dict[str, str] = field(default_factory=dict)
    #: Stripped line text → (font size in points, bold), where the reader knew them.
    styles: dict[str, tuple[float, bool]] = field(default_factory=dict)
    #: (depth, title) of the PDF outline entries that point at this page.
    outline: list[tuple[int, str]] = field(default_factory=list)


_PAGE_NO = re.compile(r"^(?:page\s+)?(\d{1,4}|[ivxlcdm]{1,7})(?:\s+of\s+\d+)?$", re.I)


def _is_page_number(line: str) -> bool:
    return bool(_PAGE_NO.match(line.strip()))


def _squash(line: str) -> str:
    return re.sub(r"\s+", " ", line).strip().lower()


def _title_like(squashed: str) -> bool:
    """Whether a line could be a running header or footer: short, not ending like a
    sentence or a clause, and with no sentence break inside. Formulaic body lines
    recur at page edges too ("had completed the new training."), and are text."""
    return (len(squashed) <= 120 and not squashed.endswith((".", ",", ";"))
            and not re.search(r"\w[.!?]['’”)]? +\S", squashed))


def drop_repeated_pages(pages: list[list[str]]) -> list[list[str]]:
    """Remove text the extractor emitted twice: a page whose opening lines repeat the
    whole of an earlier page loses that copy (what follows it is kept as the page)."""
    out: list[list[str]] = []
    # Each kept page's squashed non-blank lines, and the kept pages by first line:
    # squashing every earlier page again for every page took seconds on 500 pages.
    squashed: list[list[str]] = []
    by_first: dict[str, list[int]] = {}
    for lines in pages:
        content = [_squash(ln) for ln in lines if ln.strip()]
        for k in by_first.get(content[0], []) if content else []:
            pc = squashed[k]
            if len(pc) >= 5 and len(content) >= len(pc) and content[: len(pc)] == pc:
                # Cut after the copied lines, keeping the remainder's blank structure.
                seen = 0
                for i, ln in enumerate(lines):
                    if ln.strip():
                        seen += 1
                    if seen == len(pc):
                        lines = lines[i + 1 :]
                        break
                content = content[len(pc) :]
                break
        if content:
            out.append(lines)
            squashed.append(content)
            by_first.setdefault(content[0], []).append(len(out) - 1)
    return out


def _edge_indices(lines: list[str], n: int = 3) -> tuple[list[int], list[int]]:
    # A table row the reader rebuilt is never page furniture (rows of one table all
    # look alike once their figures are masked).
    idx = [i for i, ln in enumerate(lines) if ln.strip() and ln[:1] not in _MARKS]
    return idx[:n], idx[-n:]


def _apart_from_body(lines: list[str], i: int, top: bool) -> bool:
    """Whether line i stands apart from the body text: a blank line (or the page's
    edge) on the body side — below it at the top of the page, above it at the foot. A
    number inside a paragraph ("recorded" / "12" / "burglaries") is text, not a page
    number."""
    j = i + 1 if top else i - 1
    return not 0 <= j < len(lines) or not lines[j].strip()


def strip_furniture(pages: list[list[str]]) -> list[tuple[list[str], str | None, str | None]]:
    """Remove running headers/footers and printed page numbers from each page.

    A page number is a bare number (or "Page N") among a page's first or last three
    lines. A running header is a short line beside such a number, or a short line
    that recurs at the top or bottom of at least three pages. Returns, per page, the
    remaining lines, the printed number found (if any) and the header text."""
    edge_counts: Counter[str] = Counter()
    exact_counts: Counter[str] = Counter()
    for lines in pages:
        top, bottom = _edge_indices(lines, 2)
        for i in set(top + bottom):
            s = _squash(lines[i])
            if not _is_page_number(s):
                edge_counts[re.sub(r"\d+", "#", s)] += 1
                exact_counts[s] += 1
    recurring = {s for s, c in edge_counts.items()
                 if c >= 3 and c >= len(pages) * 0.3 and _title_like(s)}

    result = []
    for lines in pages:
        lines = list(lines)
        top, bottom = _edge_indices(lines, 3)
        drop: set[int] = set()
        number = None
        header = None
        for zone in (top, bottom):
            for pos, i in enumerate(zone):
                s = lines[i].strip()
                if _is_page_number(s) and number is None and _apart_from_body(
                        lines, i, zone is top):
                    number = _PAGE_NO.match(s).group(1)
                    drop.add(i)
                    # The neighbouring short line in the same zone is the running header.
                    for j in (zone[pos - 1] if pos > 0 else None,
                              zone[pos + 1] if pos + 1 < len(zone) else None):
                        if j is None or j in drop:
                            continue
                        t = lines[j].strip()
                        if 0 < len(t) <= 120 and not t.endswith((".", ",", ";")) and (
                            zone is top and j < i or zone is bottom and j > i
                        ):
                            drop.add(j)
                            header = t
                        break
            for i in zone:
                if re.sub(r"\d+", "#", _squash(lines[i])) in recurring and i not in drop:
                    header = header or lines[i].strip()
                    drop.add(i)
                    t = re.sub(r"\D", "", lines[i])
                    # "Report title 12" style footers carry the number in the line —
                    # unless the line is the same on several pages: then its number
                    # is part of the title ("… inspection 2017"), not a page number.
                    if (number is None and t and len(t) <= 4
                            and exact_counts[_squash(lines[i])] < 3
                            and re.search(r"\d+\s*$", lines[i])):
                        number = re.search(r"(\d+)\s*$", lines[i]).group(1)
        result.append(([ln for i, ln in enumerate(lines) if i not in drop], number, header))
    return result


def assign_labels(found: list[str | None], given: list[str | None]) -> list[str | None]:
    """Printed page label for every page. Labels the file declares (PDF /PageLabels)
    win; otherwise printed numbers read from headers/footers are anchors, and pages
    between anchors count on from the nearest anchor (pages before the first numbered
    page are numbered backwards from it while that stays >= 1)."""
    labels: list[str | None] = list(given)
    # Declared labels that contradict most of the numbers printed on the pages are
    # nonsense (a tool's default "1, 2, 3..." from the cover on, or stray letters):
    # the printed numbers are what a reader of the report sees, so they win then.
    both = [(f, g) for f, g in zip(found, given) if f is not None and g is not None]
    if len(both) >= 2 and sum(f.lower() != g.lower() for f, g in both) * 2 > len(both):
        labels = [None] * len(given)
    elif all(g is not None for g in given):
        return labels
    anchors = [(i, int(n)) for i, n in enumerate(found) if n is not None and n.isdigit()]
    if not anchors:
        return labels
    for i in range(len(found)):
        if labels[i] is not None:
            continue
        before = [(a, n) for a, n in anchors if a <= i]
        a, n = before[-1] if before else anchors[0]
        value = n + (i - a)
        labels[i] = str(value) if value >= 1 else None
    return labels


_FOOTNOTE = re.compile(r"^(\d{1,2})\s+(\S.*)$")


def _marker_re(n: str) -> re.Pattern:
    # A footnote marker is the number glued to the end of a word or after closing
    # punctuation ("kits1", "programme2", "examinations.3").
    # A number after a dot counts only when a letter precedes the dot, so decimals
    # ("55.1") are never mistaken for markers.
    return re.compile(rf"(?:(?<=[A-Za-z\)\]’”'])|(?<=[A-Za-z][.,;:])){n}(?=[\s,.;:)]|$)")


def extract_footnotes(lines: list[str], carried: set[str] | None = None
                      ) -> tuple[list[str], dict[str, str]]:
    """Find footnotes on a page: a paragraph starting "N text" whose number N is
    glued to a word on the page as a marker. Returns the lines with footnote
    paragraphs and markers removed, and {N: footnote text}."""
    blocks: list[list[int]] = []
    cur: list[int] = []
    for i, ln in enumerate(lines):
        if ln.strip():
            cur.append(i)
        elif cur:
            blocks.append(cur)
            cur = []
    if cur:
        blocks.append(cur)
    notes: dict[str, str] = {}
    drop: set[int] = set()
    body = "\n".join(lines)
    for blk in blocks:
        m = _FOOTNOTE.match(lines[blk[0]].strip())
        if not m:
            continue
        n = m.group(1)
        # Numbers followed by more numbers are table rows or lists, not footnotes.
        if re.match(r"^\d{1,2}\s+[\d.,%]+(\s|$)", lines[blk[0]].strip()):
            continue
        if not _marker_re(n).search(body) and n not in (carried or set()):
            continue
        text = " ".join([m.group(2).strip()] + [lines[j].strip() for j in blk[1:]])
        notes[n] = re.sub(r"\s+", " ", text)
        drop.update(blk)
    kept = [ln for i, ln in enumerate(lines) if i not in drop]
    for n in notes:
        rx = _marker_re(n)
        kept = [rx.sub("", ln) for ln in kept]
    return kept, notes


def clean_pages(raw: list[RawPage]) -> list[Page]:
    """Apply all page-level cleaning to a reader's pages, in order."""
    norm = [normalise_chars(p.text).split("\n") for p in raw]
    kept = drop_repeated_pages(norm)
    # drop_repeated_pages may return a shortened copy; map back by position.
    sources: list[RawPage] = []
    ri = 0
    for lines in kept:
        while ri < len(norm) and not (norm[ri] is lines or _tail_of(norm[ri], lines)):
            ri += 1
        sources.append(raw[min(ri, len(raw) - 1)])
        ri += 1
    stripped = strip_furniture(kept)
    labels = assign_labels([n for _, n, _ in stripped], [s.label for s in sources])
    pages = []
    for (lines, _, header), label, src in zip(stripped, labels, sources):
        lines, notes = extract_footnotes(lines)
        styles = {normalise_chars(t).strip(): (size, bold) for t, size, bold in src.styles}
        pages.append(Page(index=src.index, lines=lines, label=label, header=header,
                          footnotes=notes, styles=styles,
                          outline=[(d, normalise_chars(t)) for d, t in src.outline]))
    return pages


def _tail_of(full: list[str], part: list[str]) -> bool:
    return len(part) <= len(full) and full[len(full) - len(part):] == part
