"""Finding a report's structure from layout and language: headings and their levels,
paragraphs (joined across line and page breaks), bullet lists, tables, graded
judgments and the contents list. Works on cleaned pages (ingest/clean.py) and
knows no particular report's headings: levels come from the report's own contents
list when it has one, and from the form of the heading (inspection questions such
as "How effective is the force at ...?" are chapters) when it has none."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ingest.clean import Page
from ingest.pdf_layout import CAPTION_MARK, ROW_MARK

# The four-point scale, and "Adequate", which the five-point scale of PEEL 2021/22 adds.
GRADE_WORDS = r"(?:Outstanding|Good|Adequate|Requires improvement|Inadequate)"
_GRADE_BLOCK = re.compile(rf"^(?:{GRADE_WORDS}\s*)+$")
_GRADE_ITEM = re.compile(GRADE_WORDS)
_BULLET = re.compile(r"^\s*(?:[•·▪●◦‣–\-\*]|\d{1,2}[.)])\s+")
_QUESTION_HEADING = re.compile(
    r"^(?:How|What|To what extent|Is|Are|Does|Do|Why|Where|Which|Who)\b.{8,160}\?$"
)
# Generic front and back matter of inspection reports: used only when a report has
# no contents list to say which headings are chapters.
_GENERIC_CHAPTERS = re.compile(
    r"^(?:introduction|methodology|overview|foreword|executive summary|summary of findings|"
    r"conclusions?|contents|glossary|annex\b.*|appendix\b.*|about (?:this|the) .*|"
    r"what each judgment means|next steps|background|scope|terms of reference|"
    r"force in (?:context|numbers)|our judgements?|our judgments?)$",
    re.I,
)
#: A PEEL pillar as a chapter title ("Effectiveness", "Police legitimacy 2017"): the
#: integrated PEEL reports put each pillar's questions under such a heading.
PILLAR_HEADING = re.compile(
    r"^(?:police\s+)?(effectiveness|efficiency|legitimacy|leadership)"
    r"(?:\s+(?:19|20)\d{2}(?:/\d{2,4})?)?$", re.I)
#: A label printed beside the report's overall grade.
OVERALL_LABEL = re.compile(r"^overall\s+(?:judge?ment|grade|rating)s?\b", re.I)
_ROW = re.compile(
    r"^(?P<label>[A-Za-z(][^\t]*?[A-Za-z)*†‡])\s*[*†‡]?\s+"
    r"(?P<vals>(?:[-–]?[£$]?\d[\d,]*(?:\.\d+)?%?\s+){1,8}[-–]?[£$]?\d[\d,]*(?:\.\d+)?%?)\s*$"
)
#: A token that is a figure: "1,820", "$(20,532)", "12.5%", "(977)", "2022".
_FIGURE = re.compile(r"^[-–(]?[$€£]?\(?\d[\d,.]*\)?%?[,;]?$")
_SENTENCE_END = re.compile(r"[.!?:;]['’”)\]]*$")
_TOC_LINE = re.compile(
    r"^(.{3,160}?\S)(?:\s*[.·…]{2,}\s*|\s{2,}|\s+)(\d{1,3}|[ivxlc]{1,6})$", re.I)


@dataclass
class Block:
    """Consecutive non-blank lines of one page."""

    lines: list[str]
    page: int  # position in the page list
    first_on_page: bool = False
    last_on_page: bool = False
    #: (font size, bold) of each line where the reader knew them (PDFs), else None.
    styles: list[tuple[float, bool] | None] | None = None

    @property
    def text(self) -> str:
        return " ".join(ln.strip() for ln in self.lines)

    @property
    def words(self) -> int:
        return len(self.text.split())


@dataclass
class Element:
    """One structural element in reading order."""

    kind: str  # heading | paragraph | bullet | table | grades | grid | note
    text: str
    pages: list[int] = field(default_factory=list)
    level: int = 0
    grades: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    #: The block's lines as extracted (table headers need their cell gaps).
    raw: list[str] = field(default_factory=list)


def _split_table_lines(lines: list[str]) -> list[list[str]]:
    """Split a block where a run of table rows follows (or precedes) other lines, as
    PDF extraction gives a table without blank lines around it."""
    flags = [bool(_ROW.match(ln.strip())) for ln in lines]
    if sum(flags) < 2 or all(flags):
        return [lines]
    out: list[list[str]] = []
    cur: list[str] = []
    state = flags[0]
    for ln, f in zip(lines, flags):
        if f != state and cur:
            out.append(cur)
            cur = []
        state = f
        cur.append(ln)
    if cur:
        out.append(cur)
    return out


def _split_grade_lines(lines: list[str]) -> list[list[str]]:
    """Split a grade box off the labels set close around it ("Overall judgement" /
    "Good" / "Overall summary" with no gap, as some PDFs extract): in a block of short
    lines, a line that is only grade words is a block of its own."""
    if len(lines) < 2 or not any(_GRADE_BLOCK.match(ln.strip()) for ln in lines) or any(
            len(ln.split()) > 10 for ln in lines):
        return [lines]
    out: list[list[str]] = []
    cur: list[str] = []
    for ln in lines:
        if _GRADE_BLOCK.match(ln.strip()):
            if cur:
                out.append(cur)
            out.append([ln])
            cur = []
        else:
            cur.append(ln)
    if cur:
        out.append(cur)
    return out


def _grade_cells(lines: list[str]) -> list[str]:
    """A label and its grade set apart on one line ("Overall judgement    Good", as the
    PDF reader gives cells on one baseline) become two lines, as a grade box is."""
    out: list[str] = []
    for ln in lines:
        cells = re.split(r"\s{2,}", ln.strip())
        if len(cells) == 2 and _GRADE_BLOCK.match(cells[1]) and not _GRADE_BLOCK.match(cells[0]):
            out += cells
        else:
            out.append(ln)
    return out


def _blocks(pages: list[Page]) -> list[Block]:
    out: list[Block] = []
    for pi, page in enumerate(pages):
        cur: list[str] = []
        start = len(out)
        for ln in page.lines + [""]:
            if ln.strip():
                cur.append(ln.rstrip())
            elif cur:
                if page.styles:
                    # The PDF reader found this page's tables from positions already:
                    # the text-only row rules below would only misread its lines.
                    out.extend(Block(part, pi, styles=[page.styles.get(x.strip())
                                                       for x in part])
                               for part in _split_grade_lines(_grade_cells(cur)))
                else:
                    out.extend(Block(part, pi) for tp in _split_table_lines(cur)
                               for part in _split_grade_lines(tp))
                cur = []
        if len(out) > start:
            out[start].first_on_page = True
            out[-1].last_on_page = True
    return out


def normalise_heading(text: str) -> str:
    """Heading text on one line with single spaces."""
    return re.sub(r"\s+", " ", text).strip()


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def find_contents(blocks: list[Block]) -> tuple[list[str], set[int]]:
    """The report's contents list: entries (dot leaders and page numbers removed)
    and the positions of its blocks. Found as a block headed "Contents" or a block
    whose lines are tab-indented."""
    entries: list[str] = []
    used: set[int] = set()
    for bi, b in enumerate(blocks):
        lines = [ln for ln in b.lines if ln.strip()]
        if lines and lines[0][:1] in (ROW_MARK, CAPTION_MARK):
            continue  # a table the reader rebuilt: figures, not page numbers
        tabbed = sum(1 for ln in lines if ln.startswith("\t"))
        if _numbered_contents(lines):
            # Entries that end in page numbers in reading order (a contents page laid
            # out without a "Contents" title, or after it): the list, not sections.
            used.add(bi)
            entries.extend(_TOC_LINE.match(ln.strip()).group(1) for ln in lines
                           if _TOC_LINE.match(ln.strip()))
            continue
        # "Contents" as a title: a line of its own, no sentence punctuation.
        has_head = any(re.fullmatch(r"\s*(?:table of )?contents\s*", ln, re.I) for ln in lines)
        if not (has_head or (len(lines) >= 3 and tabbed >= 0.8 * len(lines))):
            continue
        if has_head and len(lines) == 1:
            # "Contents" alone: the entries are the following blocks that are short
            # titles or lines ending in page numbers.
            j = bi + 1
            while j < len(blocks):
                bl = [ln.strip() for ln in blocks[j].lines if ln.strip()]
                numbered = sum(1 for ln in bl if _TOC_LINE.match(ln))
                paged = sum(1 for ln in bl for m in [_TOC_LINE.match(ln)]
                            if m and m.group(2).isdigit())
                if blocks[j].page != b.page and paged < max(1, len(bl) * 0.6):
                    # The list ended with its page: what follows is the report ("PART
                    # I" on the next page reads like an entry numbered "I").
                    break
                if numbered >= max(1, len(bl) * 0.6):
                    entries.extend(_TOC_LINE.match(ln).group(1) if _TOC_LINE.match(ln)
                                   else ln for ln in bl)
                elif blocks[j].words <= 16 and not _SENTENCE_END.search(blocks[j].text):
                    entries.append(blocks[j].text)
                else:
                    break
                used.add(j)
                j += 1
            used.add(bi)
            continue
        used.add(bi)
        after = False if has_head else True
        for ln in lines:
            t = re.sub(r"[\s.·…]+\d+\s*$", "", ln.strip())
            if _key(t) == "contents":
                after = True
                continue
            if after and t:
                entries.append(normalise_heading(t))
    return entries, used


def _split_at(blocks: list[Block], outline: dict[str, int]) -> list[Block]:
    """Blocks cut before and after each line that is an outline entry's title ("PART I"
    set just above "ITEM 1. Business" is a heading of its own)."""
    if not outline:
        return blocks
    out: list[Block] = []
    for b in blocks:
        cut = [k for k, ln in enumerate(b.lines) if _key(ln) in outline]
        if not cut or len(b.lines) == 1:
            out.append(b)
            continue
        edges = sorted({0, len(b.lines), *cut, *(k + 1 for k in cut)})
        for lo, hi in zip(edges, edges[1:]):
            styles = b.styles[lo:hi] if b.styles is not None else None
            out.append(Block(b.lines[lo:hi], b.page, styles=styles))
    return out


def _numbered_contents(lines: list[str]) -> bool:
    """Four or more lines, most of them an entry and a page number, the numbers never
    going back: a contents list."""
    if len(lines) < 4:
        return False
    nums = [int(m.group(2)) for ln in lines for m in [_TOC_LINE.match(ln.strip())]
            if m and m.group(2).isdigit()]
    return len(nums) >= 0.7 * len(lines) and nums == sorted(nums) and len(set(nums)) > 1


def _is_heading(b: Block, nxt: Block | None) -> bool:
    t = b.text
    if b.words == 0 or b.words > 18 or len(b.lines) > 3:
        return False
    if _BULLET.match(b.lines[0]) or _GRADE_BLOCK.match(t) or _ROW.match(t):
        return False
    if sum(1 for tok in t.split() if _FIGURE.match(tok)) >= 3:
        return False  # a table row or a column header line, however it is set
    if not (t[0].isupper() or t[0].isdigit()):
        return False
    if re.match(r"^\d+(\.\d+)*\s", t) is None and t[0].isdigit():
        return False
    if t.endswith("?"):
        return bool(_QUESTION_HEADING.match(t))
    if _SENTENCE_END.search(t) or t.endswith(","):
        return False
    # A heading reads like a title, not the start of a sentence that runs on (on this
    # page or over the page break).
    if nxt is not None and nxt.lines and nxt.lines[0][:1].islower():
        return False
    if len(t) > 150:
        return False
    if re.search(r"\b(?:https?://|www\.)", t):
        return False
    return True


def _body_size(pages: list[Page]) -> float | None:
    """The body text's font size: the size most of the report's characters are set in
    (None for a report whose reader gave no styles)."""
    sizes: Counter = Counter()
    for p in pages:
        for text, (size, _bold) in p.styles.items():
            sizes[size] += len(text)
    return sizes.most_common(1)[0][0] if sizes else None


def _block_style(b: Block) -> tuple[float, bool] | None:
    """(largest size, all bold) of a block's lines, when the reader knew their style."""
    known = [s for s in (b.styles or []) if s is not None]
    if not known:
        return None
    return max(s[0] for s in known), all(s[1] for s in known)


def _styled_as_heading(b: Block, body_size: float | None) -> bool:
    """A heading must look like one where the layout is known: bold, or set larger than
    the body text. A short line in the body's font is a label, a caption or a table
    row, not a heading (they used to become headings from their length alone)."""
    style = _block_style(b)
    if style is None or not body_size:
        return True
    size, bold = style
    return bold or size >= body_size + 1


def _split_rows(b: Block) -> list[re.Match] | None:
    rows = [_ROW.match(ln.strip()) for ln in b.lines]
    return rows if rows and all(rows) else None


def _dehyphenate(lines: list[str], vocab: Counter) -> str:
    """Join a block's lines. A hyphen at a line end is kept when the report writes
    the hyphenated compound elsewhere (or the first part is a prefix that takes a
    hyphen), and removed when it writes the joined word elsewhere."""
    parts: list[str] = []
    for ln in lines:
        ln = ln.strip()
        if not ln:
            continue
        if not parts:
            parts.append(ln)
            continue
        # Only the tail of the previous piece matters (keeps this linear).
        m = re.search(r"(\w+)-$", parts[-1][-100:])
        n = re.match(r"([a-z]\w*)", ln)
        if m and n:
            a, b = m.group(1), n.group(1)
            if vocab[f"{a}-{b}".lower()] or a.lower() in _HYPHEN_PREFIXES:
                parts[-1] = parts[-1] + ln
            elif vocab[(a + b).lower()] or len(a) > 3:
                parts[-1] = parts[-1][:-1] + ln
            else:
                parts[-1] = parts[-1] + ln
        else:
            parts.append(ln)
    return re.sub(r"\s+", " ", " ".join(parts)).strip()


_HYPHEN_PREFIXES = {
    "anti", "non", "so", "co", "re", "pre", "self", "well", "multi", "cross", "inter",
    "semi", "sub", "post", "high", "low", "long", "short", "full", "part", "first",
    "under", "over", "mid", "ex", "good", "poor", "front", "one", "two", "three", "all",
    "half", "ill", "cyber", "counter", "child", "risk", "victim", "problem", "evidence",
    "community", "partner", "force", "police", "crime", "near", "far", "better", "best",
    "hate", "text", "e", "x", "t", "lower", "higher", "day", "age", "year", "time",
}


def _vocab(pages: list[Page]) -> Counter:
    c: Counter = Counter()
    for p in pages:
        for ln in p.lines:
            # Words inside lines only (not the broken ones at line ends).
            for w in re.findall(r"\w+(?:-\w+)*", ln.strip()[:-1] if ln.strip().endswith("-")
                                else ln):
                c[w.lower()] += 1
    return c


def _table_element(headers: list[Block], rows: list[re.Match], notes: list[str],
                   caption: str | None) -> str:
    """A table as text whose rows read on their own, e.g.
    "Crime excluding fraud — West Midlands Police 62.5, England and Wales 60.7
    (per 1,000 population, 12 months to June 2014)"."""
    ncols = len(rows[0].group("vals").split())
    heads = [normalise_heading(h.text) for h in headers][-ncols:] if headers else []
    cell_lines = [[c.strip() for c in re.split(r"\s{2,}", ln.strip()) if c.strip()]
                  for h in headers for ln in h.lines]
    if cell_lines and any(len(c) > 1 for c in cell_lines):
        # Header cells separated by wide gaps (PDF layout): line up each line's
        # cells from the right with the label column + value columns.
        cols = [""] * (ncols + 1)
        for cells in cell_lines:
            for k, cell in enumerate(reversed(cells[-(ncols + 1):])):
                cols[ncols - k] = (cols[ncols - k] + " " + cell).strip()
        heads = [re.sub(r"\(\s+", "(", c) for c in cols[1:]]
        # The label column's header matters only when it names the period.
        if re.search(r"\b(?:19|20)\d{2}\b", cols[0]):
            heads[0] = cols[0] + " " + heads[0]
    period = None
    unit = None
    names = []
    for h in heads:
        pm = re.search(r"\b(\d+ months to (?:the end of )?\w+ \d{4}|(?:19|20)\d{2}(?:/\d{2,4})?)\b",
                       h)
        if pm and period is None:
            period = pm.group(1)
        if pm and pm.group(1) == period:
            h = h.replace(pm.group(1), " ")
        um = re.search(r"\((per [^)]*)\)", h)
        if um:
            unit = unit or um.group(1)
            h = h.replace(um.group(0), " ")
        h = re.sub(r"\s+", " ", h).strip(" ,;:")
        h = re.sub(r"(?:\s+(?:total|overall))?\s+(?:rate|rates|figure|value|number)$", "", h,
                   flags=re.I)
        names.append(h)
    if len(names) != ncols:
        names = [f"column {i + 1}" for i in range(ncols)]
    lines = []
    if caption:
        lines.append(caption)
    for r in rows:
        vals = r.group("vals").split()
        # A row's caveat marker (*) is kept: it points at the note below the rows.
        starred = bool(re.search(r"[*†‡]\s+[\d-]", r.group(0)))
        label = r.group("label").strip().rstrip("*†‡ ")
        row_unit, row_period = unit, period
        if starred:
            # A marked row's unit and period are its own where the notes give them
            # ("the rate for burglary in a dwelling is the rate per 1,000 households");
            # a marked row the notes do not name gets none rather than the table's.
            said = _note_about(label, notes)
            if said is None:
                row_unit = row_period = None
            else:
                row_unit = said[0] or row_unit
                row_period = said[1] or row_period
        qual = ", ".join(x for x in (row_unit, row_period) if x)
        cells = ", ".join(f"{n} {v}" for n, v in zip(names, vals))
        lines.append(f"{label}{'*' if starred else ''} — {cells}"
                     + (f" ({qual})" if qual else ""))
    # The notes are the report's words, as printed.
    lines.extend(notes)
    return "\n".join(lines)


_NOTE_PERIOD = re.compile(r"\b(\d+ months to (?:the end of )?\w+ \d{4})\b")
_NOTE_UNIT = re.compile(r"\b(per (?:1,000|1000|100,000|100000) [a-z]+)\b", re.I)


def _note_about(label: str, notes: list[str]) -> tuple[str | None, str | None] | None:
    """What the table's notes say of one row: (unit, period) from the clause that names
    the row by the first two or more words of its label; None when no note names it."""
    words = label.lower().split()
    found = None
    for note in notes:
        for clause in re.split(r"\band\b|;|\.\s", note):
            low = " ".join(clause.lower().split())
            for n in range(len(words), 1, -1) if len(words) > 1 else (1,):
                if re.search(r"\b" + re.escape(" ".join(words[:n])) + r"\b", low):
                    um, pm = _NOTE_UNIT.search(clause), _NOTE_PERIOD.search(clause)
                    found = ((um.group(1) if um else None) or (found[0] if found else None),
                             (pm.group(1) if pm else None) or (found[1] if found else None))
                    break
    return found


def parse_structure(pages: list[Page]) -> tuple[list[Element], list[str]]:
    """Turn cleaned pages into structural elements in reading order, plus the
    contents entries. Headings carry level 1 (chapter) or 2 (subsection)."""
    # The PDF's outline, where it has one, names headings and their depth outright.
    outline = {_key(t): d for p in pages for d, t in p.outline if _key(t)}
    blocks = _split_at(_blocks(pages), outline)
    contents, used = find_contents(blocks)
    blocks = [b for i, b in enumerate(blocks) if i not in used]
    # A title page (cover) holds only short lines and no sentence: metadata, not text.
    for pi in sorted({b.page for b in blocks})[:2]:
        on = [b for b in blocks if b.page == pi]
        # (A page that is all the report has is its text, however short its lines.)
        if on and len(on) < len(blocks) and all(
            b.words <= 8 and not _SENTENCE_END.search(b.text) for b in on) and not any(
            _QUESTION_HEADING.match(b.text) for b in on
        ):
            blocks = [b for b in blocks if b.page != pi]
        else:
            break
    # Page-edge flags are about the content that remains.
    for i, b in enumerate(blocks):
        b.first_on_page = i == 0 or blocks[i - 1].page != b.page
        b.last_on_page = i == len(blocks) - 1 or blocks[i + 1].page != b.page
    toc = {_key(e) for e in contents}
    vocab = _vocab(pages)
    body_size = _body_size(pages)

    def level_of(text: str, style: tuple[float, bool] | None = None) -> int:
        k = _key(text)
        if k in outline:
            return 1 if outline[k] == 0 else 2
        if outline and not _QUESTION_HEADING.match(text):
            return 2  # the outline's top level names the chapters
        if style is not None and body_size and not _QUESTION_HEADING.match(text) and not (
                toc and k in toc):
            # From layout: the report's largest heading size marks its chapters.
            return 1 if top_size and style[0] >= top_size - 0.25 else 2
        if toc:
            if k in toc:
                return 1
            if _QUESTION_HEADING.match(text):
                return 1
            return 2
        if (_QUESTION_HEADING.match(text) or _GENERIC_CHAPTERS.match(text)
                or PILLAR_HEADING.match(text)):
            return 1
        return 2

    # 1. Classify blocks.
    kinds: list[str] = []
    for i, b in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if b.lines[0][:1] in (ROW_MARK, CAPTION_MARK):
            kinds.append("rebuilt")
        elif _GRADE_BLOCK.match(b.text):
            kinds.append("grades")
        elif b.styles is None and _split_rows(b):
            kinds.append("row")
        elif (_is_heading(b, nxt) and _styled_as_heading(b, body_size)) or (
                outline and _key(b.text) in outline and b.words <= 25):
            kinds.append("heading")
        elif _BULLET.match(b.lines[0]):
            kinds.append("bullet")
        else:
            kinds.append("para")

    # The largest size headings are set in, when it is larger than the body's.
    # (A size used for one heading only is the cover's title, not a chapter's.)
    heading_sizes = Counter(st[0] for b, k in zip(blocks, kinds) if k == "heading"
                            for st in [_block_style(b)] if st is not None)
    top_size = max((sz for sz, n in heading_sizes.items() if n >= 2), default=None)
    if top_size is not None and body_size and top_size < body_size + 1.5:
        top_size = None

    # 2. A heading left alone at the foot of a page whose top is not a heading was
    # drawn last by the PDF (chapter titles often are): it titles that page, so it
    # moves to the page's start.
    order = list(range(len(blocks)))
    for i, b in enumerate(blocks):
        if kinds[i] != "heading" or not b.last_on_page or b.first_on_page:
            continue
        # A grade box at the top of the next page is this heading's: the heading is
        # a graded chapter's title left at the page foot, not one drawn out of order.
        if i + 1 < len(blocks) and kinds[i + 1] == "grades":
            continue
        first = next(j for j in range(i, -1, -1) if blocks[j].first_on_page)
        if kinds[first] == "heading":
            continue
        order.remove(i)
        order.insert(order.index(first), i)

    elements: list[Element] = []
    seq = [(blocks[i], kinds[i]) for i in order]
    i = 0
    while i < len(seq):
        b, k = seq[i]
        pg = [b.page]
        if k == "rebuilt":
            _add_rebuilt_table(elements, b)
            i += 1
            continue
        if k == "row":
            rows: list[re.Match] = []
            j = i
            while j < len(seq) and seq[j][1] == "row":
                rows.extend(_split_rows(seq[j][0]))
                pg.append(seq[j][0].page)
                j += 1
            if len(rows) >= 2:
                # Column headers: the short title-like blocks just before the rows.
                headers: list[Block] = []
                while elements and elements[-1].kind in ("heading", "paragraph") and len(
                    headers
                ) < len(rows[0].group("vals").split()) and (
                    elements[-1].kind == "heading" or not _SENTENCE_END.search(
                        elements[-1].text)
                ) and len(elements[-1].text.split()) <= 20:
                    e = elements.pop()
                    headers.insert(0, Block(e.raw or [e.text], e.pages[0] if e.pages
                                            else b.page))
                caption = None
                if elements and elements[-1].kind == "paragraph" and re.search(
                    r"\btable\b", elements[-1].text, re.I
                ):
                    caption = elements.pop().text
                notes = []
                while j < len(seq) and seq[j][1] == "para" and re.match(
                    r"^[*†‡]|^Note", seq[j][0].text
                ):
                    notes.append(seq[j][0].text)
                    pg.append(seq[j][0].page)
                    j += 1
                elements.append(Element("table", _table_element(headers, rows, notes, caption),
                                        sorted(set(pg))))
                i = j
                continue
            k = "para"
        if k == "grades":
            elements.append(Element("grades", b.text, pg, grades=_GRADE_ITEM.findall(b.text)))
        elif k == "heading":
            text = normalise_heading(b.text)
            elements.append(Element("heading", text, pg, raw=b.lines,
                                    level=level_of(text, _block_style(b))))
        else:
            text = _dehyphenate(b.lines, vocab)
            kind = "bullet" if k == "bullet" else "paragraph"
            prev = elements[-1] if elements else None
            # A paragraph broken by a page break (or a displaced heading) carries on
            # when the previous one ends mid-sentence and this starts in lower case.
            if (prev is not None and prev.kind in ("paragraph", "bullet")
                    and not _SENTENCE_END.search(prev.text) and text[:1].islower()):
                prev.text = _dehyphenate([prev.text, text], vocab)
                prev.pages = sorted(set(prev.pages + pg))
            else:
                elements.append(Element(kind, text, pg, raw=b.lines))
        i += 1

    # A heading whose grade box follows it is a graded chapter (the graded areas of
    # PEEL 2021/22 are titles such as "Investigating crime", not questions), except a
    # label of the grade itself ("Overall judgement").
    for k, e in enumerate(elements[:-1]):
        if (e.kind == "heading" and e.level > 1 and elements[k + 1].kind == "grades"
                and not OVERALL_LABEL.match(e.text)):
            e.level = 1

    # 3. Several chapter questions in a row with no text between them are the
    # column heads of a judgment grid (the summary page), not sections.
    out: list[Element] = []
    i = 0
    while i < len(elements):
        e = elements[i]
        if e.kind == "heading" and _QUESTION_HEADING.match(e.text):
            j = i
            while j < len(elements) and elements[j].kind == "heading" and _QUESTION_HEADING.match(
                elements[j].text
            ):
                j += 1
            if j - i >= 2:
                qs = [x.text for x in elements[i:j]]
                grid = Element("grid", "", elements[i].pages, questions=qs)
                if j < len(elements) and elements[j].kind == "grades":
                    grid.grades = elements[j].grades
                    grid.pages = sorted(set(grid.pages + elements[j].pages))
                    j += 1
                out.append(grid)
                i = j
                continue
        out.append(e)
        i += 1
    # Footnotes become notes placed after the paragraph that cites them.
    return out, contents


def _add_rebuilt_table(elements: list[Element], b: Block) -> None:
    """A table the PDF reader rebuilt from positions (one marked line a row, an optional
    marked caption first). A table that carries on from the foot of the previous page,
    with nothing but page furniture between, stays one table (its repeated caption
    is dropped)."""
    caption = [ln[1:].strip() for ln in b.lines if ln.startswith(CAPTION_MARK)]
    rows = [ln[1:].strip() for ln in b.lines if ln.startswith(ROW_MARK)]
    prev = elements[-1] if elements else None
    if (prev is not None and prev.kind == "table" and prev.raw == ["rebuilt"]
            and b.first_on_page and prev.pages and prev.pages[-1] == b.page - 1):
        prev_caption = prev.text.split("\n", 1)[0]
        keep = [c for c in caption if c != prev_caption]
        prev.text += "\n" + "\n".join(keep + rows)
        prev.pages = sorted(set(prev.pages + [b.page]))
        return
    elements.append(Element("table", "\n".join(caption + rows), [b.page], raw=["rebuilt"]))


def attach_footnotes(elements: list[Element], pages: list[Page]) -> list[Element]:
    """Insert each page's footnotes as note elements after the last text element of
    that page, so reading order is kept (the markers were removed during cleaning)."""
    out = list(elements)
    for pi, page in enumerate(pages):
        if not page.footnotes:
            continue
        last = max((k for k, e in enumerate(out) if pi in e.pages and e.kind in (
            "paragraph", "bullet", "table")), default=len(out) - 1)
        for n, text in sorted(page.footnotes.items()):
            last += 1
            out.insert(last, Element("note", f"Note {n}: {text}", [pi]))
    return out
