"""Structural elements → citable passages: split inside sections on paragraph and
sentence boundaries (never across sections), about 60–250 words, each with its
section path, printed page labels and kind. The report's metadata (title, force,
year, programme, graded judgments) is ingest/metadata.py's; its two functions are
re-exported here for the callers that import them from this module."""

from __future__ import annotations

import re
from dataclasses import replace

from core.models import Passage, Report, passage_id
from ingest.clean import Page
from ingest.metadata import report_key, report_metadata
from ingest.sections import Element

__all__ = ["INGEST_VERSION", "build_passages", "passage_sentences", "report_key",
           "report_metadata", "split_sentences"]

#: Bumped whenever ingestion changes what passages a file gives: an index built by
#: another version re-ingests every report (cached vectors keep that cheap).
INGEST_VERSION = 8

_SENT_SPLIT = re.compile(r"(?<=[.!?])['’”)]?\s+(?=[A-Z0-9‘“(•])")


def split_sentences(text: str) -> list[str]:
    """Sentences of a paragraph (a light rule: terminal punctuation, then a capital)."""
    parts = _SENT_SPLIT.split(text.strip())
    return [p.strip() for p in parts if p.strip()]


def passage_sentences(text: str) -> list[str]:
    """The sentences of a passage, with table rows and list items (one per line) kept
    whole. The one splitter: the index embeds these, and search scores and highlights
    the same units, so build and query always agree."""
    out = []
    for line in text.split("\n"):
        out.extend(split_sentences(line))
    return out or [text]


def _words(text: str) -> int:
    return len(text.split())


def _kind_for(section: tuple[str, ...], element: Element) -> str:
    if element.kind in ("table", "note"):
        return element.kind
    name = section[-1].lower() if section else ""
    # PEEL reports list what a force must do under "Areas for improvement" and
    # "Causes of concern"; they are recommendations as much as "Recommendations" are.
    if re.search(r"recommendation|areas? for improvement|causes? (?:of|for) concern", name
                 ) or re.match(
        r"^\W*within \w+ (?:months|weeks)\b.{0,80}\bshould\b", element.text, re.I
    ):
        return "recommendation"
    if "summary" in name or "key findings" in name or "conclusion" in name:
        return "summary"
    return "paragraph"


def _units(text: str, max_words: int) -> list[str]:
    """A paragraph, or its sentence-bounded pieces when it is longer than max_words."""
    if _words(text) <= max_words:
        return [text]
    out: list[str] = []
    cur: list[str] = []
    n = 0
    sentences = []
    for sent in split_sentences(text):
        # Text without sentence ends (lists run together, tables flattened) is cut
        # at word boundaries so no passage outgrows what the model reads.
        words = sent.split()
        sentences += [" ".join(words[i:i + max_words]) for i in range(0, len(words), max_words)]
    target = _words(text) / -(-_words(text) // max_words)  # balanced pieces
    for s in sentences:
        w = _words(s)
        if cur and (n + w > max_words or n >= target):
            out.append(" ".join(cur))
            cur, n = [], 0
        cur.append(s)
        n += w
    if cur:
        out.append(" ".join(cur))
    return out


def _table_units(text: str, max_words: int) -> list[str]:
    """A table, or pieces of whole rows when it is longer than max_words; the caption
    line (a first line that is not a row: units, period) opens every piece, so each
    passage says what its figures are."""
    lines = text.split("\n")
    if _words(text) <= max_words or len(lines) < 2:
        return [text] if _words(text) <= max_words else _units(text, max_words)
    caption = [lines[0]] if " — " not in lines[0] else []
    rows = lines[len(caption):]
    out: list[list[str]] = []
    n = 0
    budget = max_words - _words(caption[0]) if caption else max_words
    for row in rows:
        w = _words(row)
        if out and n + w <= budget:
            out[-1].append(row)
            n += w
        else:
            out.append([row])
            n = w
    return ["\n".join(caption + piece) for piece in out]


#: A unit shorter than this is a fragment (a caption, a lone row, "Not applicable."):
#: on its own it answers nothing and crowds out real passages.
FRAGMENT_WORDS = 10


def _join_fragments(units: list[tuple[str, str, list[int]]]) -> None:
    """Join each fragment of a section to its neighbour in place: a table's caption or
    note to the table, a short line to the paragraph before it (or after it when it
    comes first). The joined unit keeps the larger part's kind; text is not changed,
    only put on its own line beside its neighbour's."""
    i = 0
    while len(units) > 1 and i < len(units):
        text, kind, pgs = units[i]
        if _words(text) >= FRAGMENT_WORDS:
            i += 1
            continue
        nxt = units[i + 1] if i + 1 < len(units) else None
        # A caption before a table goes with the table; otherwise the unit before.
        if i > 0 and not (nxt is not None and nxt[1] == "table" and kind != "table"):
            ptext, pkind, ppgs = units[i - 1]
            units[i - 1] = (f"{ptext}\n{text}", pkind, ppgs + pgs)
            del units[i]
        else:
            ntext, nkind, npgs = units[i + 1]
            units[i + 1] = (f"{text}\n{ntext}", nkind, pgs + npgs)
            del units[i]


def _join_lone_fragments(passages: list[Passage], content_hash: str, max_words: int
                         ) -> list[Passage]:
    """A section whose whole text is a fragment ("ITEM 4. MINE SAFETY DISCLOSURES" /
    "Not applicable.") joins the passage before it (the first section's, the one after),
    with its heading as a line of its own so the words still say what it answers."""
    out: list[Passage] = []
    counts: dict[tuple[str, ...], int] = {}
    for p in passages:
        counts[p.section] = counts.get(p.section, 0) + 1

    def merged(host: Passage, frag: Passage, before: bool) -> Passage:
        piece = "\n".join(([frag.section[-1]] if frag.section else []) + [frag.text])
        text = f"{piece}\n{host.text}" if before else f"{host.text}\n{piece}"
        return replace(host, text=text,
                       passage_id=passage_id(content_hash, host.section, text),
                       page_labels=tuple(dict.fromkeys(host.page_labels + frag.page_labels)),
                       pdf_pages=tuple(sorted(set(host.pdf_pages + frag.pdf_pages))))

    def fits(host: Passage, frag: Passage) -> bool:
        return (host.kind not in ("table", "note", "judgment")
                and _words(host.text) + _words(frag.text) <= max_words + 60)

    waiting: Passage | None = None  # a lone fragment before any passage could take it
    for p in passages:
        lone = _words(p.text) < FRAGMENT_WORDS and counts[p.section] == 1 and p.kind in (
            "paragraph", "summary", "recommendation")
        if lone and out and fits(out[-1], p):
            out[-1] = merged(out[-1], p, before=False)
            continue
        if lone and not out and waiting is None:
            waiting = p
            continue
        if waiting is not None:
            if fits(p, waiting):
                p = merged(p, waiting, before=True)
            else:
                out.append(waiting)
            waiting = None
        out.append(p)
    if waiting is not None:
        out.append(waiting)
    return [replace(p, order=k) for k, p in enumerate(out)]


def build_passages(
    elements: list[Element],
    pages: list[Page],
    report: Report,
    *,
    min_words: int = 60,
    max_words: int = 250,
    target_words: int = 160,
) -> list[Passage]:
    """Group the text elements of each section into passages."""
    passages: list[Passage] = []
    section: tuple[str, ...] = ()
    # (text, kind, page positions) waiting to be packed for the current section.
    pending: list[tuple[str, str, list[int]]] = []

    def make(text: str, kind: str, pgs: list[int], sec: tuple[str, ...]) -> None:
        pgs = sorted(set(pgs))
        labels = tuple(dict.fromkeys(pages[p].label or "" for p in pgs))
        passages.append(Passage(
            passage_id=passage_id(report.content_hash, sec, text),
            report_id=report.report_id, report_title=report.title, force=report.force,
            year=report.year, inspection_type=report.inspection_type, section=sec,
            page_labels=tuple(x for x in labels if x), pdf_pages=tuple(pages[p].index + 1
                                                                        for p in pgs),
            kind=kind, text=text, source_file=report.source_file, order=len(passages),
        ))

    def flush() -> None:
        _join_fragments(pending)
        groups: list[list[tuple[str, str, list[int]]]] = []
        cur: list[tuple[str, str, list[int]]] = []
        n = 0
        for unit in pending:
            w = _words(unit[0])
            # Tables, notes and kind changes stand on their own.
            solo = unit[1] in ("table", "note")
            if cur and (solo or cur[-1][1] in ("table", "note") or cur[-1][1] != unit[1]
                        or n + w > max_words or n >= target_words):
                groups.append(cur)
                cur, n = [], 0
            cur.append(unit)
            n += w
        if cur:
            groups.append(cur)
        # A short tail joins the group before it when they fit together.
        merged: list[list[tuple[str, str, list[int]]]] = []
        for g in groups:
            gw = sum(_words(u[0]) for u in g)
            if (merged and gw < min_words and g[0][1] == merged[-1][0][1]
                    and g[0][1] not in ("table", "note")
                    and gw + sum(_words(u[0]) for u in merged[-1]) <= max_words + 60):
                merged[-1].extend(g)
            else:
                merged.append(g)
        for g in merged:
            text = "\n".join(u[0] for u in g)
            make(text, g[0][1], [p for u in g for p in u[2]], section)
        pending.clear()

    for e in elements:
        if e.kind == "heading":
            flush()
            if e.level <= 1:
                section = (e.text,)
            else:
                section = (section[0], e.text) if section else (e.text,)
            continue
        if e.kind in ("grades", "grid"):
            continue
        kind = _kind_for(section, e)
        split = _table_units if e.kind == "table" else _units
        for u in split(e.text, max_words):
            pending.append((u, kind, e.pages))
    flush()
    passages[:] = _join_lone_fragments(passages, report.content_hash, max_words)

    # The graded judgments are a passage of their own (kind "judgment").
    if report.judgments:
        jp = [i for i, e in enumerate(elements) if e.kind in ("grid", "grades")]
        first = elements[jp[0]] if jp else None
        lines = [f"{report.force} — graded judgments ({report.title}):"]
        lines += [f"{q} {g}." for q, g in report.judgments]
        if report.overall_judgment:
            how = ("" if report.overall_judgment_source == "printed"
                   else " (each question graded the same; no separate overall grade printed)")
            lines.append(f"Overall judgment: {report.overall_judgment}{how}.")
        sec = _judgment_section(elements)
        make("\n".join(lines), "judgment", first.pages if first else [0], sec)
    return passages


def _judgment_section(elements: list[Element]) -> tuple[str, ...]:
    section: tuple[str, ...] = ()
    for e in elements:
        if e.kind == "heading":
            section = (e.text,) if e.level <= 1 else ((section[0], e.text) if section
                                                      else (e.text,))
        if e.kind in ("grid", "grades"):
            return section
    return section
